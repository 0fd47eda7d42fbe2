// Operations screens in Debian's Chromium (playwright-core) against the browser-served UI of a
// real in-process hub, with real devices on the published azure-iot-device SDK over MQTT:
// a reboot job with a rollout rate and an abort threshold built in the form, reviewed, and
// watched live until the threshold stops it; a job scheduled a little ahead shown as
// scheduled, then running to completion; a configuration with a custom metric whose counts
// follow the devices, edited (priority, target); and a device export downloaded and parsed.
// Waits on DOM state only; screenshots go to test-results/ui/.
import { readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseImport } from '../../src/renderer/src/lib/import.js'
import { CleanupStack, REPO_ROOT } from '../helpers/hub.js'
import { openClient } from '../helpers/sdk.js'
import { buildRenderer, CHROMIUM_ARGS, signIn, startUiHub, type UiHub } from './support.js'

const shots = join(REPO_ROOT, 'test-results', 'ui')
const suite = new CleanupStack()
let ctx: BrowserContext
let page: Page
let env: UiHub
const problems: string[] = []
/** Devices that answer reboot; the others never answer it (the hub times them out). */
const ANSWERING = ['ops-1', 'ops-3', 'ops-5']
const SILENT = ['ops-2', 'ops-4', 'ops-6']

beforeAll(async () => {
  const staticDir = buildRenderer(suite.defer)
  mkdirSync(shots, { recursive: true })
  env = await startUiHub(suite.defer, { staticDir })
  const ca = await env.hub.ca()
  for (const [i, id] of [...ANSWERING, ...SILENT].sort().entries()) {
    const cs = await env.hub.addDevice(id)
    await env.hub.hub.twins.patchTags({ deviceId: id }, { group: 'ops', half: i < 3 ? 1 : 2 })
    const client = await openClient(cs, { ca, defer: suite.defer, noOpen: true })
    if (ANSWERING.includes(id)) client.onDeviceMethod('reboot', (_req, res) => { void res.send(200, { rebooted: true }) })
    else client.onDeviceMethod('selfTest', (_req, res) => { void res.send(200, {}) }) // subscribed to methods, but no reboot handler
    await client.open()
    // every device reports back what it is told (so configuration metrics can count it)
    const twin = await client.getTwin()
    twin.on('properties.desired', (delta: Record<string, unknown>) => {
      const { $version: _v, ...rest } = delta
      twin.properties.reported.update(rest, () => {})
    })
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'sitehub-chromium-'))
  suite.defer(() => { rmSync(userDataDir, { recursive: true, force: true }) })
  ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1366, height: 768 }, acceptDownloads: true
  })
  suite.defer(() => ctx.close())
  page = ctx.pages()[0] ?? await ctx.newPage()
  page.on('console', m => { if (m.type() === 'error') problems.push(m.text()) })
  page.on('pageerror', e => { problems.push(e.message) })
  await page.goto(env.ui.url)
  await signIn(page, env)
}, 180_000)

afterAll(() => suite.run(), 60_000)

async function shot (name: string): Promise<void> {
  await page.evaluate("document.querySelector('.app').style.height = 'auto'")
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  await page.evaluate("document.querySelector('.app').style.height = ''")
}

/** `datetime-local` value `ms` from now, in the browser's zone. */
async function localInput (msFromNow: number): Promise<string> {
  return await page.evaluate(`(() => {
    const d = new Date(Date.now() + ${msFromNow})
    const p = n => String(n).padStart(2, '0')
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds())
  })()`) as string
}

