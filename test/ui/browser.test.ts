// The browser-served UI in Debian's Chromium (playwright-core) against a real in-process hub
// and a real device (the published azure-iot-device SDK over MQTT): provision in the UI,
// connect with the connection string the UI shows, watch it come online, edit desired and
// watch reported catch up, reboot, see telemetry, query with an error, and a 2,000-row table
// that keeps only a window of rows in the DOM. Waits on readiness flags and DOM state only.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack, REPO_ROOT } from '../helpers/hub.js'
import { message, openClient } from '../helpers/sdk.js'
import { createSimulatedDevice } from '../../src/main/sim/index.js'
import { buildRenderer, CHROMIUM_ARGS, signIn, startUiHub, type UiHub } from './support.js'

const shots = join(REPO_ROOT, 'test-results', 'ui')
const suite = new CleanupStack()
let ctx: BrowserContext
let page: Page
let env: UiHub
const problems: string[] = []

beforeAll(async () => {
  const staticDir = buildRenderer(suite.defer)
  mkdirSync(shots, { recursive: true })
  env = await startUiHub(suite.defer, { staticDir })
  const userDataDir = mkdtempSync(join(tmpdir(), 'sitehub-chromium-'))
  suite.defer(() => { rmSync(userDataDir, { recursive: true, force: true }) })
  ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 768 }
  })
  suite.defer(() => ctx.close())
  page = ctx.pages()[0] ?? await ctx.newPage()
  page.on('console', m => { if (m.type() === 'error') problems.push(m.text()) })
  page.on('pageerror', e => { problems.push(e.message) })
  await page.goto(env.ui.url)
  await signIn(page, env)
}, 180_000)

afterAll(() => suite.run(), 60_000)

/** Screenshot; `whole` lets the page grow to its content first (the app scrolls inside a viewport-high frame). */
async function shot (name: string, whole = true): Promise<void> {
  if (whole) await page.evaluate("document.querySelector('.app').style.height = 'auto'")
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  if (whole) await page.evaluate("document.querySelector('.app').style.height = ''")
}

