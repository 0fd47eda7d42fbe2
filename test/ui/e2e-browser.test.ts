// Issue 6's scenario as ONE story, in order, in Debian's Chromium (playwright-core) against the
// browser-served UI of a real in-process hub, with a simulated device on the official device
// SDK (src/main/sim: azure-iot-device + azure-iot-device-mqtt over MQTT/TLS):
//   an admin on an empty hub (1366x768, keyboard only) provisions a device; the simulator
//   connects with the connection string READ FROM THE PAGE; the device page shows it come
//   online; desired is edited and reported catches up (IoT Plug and Play acks: applied, and a
//   refused value); reboot; a firmware update with the bar at 100 % from the device's reported
//   status; a job on a query watched to completion; a bulk import with a bad row; a technician
//   and a supervisor who cannot do admin things (the UI hides them and the hub refuses the
//   same calls made with their session token); the admin's audit log showing all of it; then
//   My account, the dark theme and a touch screen. Waits on DOM state only, never on time.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack, REPO_ROOT } from '../helpers/hub.js'
import { createSimulatedDevice, type SimulatedDevice } from '../../src/main/sim/index.js'
import type { HubErrorInfo } from '../../src/shared/contract/index.js'
import { accountName, buildRenderer, CHROMIUM_ARGS, signIn, startUiHub, type UiHub } from './support.js'

const shots = join(REPO_ROOT, 'test-results', 'ui')
const suite = new CleanupStack()
let ctx: BrowserContext
let page: Page
let env: UiHub
let sim: SimulatedDevice
const problems: string[] = []
const DEVICE = 'e2e-press'

beforeAll(async () => {
  const staticDir = buildRenderer(suite.defer)
  mkdirSync(shots, { recursive: true })
  env = await startUiHub(suite.defer, { staticDir })
  const userDataDir = mkdtempSync(join(tmpdir(), 'sitehub-chromium-'))
  suite.defer(() => { rmSync(userDataDir, { recursive: true, force: true }) })
  ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1366, height: 768 }, hasTouch: true
  })
  suite.defer(() => ctx.close())
  page = ctx.pages()[0] ?? await ctx.newPage()
  // Refused calls are part of the story (the role checks); uncaught page errors never are.
  page.on('pageerror', e => { problems.push(e.message) })
  await signIn(page, env)
}, 180_000)

afterAll(() => suite.run(), 60_000)

/** Screenshot; `whole` lets the page grow to its content first (the app scrolls inside a viewport-high frame). */
async function shot (name: string, whole = true): Promise<void> {
  if (whole) await page.evaluate("document.querySelector('.app').style.height = 'auto'")
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: whole })
  if (whole) await page.evaluate("document.querySelector('.app').style.height = ''")
}

/** How far the document, or the main area that scrolls inside it, is wider than its box (0: no horizontal scrolling). */
const overflowX = async (): Promise<number> => await page.evaluate(`Math.max(...[document.documentElement, document.querySelector('main.page')]
  .map(e => e === null ? 0 : e.scrollWidth - e.clientWidth))`) as number

/** The same call the UI makes, sent on a fresh WebSocket with the page's own session token. */
async function callAsPage (method: string, input: unknown): Promise<{ ok: boolean; error?: HubErrorInfo }> {
  const url = `${env.ui.url.replace('http', 'ws')}ui/ws`
  const args = JSON.stringify({ url, method, input })
  return await page.evaluate(`(async ({ url, method, input }) => {
    const token = window.sessionStorage.getItem('sitehub.session') ?? undefined
    const ws = new WebSocket(url)
    return await new Promise((resolve, reject) => {
      ws.onopen = () => { ws.send(JSON.stringify({ id: 1, method, input, token })) }
      ws.onmessage = (m) => {
        const f = JSON.parse(String(m.data))
        if (f.id === 1 && f.result !== undefined) { ws.close(); resolve(f.result) }
      }
      ws.onerror = () => { reject(new Error('WebSocket error')) }
    })
  })(${args})`) as { ok: boolean; error?: HubErrorInfo }
}

const reported = (path: string): ReturnType<Page['locator']> =>
  page.locator(`[data-testid="twin-reported"] [data-path="${path}"] [data-testid="prop-value"]`)