describe('operations screens in Chromium', () => {
  it('builds a reboot job with a rate and an abort threshold, reviews it, and watches it live until the threshold stops it', async () => {
    await page.goto(`${env.ui.url}#/jobs`)
    await page.getByTestId('jobs-empty').waitFor()
    await page.getByTestId('job-query').fill("tags.group = 'ops'")
    await page.locator('[data-testid="job-target-count"]', { hasText: 'Matches 6 devices now.' }).waitFor()
    await page.getByTestId('job-timeout').fill('5')
    await page.getByTestId('job-rate').fill('60')
    await page.getByTestId('job-use-abort').check()
    await page.getByTestId('job-abort-percent').fill('30')
    await page.getByTestId('job-abort-min').fill('4')
    // a bad value is explained before anything is sent
    await page.getByTestId('job-abort-percent').fill('150')
    await page.locator('[data-testid="job-plan-problem"]', { hasText: 'at most 100' }).waitFor()
    expect(await page.getByTestId('job-review').isDisabled()).toBe(true)
    await page.getByTestId('job-abort-percent').fill('30')
    await page.getByTestId('job-review').click()
    const summary = page.getByTestId('job-summary')
    await summary.waitFor()
    expect(await summary.innerText()).toContain('This job runs reboot on 6 devices, 60 per minute, stops if 30% or more fail (counted once 4 devices finished), gives up after 1 hour.')
    await shot('jobs-review')
    // record every count line the page shows while the job runs: it must move without a reload
    await page.evaluate(`window.__counts = new Set(); new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid="job-counts"]')) window.__counts.add(el.textContent)
    }).observe(document.body, { subtree: true, childList: true, characterData: true })`)
    await page.getByTestId('job-create').click()
    const job = page.locator('[data-testid="job"]').first()
    await job.locator('[data-testid="job-phase"]', { hasText: 'running' }).waitFor()
    expect(await job.getByTestId('job-plan').innerText()).toBe('60/min · stops at 30% failed')
    await page.locator('[data-testid="job"][data-phase="aborted"]').waitFor({ timeout: 90_000 })
    expect(await job.getByTestId('job-phase').innerText()).toBe('aborted')
    expect(await job.getByTestId('job-reason').innerText()).toMatch(/^Aborted: \d of \d finished devices failed/)
    const counts = await page.evaluate('[...window.__counts]') as string[]
    expect(counts.length).toBeGreaterThanOrEqual(3) // several live steps, not just the first and last
    // per-device results: the answering devices succeeded, the silent ones timed out or were never started
    // (calls in flight when the job stopped still end with their real result, live)
    for (const id of SILENT) await job.locator('[data-testid="job-devices"] tr', { hasText: new RegExp(`^${id}\\s*(failed GatewayTimeout|canceled)`) }).waitFor({ timeout: 30_000 })
    for (const id of ANSWERING) await job.locator('[data-testid="job-devices"] tr', { hasText: new RegExp(`^${id}\\s*(completed\\s*200|canceled)`) }).waitFor({ timeout: 30_000 })
    expect(env.hub.hub.jobs.query().items[0]).toMatchObject({ status: 'failed', devicesPerMinute: 60, abortThreshold: { failurePercent: 30, minDevices: 4 } })
    await shot('jobs-aborted')
  }, 150_000)

  it('schedules a twin change a little ahead: shown as scheduled with its UTC time, then it runs to completion', async () => {
    await page.goto(`${env.ui.url}#/jobs`)
    await page.locator('[data-testid="job"]').first().waitFor()
    await page.getByRole('radio', { name: 'Change desired properties' }).check()
    await page.getByTestId('job-query').fill("tags.half = 1")
    await page.locator('[data-testid="job-target-count"]', { hasText: 'Matches 3 devices now.' }).waitFor()
    await page.getByTestId('job-desired').fill('{"shift": "night"}')
    await page.getByTestId('job-when-at').check()
    await page.getByTestId('job-start').fill(await localInput(25_000))
    expect(await page.getByTestId('job-start-utc').innerText()).toMatch(/the hub keeps UTC: \d{4}-\d\d-\d\d \d\d:\d\d UTC/)
    await page.getByTestId('job-use-window').check()
    await page.getByTestId('job-window-start').fill('00:00')
    await page.getByTestId('job-window-end').fill('00:00') // start = end: open around the clock
    await page.getByTestId('job-window-zone').fill('Europe/Berlin')
    await page.getByTestId('job-review').click()
    expect(await page.getByTestId('job-summary').innerText()).toMatch(/changes desired properties on 3 devices, from \d{4}-\d\d-\d\d \d\d:\d\d UTC, only 00:00-00:00 Europe\/Berlin/)
    await page.getByTestId('job-create').click()
    const job = page.locator('[data-testid="job"]').first()
    await job.locator('[data-testid="job-phase"]', { hasText: 'scheduled' }).waitFor()
    expect(await job.getByTestId('job-when').innerText()).toMatch(/^Starts .* \(your time\) = \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/)
    await shot('jobs-scheduled')
    await page.locator('[data-testid="job"][data-type="twin"][data-phase="completed"], [data-testid="job"][data-phase="completed"]').first().waitFor({ timeout: 90_000 })
    expect(await job.getAttribute('data-phase')).toBe('completed')
    expect(await job.getByTestId('job-counts').innerText()).toContain('3 succeeded · 0 failed')
    expect((await env.hub.hub.twins.get({ deviceId: 'ops-1' })).properties.desired['shift']).toBe('night')
  }, 150_000)

  it('shows a job outside its maintenance window as waiting, with the devices waiting and when the window opens; cancel from the list', async () => {
    const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16)
    const now = Date.now()
    await env.hub.hub.jobs.create('night-shift', {
      type: 'scheduleUpdateTwin', queryCondition: 'tags.half = 2', updateTwin: { etag: '*', properties: { desired: { night: true } } }, maxExecutionTimeInSeconds: 86_400,
      maintenanceWindow: [{ start: hhmm(now + 2 * 3600_000), end: hhmm(now + 3 * 3600_000) }], timeZone: 'UTC'
    })
    await page.goto(`${env.ui.url}#/jobs`)
    const job = page.locator('[data-testid="job"][data-id="night-shift"]')
    await job.locator('[data-testid="job-phase"]', { hasText: 'waiting for window' }).waitFor()
    expect(await job.getByTestId('job-when').innerText()).toMatch(/^3 devices waiting for the maintenance window; it opens .* \(your time\) = \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/)
    expect(await job.getByTestId('job-plan').innerText()).toMatch(/^\d\d:\d\d-\d\d:\d\d UTC$/)
    await shot('jobs-waiting')
    await job.getByTestId('job-cancel').click()
    await page.locator('[data-testid="job"][data-id="night-shift"][data-phase="cancelled"]').waitFor()
    expect(await job.getByTestId('job-counts').innerText()).toContain('0 succeeded · 0 failed · 0 running · 0 pending · 3 canceled of 3')
  }, 60_000)

  it('creates a configuration with a custom metric that follows the devices, then edits its priority and target', async () => {
    await page.goto(`${env.ui.url}#/configurations`)
    await page.getByTestId('configs-page-empty').waitFor()
    await page.getByTestId('cfg-id').fill('eco-mode')
    await page.getByTestId('cfg-priority').fill('1')
    await page.getByTestId('cfg-target').fill("tags.group = 'ops'")
    await page.getByTestId('cfg-desired').fill('{"mode": "eco"}')
    await page.getByTestId('cfg-labels').fill('owner=maintenance')
    await page.getByTestId('metric-add').click()
    await page.getByTestId('metric-name').fill('reportsEco')
    await page.getByTestId('metric-query').fill("SELECT deviceId FROM devices WHERE properties.reported.mode = 'eco'")
    await page.getByTestId('cfg-create').click()
    const cfg = page.locator('[data-testid="config"][data-id="eco-mode"]')
    await page.locator('[data-testid="config"][data-id="eco-mode"][data-targeted="6"][data-applied="6"]').waitFor()
    // the devices report the setting back: the custom metric climbs to 6 without a reload
    await cfg.locator('[data-testid="config-metric"][data-name="reportsEco"][data-count="6"]').waitFor({ timeout: 30_000 })
    expect(await cfg.getByTestId('config-labels').innerText()).toContain('owner=maintenance')
    await shot('configurations-metrics')
    // edit: higher priority, only the first half
    await cfg.getByTestId('config-edit').click()
    expect(await cfg.getByTestId('content-immutable').innerText()).toContain('400403')
    await cfg.getByTestId('edit-priority').fill('5')
    await cfg.getByTestId('edit-target').fill("tags.group = 'ops' AND tags.half = 1")
    await cfg.getByTestId('edit-save').click()
    await page.locator('[data-testid="config"][data-id="eco-mode"][data-priority="5"][data-targeted="3"]').waitFor()
    expect(env.hub.hub.configurations.get('eco-mode')).toMatchObject({ priority: 5, targetCondition: "tags.group = 'ops' AND tags.half = 1", labels: { owner: 'maintenance' } })
    await cfg.getByTestId('edit-save').waitFor({ state: 'detached' }) // the editor closes after a save
    // someone else changes it while this screen has the editor open: a conflict, not an overwrite
    await cfg.getByTestId('config-edit').click()
    await cfg.getByTestId('edit-priority').waitFor()
    const cur = env.hub.hub.configurations.mustGet('eco-mode')
    await env.hub.hub.configurations.put('eco-mode', { ...cur, priority: 7 }, cur.etag)
    await cfg.getByTestId('edit-priority').fill('9')
    await cfg.getByTestId('edit-save').click()
    await cfg.locator('[data-testid="error-note"][data-code="412001"]', { hasText: 'Someone changed this configuration' }).waitFor()
    expect(env.hub.hub.configurations.get('eco-mode')?.priority).toBe(7)
    await shot('configurations-conflict')
    await cfg.getByTestId('edit-reload').click()
    await page.locator('[data-testid="config"][data-id="eco-mode"][data-priority="7"]').waitFor()
    // duplicate with new content: the form is prefilled from it
    await cfg.getByTestId('config-duplicate').click()
    expect(await page.getByTestId('cfg-id').inputValue()).toBe('eco-mode-v2')
    expect(await page.getByTestId('cfg-target').inputValue()).toBe("tags.group = 'ops' AND tags.half = 1")
    expect(JSON.parse(await page.getByTestId('cfg-desired').inputValue())).toEqual({ mode: 'eco' })
    expect(await page.getByTestId('metric-query').inputValue()).toContain("properties.reported.mode = 'eco'")
  }, 120_000)

  it('exports devices with and without keys, filtered by a query, as files the import reads back', async () => {
    await page.goto(`${env.ui.url}#/provision`)
    await page.getByTestId('export-jsonl').check()
    await page.getByTestId('export-query').fill('tags.half = 2')
    await page.getByTestId('export-keys').check()
    await page.getByTestId('export-keys-warning').waitFor()
    await shot('provision-export')
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-run').click()])
    expect(dl.suggestedFilename()).toMatch(/^sitehub-devices-.*-with-keys\.jsonl$/)
    const jsonl = readFileSync(await dl.path(), 'utf8')
    const lines = jsonl.trim().split('\n').map(l => JSON.parse(l) as { id: string; authentication: { symmetricKey: { primaryKey: string | null } }; tags: Record<string, unknown> })
    expect(lines.map(l => l.id)).toEqual(['ops-4', 'ops-5', 'ops-6'])
    for (const l of lines) expect(l.authentication.symmetricKey.primaryKey).toBe(env.hub.hub.registry.mustGet({ deviceId: l.id }).authentication.symmetricKey.primaryKey)
    await page.locator('[data-testid="export-done"]', { hasText: '3 devices, with keys' }).waitFor()

    await page.getByTestId('export-csv').check()
    await page.getByTestId('export-keys').uncheck()
    await page.getByTestId('export-query').fill('')
    const [dl2] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-run').click()])
    expect(dl2.suggestedFilename()).toMatch(/^sitehub-devices-[\d-]+\.csv$/)
    const csv = readFileSync(await dl2.path(), 'utf8')
    const rows = parseImport(csv)
    expect(rows.map(r => [r.deviceId, r.problem, r.primaryKey])).toEqual([...ANSWERING, ...SILENT].sort().map(id => [id, undefined, undefined]))
    expect(rows[0]?.tags).toEqual({ group: 'ops', half: 1 })
    expect(rows[0]?.desired).toMatchObject({ mode: 'eco', shift: 'night' })
    // the file goes straight back into the import preview on this screen
    await page.getByTestId('import-text').fill(csv)
    await page.locator('[data-testid="import-summary"]', { hasText: '6 of 6 rows can be added' }).waitFor()
    await page.getByTestId('import-run').click()
    await page.locator('[data-testid="import-results"] li').nth(5).waitFor()
    expect(await page.locator('[data-testid="import-results"] li[data-ok="false"]').count()).toBe(6) // they exist on this hub
    expect(await page.getByTestId('import-results').innerText()).toContain('409001')
    expect(problems).toEqual([])
  }, 90_000)
})