describe('technician UI in Chromium', () => {
  it('teaches the first step on an empty hub', async () => {
    await page.getByTestId('fleet-empty').waitFor()
    expect(await page.getByTestId('count-connected').innerText()).toBe('0')
    await shot('fleet-empty')
    await page.goto(`${env.ui.url}#/devices`)
    await page.getByTestId('devices-empty').waitFor()
  })

  it('provisions a device, connects the SDK with the shown string, edits desired, reboots, shows telemetry', async () => {
    await page.getByRole('link', { name: 'Add a device' }).first().click()
    await page.getByTestId('new-device-id').fill('press 1')
    expect(await page.locator('.field-error').innerText()).toContain('no spaces')
    await page.getByTestId('new-device-id').fill('press-1')
    await page.getByTestId('create-device').click()
    const cs = await page.getByTestId('created-connection-string').innerText()
    expect(cs).toMatch(/;DeviceId=press-1;SharedAccessKey=/)
    await shot('provision')

    // A real device with that string: answers reboot, acknowledges desired into reported.
    const client = await openClient(cs, { ca: await env.hub.ca(), defer: suite.defer, noOpen: true })
    client.onDeviceMethod('reboot', (_req, res) => { void res.send(200, { rebooted: true }) })
    await client.open()
    const twin = await client.getTwin()
    twin.on('properties.desired', (delta: Record<string, unknown>) => {
      const { $version: _v, ...rest } = delta
      twin.properties.reported.update(rest, () => {})
    })
    twin.properties.reported.update({ firmware: { current: '1.4.2' }, state: 'running' }, () => {})

    await page.getByTestId('open-created').click()
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Online' }).waitFor()

    await page.getByTestId('patch-editor').fill('{"interval": ')
    await page.getByTestId('patch-invalid').waitFor()
    expect(await page.getByTestId('patch-save').isDisabled()).toBe(true)
    await page.getByTestId('patch-editor').fill('{"interval": 7}')
    await page.getByTestId('patch-save').click()
    // desired shows the new value, then "applied" once the device reported it back
    await page.locator('[data-testid="twin-desired"] [data-path="interval"] [data-testid="sync-state"]', { hasText: 'applied' }).waitFor()
    expect(await page.locator('[data-testid="twin-reported"] [data-path="interval"] [data-testid="prop-value"]').innerText()).toBe('7')
    expect(await page.locator('[data-testid="twin-reported"] [data-path="firmware.current"]').innerText()).toContain('last updated')

    await page.getByTestId('preset-reboot').click()
    await page.getByTestId('confirm-method').click()
    await page.locator('[data-testid="method-call"][data-state="done"][data-status="200"]').waitFor()
    expect(await page.getByTestId('method-calls').innerText()).toContain('{"rebooted":true}')

    // a method the device does not handle: the hub times out (504101) after the 5 s asked for
    await page.getByTestId('method-name').fill('selfTest')
    await page.getByTestId('method-timeout').fill('5')
    await page.getByTestId('method-run').click()
    await page.locator('[data-testid="method-call"][data-state="failed"]').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('method-calls').innerText()).toMatch(/did not answer in time[\s\S]*504101/)

    await client.sendEvent(message(JSON.stringify({ temperature: 21.5 }), { unit: 'C' }))
    await page.locator('[data-testid="telemetry-item"]', { hasText: 'temperature' }).waitFor()
    await client.sendEvent(message(JSON.stringify({ temperature: 22.5 }), { unit: 'C' }))
    await page.locator('[data-testid="telemetry-chart"][data-field="temperature"][data-points="2"]').waitFor()
    expect(await page.getByTestId('telemetry').innerText()).toContain('unit=C')
    await shot('device-detail')
  }, 90_000)

  it('reports an etag conflict in plain words and reloads the twin', async () => {
    // the technician starts typing (the edit is based on the twin shown now) ...
    await page.getByTestId('patch-editor').fill('{"interval": 8}')
    // ... someone else changes desired meanwhile; the page shows it live
    await env.hub.hub.twins.patchDesired({ deviceId: 'press-1' }, { mode: 'eco' })
    await page.locator('[data-testid="twin-desired"] [data-path="mode"]').waitFor()
    await page.getByTestId('patch-save').click()
    await page.getByTestId('reload-twin').waitFor()
    expect(await page.getByTestId('error-note').innerText()).toMatch(/Someone else changed this twin[\s\S]*412001/)
    await shot('device-detail-conflict')
    await page.getByTestId('reload-twin').click()
    await page.getByTestId('reload-twin').waitFor({ state: 'detached' })
    await page.getByTestId('patch-save').click()
    await page.locator('[data-testid="twin-desired"] [data-path="interval"] [data-testid="prop-value"]', { hasText: '8' }).waitFor()
    expect(await page.locator('[data-testid="twin-desired"] [data-path="mode"] [data-testid="prop-value"]').innerText()).toBe('eco')
  })

  it('lists devices live with search and a query bar that shows the error position', async () => {
    await page.goto(`${env.ui.url}#/devices`)
    await page.locator('[data-testid="device-row"][data-id="press-1"] [data-testid="conn-state"]', { hasText: 'Online' }).waitFor()
    await page.getByTestId('query-input').fill("properties.reported.firmware.current = = '1.4.2'")
    await page.getByTestId('query-input').press('Enter')
    await page.getByTestId('query-error').waitFor()
    expect(await page.getByTestId('query-error').getAttribute('data-offset')).toBe('40')
    expect(await page.getByTestId('error-note').innerText()).toContain('400004')
    await shot('devices-query-error', false)
    await page.getByTestId('query-input').fill("properties.reported.firmware.current = '1.4.2'")
    await page.getByTestId('query-input').press('Enter')
    await page.locator('[data-testid="device-total"]', { hasText: '1' }).waitFor()
    await page.locator('[data-testid="query-error"]').waitFor({ state: 'detached' })
  })

  it('runs a reboot job on a query and watches it finish, with per-device results', async () => {
    await page.goto(`${env.ui.url}#/jobs`)
    await page.getByTestId('jobs-empty').waitFor()
    await page.getByTestId('job-query').fill("deviceId = 'press-1'")
    await page.locator('[data-testid="job-target-count"]', { hasText: 'Matches 1 device now.' }).waitFor()
    await page.getByTestId('job-review').click()
    await page.locator('[data-testid="job-summary"]', { hasText: 'runs reboot on 1 device' }).waitFor()
    await page.getByTestId('job-create').click()
    await page.locator('[data-testid="job"][data-status="completed"]').waitFor()
    expect(await page.getByTestId('job-counts').innerText()).toContain('1 succeeded · 0 failed')
    await page.locator('[data-testid="job-devices"] td', { hasText: 'completed' }).waitFor()
    expect(await page.getByTestId('job-devices').innerText()).toMatch(/press-1\s+completed\s+200/)
    await shot('jobs')
  }, 60_000)

  it('updates firmware from the library on a simulated device, with the progress bar reaching the end', async () => {
    await env.hub.hub.firmware.add({ name: 'pump-fw', version: '2.0.0', data: Buffer.alloc(256 * 1024, 7), description: 'test image' })
    await env.hub.hub.registry.create({ deviceId: 'sim-1' })
    const sim = createSimulatedDevice({
      connectionString: env.hub.hub.registry.deviceConnectionString({ deviceId: 'sim-1' }),
      ca: await env.hub.ca(), telemetryRateSeconds: 0, stepDelayMs: 150, rebootDelayMs: 300
    })
    suite.defer(() => sim.stop())
    await sim.start()
    await page.goto(`${env.ui.url}#/devices/sim-1`)
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Online' }).waitFor()
    await page.locator('[data-testid="fw-current"]', { hasText: '1.0.0' }).waitFor()
    // record every step the bar shows
    await page.evaluate(`(() => {
      const el = document.querySelector('[data-testid="fw-progress"]')
      window.__fwSteps = []
      new MutationObserver(() => { window.__fwSteps.push(el.dataset.status + ':' + el.dataset.percent) }).observe(el, { attributes: true })
    })()`)
    await page.getByTestId('fw-image').selectOption('pump-fw@2.0.0')
    await page.getByTestId('fw-update').click()
    await page.getByTestId('fw-confirm').click()
    await page.locator('[data-testid="fw-current"]', { hasText: '2.0.0' }).waitFor({ timeout: 60_000 })
    await page.locator('[data-testid="fw-progress"][data-status="current"][data-percent="100"]').waitFor()
    const steps = await page.evaluate('window.__fwSteps') as string[]
    expect(steps.some(s => s.startsWith('downloading') || s.startsWith('applying') || s.startsWith('rebooting'))).toBe(true)
    await page.locator('[data-testid="method-call"][data-state="done"]', { hasText: 'firmwareUpdate pump-fw 2.0.0' }).waitFor()
    await shot('device-firmware')
    await sim.stop()
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Offline' }).waitFor()
  }, 90_000)

  it('imports devices in bulk with a preview that shows the bad row, and reports each outcome', async () => {
    await page.goto(`${env.ui.url}#/provision`)
    await page.getByTestId('import-text').fill('deviceId,status,tags.site\nbulk-1,,hall-2\nbad id,,hall-2\nbulk-2,disabled,hall-3\npress-1,,hall-1\n')
    await page.locator('[data-testid="import-summary"]', { hasText: '3 of 4 rows can be added' }).waitFor()
    expect(await page.locator('[data-testid="import-row"][data-ok="false"]').innerText()).toContain('not a valid device id')
    await page.getByTestId('import-run').click()
    await page.locator('[data-testid="import-results"] li').nth(2).waitFor()
    expect(await page.locator('[data-testid="import-results"] li[data-ok="true"]').count()).toBe(2)
    expect(await page.locator('[data-testid="import-results"] li[data-ok="false"]').innerText()).toMatch(/press-1: A device with this id already exists.*409001/)
    await shot('provision-bulk')
    expect(await env.hub.hub.twins.get({ deviceId: 'bulk-2' })).toMatchObject({ status: 'disabled', tags: { site: 'hall-3' } })
  })

  it('acts on a selection: enables devices in bulk and starts a job on exactly the selected ones', async () => {
    await page.goto(`${env.ui.url}#/devices`)
    await page.getByTestId('device-search').fill('bulk-')
    await page.locator('[data-testid="device-total"]', { hasText: '2 of' }).waitFor()
    for (const id of ['bulk-1', 'bulk-2']) await page.locator(`[data-testid="device-row"][data-id="${id}"] [data-testid="row-select"]`).check()
    await page.locator('[data-testid="bulk-count"]', { hasText: '2 selected' }).waitFor()
    await shot('devices-selection', false)
    await page.getByTestId('bulk-enable').click()
    await page.locator('[data-testid="device-row"][data-id="bulk-2"]', { hasText: 'Enabled' }).waitFor()
    expect(env.hub.hub.registry.get({ deviceId: 'bulk-2' })?.status).toBe('enabled')
    await page.getByTestId('bulk-job').click()
    expect(await page.getByTestId('job-query').inputValue()).toBe("deviceId IN ['bulk-1', 'bulk-2']")
    await page.locator('[data-testid="job-target-count"]', { hasText: 'Matches 2 devices now.' }).waitFor()
    // back to the list as the next test expects it: no search, no selection
    await page.goto(`${env.ui.url}#/devices`)
    await page.getByTestId('device-search').fill('')
    await page.getByRole('button', { name: 'Clear selection' }).click()
  })

  it('keeps a 2,000-device table windowed, scrolls by keyboard, and opens a row with Enter', async () => {
    const writes: Array<Promise<unknown>> = []
    for (let i = 0; i < 2000; i++) writes.push(env.hub.hub.registry.create({ deviceId: `line-${String(i).padStart(4, '0')}` }))
    await Promise.all(writes)
    await page.goto(`${env.ui.url}#/devices`)
    // the query of the previous test is still applied (the store keeps it): run an empty one
    await page.getByTestId('query-input').fill('')
    await page.getByTestId('query-input').press('Enter')
    await page.locator('[data-testid="device-total"]', { hasText: '2004' }).waitFor()
    expect(await page.getByTestId('device-row').count()).toBeLessThan(60)
    await page.getByTestId('device-table').focus()
    await page.keyboard.press('End')
    await page.locator('[data-testid="device-row"][data-id="press-1"]').waitFor()
    expect(await page.getByTestId('device-row').count()).toBeLessThan(60)
    await page.getByTestId('device-search').fill('line-1999')
    await page.locator('[data-testid="device-total"]', { hasText: '1 of 2004' }).waitFor()
    await shot('devices', false)
    await page.getByTestId('device-table').focus()
    await page.keyboard.press('Enter')
    await page.locator('h1', { hasText: 'line-1999' }).waitFor()
  }, 90_000)

  it('creates an automatic configuration and shows how many devices it reached', async () => {
    await page.goto(`${env.ui.url}#/configurations`)
    await page.getByTestId('configs-page-empty').waitFor()
    await page.getByTestId('cfg-id').fill('press-night')
    await page.getByTestId('cfg-target').fill("deviceId = 'press-1'")
    await page.getByTestId('cfg-desired').fill('{"shift": "night"}')
    await page.getByTestId('cfg-create').click()
    await page.locator('[data-testid="config"][data-id="press-night"][data-targeted="1"]').waitFor()
    expect((await env.hub.hub.twins.get({ deviceId: 'press-1' })).properties.desired['shift']).toBe('night')
    await shot('configurations')
  })

  it('shows the fleet overview live, with the firmware chart, in light and dark themes', async () => {
    await page.goto(`${env.ui.url}#/`)
    await page.locator('[data-testid="count-connected"]', { hasText: '1' }).waitFor()
    expect(await page.getByTestId('count-disconnected').innerText()).toBe('2003')
    expect(await page.getByTestId('count-disabled').innerText()).toBe('0')
    expect(await page.getByTestId('count-alerts').innerText()).toBe('1') // press-1's selfTest timed out
    expect(await page.getByTestId('configs').innerText()).toContain('press-night')
    expect(await page.locator('svg.chart').textContent()).toContain('1.4.2')
    await shot('fleet')
    await page.getByTestId('theme-toggle').click()
    const theme = await page.locator('html').getAttribute('data-theme')
    expect(['light', 'dark']).toContain(theme)
    await shot(`fleet-${theme ?? 'theme'}`)
    expect(problems).toEqual([])
  })
})