const desiredSync = (path: string): ReturnType<Page['locator']> =>
  page.locator(`[data-testid="twin-desired"] [data-path="${path}"] [data-testid="sync-state"]`)

describe('issue 6 end to end, in order, in Chromium', () => {
  it('1366x768, empty hub: the empty state teaches the next step, reached by keyboard from the navigation', async () => {
    await page.getByTestId('fleet-empty').waitFor()
    expect(await page.getByTestId('fleet-empty').innerText()).toContain('No devices yet. Start by adding one')
    expect(await overflowX()).toBe(0)
    await shot('e2e-1366x768-fleet-empty', false)
    // Tab from the top of the page: the focus passes through the navigation, then reaches the
    // empty state's primary action; Enter follows it.
    await page.evaluate('document.activeElement instanceof HTMLElement && document.activeElement.blur()')
    const seen: string[] = []
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab')
      const where = await page.evaluate(`(() => {
        const el = document.activeElement
        if (el === null) return 'none'
        if (el.closest('#side-nav') !== null) return 'nav:' + el.textContent.trim()
        if (el.closest('[data-testid="fleet-empty"]') !== null) return 'empty:' + el.textContent.trim()
        return 'other'
      })()`) as string
      seen.push(where)
      if (where === 'empty:Add a device') break
    }
    expect(seen.some(s => s.startsWith('nav:Devices'))).toBe(true)
    expect(seen.at(-1)).toBe('empty:Add a device')
    expect(seen.findIndex(s => s.startsWith('nav:'))).toBeLessThan(seen.length - 1)
    await page.keyboard.press('Enter')
    await page.getByTestId('new-device-id').waitFor()
    expect(await page.evaluate('window.location.hash')).toBe('#/provision')
  })

  it('provisions a device in the UI; the simulator connects with the string the page shows; the page sees it come online', async () => {
    await page.getByTestId('new-device-id').focus()
    await page.keyboard.type(DEVICE)
    await page.keyboard.press('Enter')
    const cs = await page.getByTestId('created-connection-string').innerText()
    expect(cs).toMatch(new RegExp(`^HostName=[^;]+;DeviceId=${DEVICE};SharedAccessKey=[A-Za-z0-9+/=]+$`))
    expect(await overflowX()).toBe(0)
    await shot('e2e-provision')
    await page.getByTestId('open-created').click()
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Offline' }).waitFor()

    sim = createSimulatedDevice({
      connectionString: cs, ca: await env.hub.ca(), telemetryRateSeconds: 0, stepDelayMs: 150, rebootDelayMs: 500, configApplyDelayMs: 300
    })
    suite.defer(() => sim.stop())
    await sim.start()
    // No reload: the device page follows the connection live.
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Online' }).waitFor({ timeout: 30_000 })
    await reported('deviceInfo.simulated').waitFor()
    expect(await reported('state').innerText()).toBe('running')
    expect(await reported('firmware.current').innerText()).toBe('1.0.0')
  }, 90_000)

  it('edits desired in the UI and watches reported catch up (applied), and a value the device refuses', async () => {
    await page.getByTestId('patch-editor').fill('{"config": {"telemetryRateSeconds": 30}}')
    await page.getByTestId('patch-save').click()
    await desiredSync('config.telemetryRateSeconds').filter({ hasText: 'applied' }).waitFor({ timeout: 30_000 })
    expect(await reported('config.ac').innerText()).toBe('200')
    expect(await reported('config.value.telemetryRateSeconds').innerText()).toBe('30')
    expect(await reported('telemetry.rateSeconds').innerText()).toBe('30')

    await page.getByTestId('patch-editor').fill('{"config": {"telemetryRateSeconds": -5}}')
    await page.getByTestId('patch-save').click()
    const refused = desiredSync('config.telemetryRateSeconds').filter({ hasText: 'refused' })
    await refused.waitFor({ timeout: 30_000 })
    expect(await refused.getAttribute('title')).toContain('telemetryRateSeconds must be 0 (off)')
    expect(await reported('config.ac').innerText()).toBe('400')
    expect(await reported('telemetry.rateSeconds').innerText()).toBe('30') // still running the last good value
    await shot('e2e-device-desired')
  }, 90_000)

  it('reboots the device from the method panel and sees it report the reboot completed', async () => {
    await page.getByTestId('preset-reboot').click()
    await page.getByTestId('confirm-method').click()
    await page.locator('[data-testid="method-call"][data-state="done"][data-status="200"]').waitFor()
    expect(await page.getByTestId('method-calls').innerText()).toContain('"status":"rebooting"')
    await reported('rebootStatus').filter({ hasText: 'completed' }).waitFor({ timeout: 60_000 })
    await reported('state').filter({ hasText: 'running' }).waitFor()
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Online' }).waitFor()
  }, 90_000)

  it('updates the firmware: the progress bar follows the reported status to 100 %', async () => {
    await env.hub.hub.firmware.add({ name: 'press-fw', version: '2.0.0', data: Buffer.alloc(512 * 1024, 3), description: 'e2e image' })
    await page.reload()
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Online' }).waitFor()
    await page.locator('[data-testid="fw-current"]', { hasText: '1.0.0' }).waitFor()
    await page.evaluate(`(() => {
      const el = document.querySelector('[data-testid="fw-progress"]')
      window.__fwSteps = []
      new MutationObserver(() => { window.__fwSteps.push(el.dataset.status + ':' + el.dataset.percent) }).observe(el, { attributes: true })
    })()`)
    await page.getByTestId('fw-image').selectOption('press-fw@2.0.0')
    await page.getByTestId('fw-update').click()
    await page.getByTestId('fw-confirm').click()
    await page.locator('[data-testid="fw-current"]', { hasText: '2.0.0' }).waitFor({ timeout: 90_000 })
    await page.locator('[data-testid="fw-progress"][data-status="current"][data-percent="100"]').waitFor()
    const steps = await page.evaluate('window.__fwSteps') as string[]
    // the bar moved through the device's own phases before it reached the end
    expect(steps.some(s => /^(downloading|verifying|applying|rebooting):/.test(s))).toBe(true)
    expect(steps.at(-1)).toBe('current:100')
    await reported('state').filter({ hasText: 'running' }).waitFor()
    await shot('e2e-device-firmware')
  }, 120_000)

  it('creates a reboot job on a query in the UI and watches it finish with the per-device result', async () => {
    await page.getByRole('link', { name: 'Jobs' }).click()
    await page.getByTestId('jobs-empty').waitFor()
    await page.getByTestId('job-query').fill("properties.reported.firmware.current = '2.0.0'")
    await page.locator('[data-testid="job-target-count"]', { hasText: 'Matches 1 device now.' }).waitFor()
    await page.getByTestId('job-review').click()
    await page.locator('[data-testid="job-summary"]', { hasText: 'runs reboot on 1 device' }).waitFor()
    await page.getByTestId('job-create').click()
    await page.locator('[data-testid="job"][data-status="completed"]').waitFor({ timeout: 60_000 })
    expect(await page.getByTestId('job-counts').innerText()).toContain('1 succeeded · 0 failed')
    await page.locator('[data-testid="job-devices"] td', { hasText: 'completed' }).waitFor()
    expect(await page.getByTestId('job-devices').innerText()).toMatch(new RegExp(`${DEVICE}\\s+completed\\s+200`))
    await shot('e2e-jobs')
  }, 90_000)

  it('imports devices in bulk: the bad row is explained, the good rows are added', async () => {
    await page.getByRole('link', { name: 'Add a device' }).click()
    await page.getByTestId('import-text').fill('deviceId,tags.line\ne2e-bulk-1,A\nbad id!,A\ne2e-bulk-2,B\n')
    await page.locator('[data-testid="import-summary"]', { hasText: '2 of 3 rows can be added' }).waitFor()
    expect(await page.locator('[data-testid="import-row"][data-ok="false"]').innerText()).toContain('not a valid device id')
    await page.getByTestId('import-run').click()
    await page.locator('[data-testid="import-results"] li').nth(1).waitFor()
    expect(await page.locator('[data-testid="import-results"] li[data-ok="true"]').count()).toBe(2)
    await page.goto(`${env.ui.url}#/devices`)
    await page.getByTestId('device-search').fill('e2e-bulk')
    await page.locator('[data-testid="device-total"]', { hasText: '2 of 3' }).waitFor()
    expect(await page.getByTestId('device-row').evaluateAll(rows => rows.map(r => r.getAttribute('data-id')).sort())).toEqual(['e2e-bulk-1', 'e2e-bulk-2'])
    expect((await env.hub.hub.twins.get({ deviceId: 'e2e-bulk-2' })).tags).toEqual({ line: 'B' })
  })

  it('a technician cannot do admin things: the UI hides them and the hub refuses them', async () => {
    await signIn(page, env, 'technician')
    expect(await page.getByRole('link', { name: 'Accounts' }).count()).toBe(0)
    await page.goto(`${env.ui.url}#/provision`)
    await page.locator('[data-testid="not-allowed"]', { hasText: 'Adding devices: needs an admin account' }).waitFor()
    expect(await page.getByTestId('new-device-id').count()).toBe(0)
    await page.goto(`${env.ui.url}#/accounts`)
    await page.locator('[data-testid="not-allowed"]', { hasText: 'Accounts are managed by admins' }).waitFor()
    // what the UI hides, the hub refuses to this session too
    const create = await callAsPage('devices.create', { deviceId: 'tech-made' })
    expect(create).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await callAsPage('accounts.create', { name: 'tech-friend', role: 'admin', password: 'a long password' })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(env.hub.hub.registry.get({ deviceId: 'tech-made' })).toBeUndefined()
    // ... while operating is theirs: a desired change goes through
    expect(await callAsPage('twins.patchDesired', { deviceId: 'e2e-bulk-1', patch: { shift: 'night' } })).toMatchObject({ ok: true })

    // an error in plain words, the IoT Hub code in small print
    await page.goto(`${env.ui.url}#/devices`)
    await page.getByTestId('query-input').fill("properties.reported.state = = 'running'")
    await page.getByTestId('query-input').press('Enter')
    const note = page.getByTestId('error-note')
    await note.waitFor()
    const small = note.locator('small')
    expect(await small.innerText()).toMatch(/400004/)
    expect(await note.locator('p').first().innerText()).not.toMatch(/\d{6}/)
    type Styles = { getComputedStyle: (e: unknown) => { fontSize: string } }
    const size = async (sel: string): Promise<number> =>
      parseFloat(await note.locator(sel).first().evaluate(e => (globalThis as unknown as Styles).getComputedStyle(e).fontSize))
    expect(await size('small')).toBeLessThan(await size('p'))
    await shot('e2e-error-small-print', false)
    await page.getByTestId('query-input').fill('')
    await page.getByTestId('query-input').press('Enter')
  }, 90_000)

  it('a supervisor looks but cannot change desired or run methods: hidden in the UI, refused by the hub', async () => {
    await signIn(page, env, 'supervisor')
    await page.goto(`${env.ui.url}#/devices/${DEVICE}`)
    await page.getByTestId('twin').waitFor()
    expect(await page.getByTestId('patch-editor').count()).toBe(0)
    expect(await page.getByTestId('method-run').count()).toBe(0)
    expect(await page.getByTestId('fw-update').isDisabled()).toBe(true)
    expect(await page.getByTestId('fw-update').getAttribute('title')).toMatch(/technician or admin/)
    expect((await page.getByTestId('not-allowed').allInnerTexts()).join('\n')).toMatch(/Changing the twin: needs a technician or admin account/)
    expect(await callAsPage('twins.patchDesired', { deviceId: DEVICE, patch: { config: { telemetryRateSeconds: 1 } } })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await callAsPage('methods.invoke', { deviceId: DEVICE, methodName: 'reboot' })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await callAsPage('devices.remove', { deviceId: DEVICE })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(env.hub.hub.registry.get({ deviceId: DEVICE })).toBeDefined()
    await shot('e2e-supervisor-device')
  }, 60_000)

  it('shows the admin the audit log of the whole story, refusals included', async () => {
    await signIn(page, env)
    await page.getByRole('link', { name: 'Audit log' }).click()
    await page.getByTestId('audit-table').waitFor()
    await page.getByTestId('audit-device').fill(DEVICE)
    await page.getByTestId('audit-apply').click()
    await page.locator('[data-testid="audit-row"][data-method="devices.create"]').waitFor()
    const methods = await page.getByTestId('audit-row').evaluateAll(rows => rows.map(r => r.getAttribute('data-method')))
    expect(methods).toEqual(expect.arrayContaining(['devices.create', 'twins.patchDesired', 'methods.invoke', 'devices.firmwareUpdate']))
    await shot('e2e-audit-device')
    await page.getByTestId('audit-device').fill('')
    for (const [method, who] of [['jobs.create', accountName('admin')], ['devices.import', accountName('admin')]] as const) {
      await page.getByTestId('audit-method').fill(method)
      await page.getByTestId('audit-apply').click()
      await page.locator(`[data-testid="audit-row"][data-method="${method}"]`, { hasText: who }).first().waitFor()
    }
    // the technician's refused attempts are on record
    await page.getByTestId('audit-method').fill('devices.create')
    await page.getByTestId('audit-outcome').selectOption('error')
    await page.getByTestId('audit-apply').click()
    await page.locator('[data-testid="audit-row"]', { hasText: accountName('technician') }).first().waitFor()
    await shot('e2e-audit-refusals')
  }, 60_000)

  it('fits every screen into 1366x768 without horizontal scrolling', async () => {
    const screens: Array<[string, string]> = [
      ['#/', 'count-connected'], ['#/devices', 'device-table'], [`#/devices/${DEVICE}`, 'twin'], ['#/provision', 'new-device-id'],
      ['#/jobs', 'job-query'], ['#/configurations', 'cfg-id'], ['#/sync', ''], ['#/serial', ''], ['#/firmware', ''],
      ['#/settings', ''], ['#/audit', 'audit-table'], ['#/accounts', 'accounts-table'], ['#/account', 'own-submit']
    ]
    const wide: string[] = []
    for (const [hash, ready] of screens) {
      await page.goto(`${env.ui.url}${hash}`)
      if (ready !== '') await page.getByTestId(ready).first().waitFor()
      else await page.locator('main.page h1').first().waitFor()
      const over = await overflowX()
      if (over > 0) wide.push(`${hash}: ${over} px`)
    }
    expect(wide).toEqual([])
  }, 90_000)

  it('My account, the dark theme (a CSS variable switches) and a touch screen', async () => {
    await page.getByTestId('signed-in-user').click()
    await page.getByTestId('own-submit').waitFor()
    await shot('my-account')

    const bg = async (): Promise<string> => await page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bg').trim()") as string
    await page.goto(`${env.ui.url}#/`)
    await page.getByTestId('count-connected').waitFor()
    const before = { theme: await page.locator('html').getAttribute('data-theme'), bg: await bg() }
    await page.getByTestId('theme-toggle').click()
    const after = { theme: await page.locator('html').getAttribute('data-theme'), bg: await bg() }
    expect(after.theme).not.toBe(before.theme)
    expect(['light', 'dark']).toContain(after.theme)
    expect(after.bg).not.toBe(before.bg)
    expect(after.bg).toBe(after.theme === 'dark' ? '#11161c' : '#f4f6f8')
    await shot(`e2e-fleet-${after.theme ?? 'theme'}`)
    await page.getByTestId('theme-toggle').click()
    expect(await bg()).toBe(before.bg)

    // a touch screen: the navigation folds behind Menu, everything by taps, 44 px targets
    await page.setViewportSize({ width: 800, height: 1000 })
    try {
      const menu = page.getByRole('button', { name: 'Menu' })
      await menu.waitFor()
      expect((await menu.boundingBox())?.height).toBeGreaterThanOrEqual(44)
      await menu.tap()
      const devices = page.locator('#side-nav').getByRole('link', { name: 'Devices' })
      expect((await devices.boundingBox())?.height).toBeGreaterThanOrEqual(44)
      await devices.tap()
      await page.getByTestId('device-table').waitFor()
      expect(await page.locator('#side-nav').isVisible()).toBe(false)
      expect(await overflowX()).toBe(0)
      await page.locator(`[data-testid="device-row"][data-id="${DEVICE}"]`).tap()
      await page.getByTestId('twin').waitFor()
      await shot('e2e-touch-device')
    } finally {
      await page.setViewportSize({ width: 1366, height: 768 })
    }
    expect(problems).toEqual([])
  }, 60_000)
})
