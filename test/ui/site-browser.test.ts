// The Serial ports, Firmware library and Settings screens in Debian's Chromium (playwright-core)
// against a real in-process hub: a serial port configured in the UI on a real socat pty pair
// with the reference serial device on the far end (line statistics moving live), a firmware
// image uploaded from the browser in chunks and then installed by a simulated device (the
// azure-iot-device SDK) from its device page, and the offline threshold changed in Settings
// while a second window shows the fleet alerts change. Waits on DOM state only.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSimulatedDevice } from '../../src/main/sim/index.js'
import { startSerialDevice } from '../../src/main/sim/serial/device.js'
import { CleanupStack, REPO_ROOT, waitFor } from '../helpers/hub.js'
import { ptyPair, tmpDir } from '../serial/helpers.js'
import { buildRenderer, CHROMIUM_ARGS, signIn, startUiHub, type UiHub } from './support.js'

const shots = join(REPO_ROOT, 'test-results', 'ui')
const suite = new CleanupStack()
let ctx: BrowserContext
let page: Page
let env: UiHub
const problems: string[] = []

function watch (p: Page): void {
  p.on('console', m => { if (m.type() === 'error') problems.push(m.text()) })
  p.on('pageerror', e => { problems.push(e.message) })
}

beforeAll(async () => {
  const staticDir = buildRenderer(suite.defer)
  mkdirSync(shots, { recursive: true })
  env = await startUiHub(suite.defer, { staticDir })
  const userDataDir = mkdtempSync(join(tmpdir(), 'sitehub-chromium-'))
  suite.defer(() => { rmSync(userDataDir, { recursive: true, force: true }) })
  ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1366, height: 768 } })
  suite.defer(() => ctx.close())
  page = ctx.pages()[0] ?? await ctx.newPage()
  watch(page)
  await page.goto(env.ui.url)
  await signIn(page, env)
}, 180_000)

afterAll(() => suite.run(), 60_000)

async function shot (name: string, p: Page = page): Promise<void> {
  await p.evaluate("document.querySelector('.app').style.height = 'auto'")
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  await p.evaluate("document.querySelector('.app').style.height = ''")
}

const counter = async (name: string): Promise<number> =>
  Number((await page.locator(`[data-testid="serial-port"] [data-counter="${name}"] b`).innerText()).replace(/[^\d]/g, ''))

describe('site screens in Chromium', () => {
  it('teaches the first step on the empty Serial and Firmware screens', async () => {
    await page.getByRole('link', { name: 'Serial ports' }).click()
    await page.getByTestId('serial-empty').waitFor()
    await page.locator('[data-testid="machine-ports"], [data-testid="machine-error"], [data-testid="machine-none"]').first().waitFor()
    await shot('serial-empty')
    await page.getByRole('link', { name: 'Firmware' }).click()
    await page.getByTestId('firmware-empty').waitFor()
    await shot('firmware-empty')
  })

  it('configures a serial port on a pty pair and shows the device and its line statistics live', async () => {
    const dir = await tmpDir(suite.defer)
    const pty = await ptyPair(dir, suite.defer)
    const key = (await env.hub.hub.registry.create({ deviceId: 'line-1' })).authentication.symmetricKey.primaryKey ?? ''

    await page.goto(`${env.ui.url}#/serial`)
    await page.getByTestId('serial-new').click()
    expect(await page.getByTestId('port-problems').innerText()).toContain('Enter the port path')
    expect(await page.getByTestId('port-save').isDisabled()).toBe(true)
    await page.getByTestId('port-name').fill('bench')
    await page.getByTestId('port-path').fill(pty.a)
    await page.getByTestId('port-baud').selectOption('9600')
    await page.getByTestId('port-add-device').click()
    await page.getByTestId('port-device-id').fill('line 1')
    expect(await page.getByTestId('port-problems').innerText()).toContain('no spaces')
    await page.getByTestId('port-device-id').fill('line-1')
    await page.getByTestId('port-problems').waitFor({ state: 'detached' })
    await page.getByTestId('port-save').click()
    await page.locator('[data-testid="serial-port"][data-name="bench"][data-state="open"]').waitFor()
    expect(env.hub.hub.serial.get('bench')).toMatchObject({ path: pty.a, baudRate: 9600, devices: [{ deviceId: 'line-1' }] })

    // the device on the other end of the wire: identifies, then sends telemetry every 200 ms
    const dev = await startSerialDevice({ path: pty.b, deviceId: 'line-1', key, baudRate: 9600, telemetryIntervalMs: 200 })
    suite.defer(() => dev.close())
    await page.locator('[data-testid="port-device"][data-device="line-1"][data-connected="true"]').waitFor()
    await waitFor(async () => await counter('framesIn') >= 5, 20_000, 'frames counted on the page')
    const before = await counter('framesIn')
    // no reload: the numbers move with the serial.status events
    await waitFor(async () => await counter('framesIn') > before + 3, 20_000, 'frames in moving on the page')
    expect(await counter('framesOut')).toBeGreaterThan(0)
    expect(await page.getByTestId('serial-live').innerText()).toContain('Live')
    await shot('serial')

    // configure it again: disabled, the port closes and says so
    await page.getByTestId('port-edit').click()
    await page.getByTestId('port-form').getByLabel('Enabled').uncheck()
    await page.getByTestId('port-save').click()
    await page.locator('[data-testid="serial-port"][data-name="bench"][data-state="disabled"]').waitFor()
    await page.locator('[data-testid="port-device"][data-device="line-1"][data-connected="false"]').waitFor()
    await page.getByRole('button', { name: 'Enable' }).click()
    await page.locator('[data-testid="port-device"][data-device="line-1"][data-connected="true"]').waitFor({ timeout: 20_000 })
  }, 90_000)

  it('uploads a firmware image from the browser, lists it, and a device installs it from its page', async () => {
    const bytes = Buffer.alloc(1_300_000)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff
    await page.goto(`${env.ui.url}#/firmware`)
    await page.getByTestId('fw-file').setInputFiles({ name: 'pump-fw-2.0.0.bin', mimeType: 'application/octet-stream', buffer: bytes })
    // name and version guessed from the file name
    expect(await page.getByTestId('fw-name').inputValue()).toBe('pump-fw')
    expect(await page.getByTestId('fw-version').inputValue()).toBe('2.0.0')
    await page.getByTestId('fw-description').fill('pump controller, night build')
    await page.getByTestId('fw-upload-start').click()
    await page.locator('[data-testid="fw-upload"][data-phase="done"]').waitFor({ timeout: 60_000 })
    const row = page.locator('[data-testid="firmware-image"][data-image="pump-fw@2.0.0"]')
    await row.waitFor()
    expect(await row.innerText()).toContain('1.2 MB')
    const img = env.hub.hub.firmware.get('pump-fw', '2.0.0')
    expect(img).toMatchObject({ size: bytes.length, description: 'pump controller, night build' })
    expect(await row.getByTestId('firmware-sha').getAttribute('title')).toBe(img?.sha256)
    await shot('firmware')

    // a simulated device (azure-iot-device SDK) installs it, picked on its device page
    await env.hub.hub.registry.create({ deviceId: 'pump-1' })
    const sim = createSimulatedDevice({
      connectionString: env.hub.hub.registry.deviceConnectionString({ deviceId: 'pump-1' }),
      ca: await env.hub.ca(), telemetryRateSeconds: 0, stepDelayMs: 100, rebootDelayMs: 200
    })
    suite.defer(() => sim.stop())
    await sim.start()
    await page.goto(`${env.ui.url}#/devices/pump-1`)
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Online' }).waitFor()
    await page.getByTestId('fw-image').selectOption('pump-fw@2.0.0')
    await page.getByTestId('fw-update').click()
    await page.getByTestId('fw-confirm').click()
    await page.locator('[data-testid="fw-current"]', { hasText: '2.0.0' }).waitFor({ timeout: 60_000 })

    // the library shows where it runs, and links to exactly those devices
    await page.goto(`${env.ui.url}#/firmware`)
    await page.locator('[data-testid="firmware-image"][data-image="pump-fw@2.0.0"][data-running="1"]').waitFor({ timeout: 20_000 })
    await row.getByTestId('firmware-running').click()
    await page.locator('[data-testid="device-row"][data-id="pump-1"]').waitFor()
    expect(await page.locator('[data-testid="device-row"]').count()).toBe(1)

    // deleting an image that is not in use works; the same bytes come back with a new version
    await page.goto(`${env.ui.url}#/firmware`)
    await page.getByTestId('fw-file').setInputFiles({ name: 'spare.bin', mimeType: 'application/octet-stream', buffer: Buffer.from('spare image') })
    await page.getByTestId('fw-version').fill('0.1')
    await page.getByTestId('fw-upload-start').click()
    const spare = page.locator('[data-testid="firmware-image"][data-image="spare@0.1"]')
    await spare.waitFor()
    await spare.getByTestId('firmware-remove').click()
    await spare.getByTestId('firmware-remove-confirm').click()
    await spare.waitFor({ state: 'detached' })
    await sim.stop()
  }, 120_000)

  it('changes the offline threshold in Settings and another window sees the fleet alerts change; the theme applies live', async () => {
    for (const [id, minutes] of [['idle-30', 30], ['idle-5', 5]] as const) {
      await env.hub.hub.registry.create({ deviceId: id })
      env.hub.hub.registry.touch({ deviceId: id }, Date.now() - minutes * 60_000)
    }
    const fleet = await ctx.newPage()
    watch(fleet)
    await fleet.goto(`${env.ui.url}#/`)
    await signIn(fleet, env)
    await fleet.locator('[data-testid="alerts"] li[data-kind="offline"][data-device="idle-30"]').waitFor()
    expect(await fleet.locator('[data-testid="alerts"] li[data-device="idle-5"]').count()).toBe(0)
    expect(await fleet.getByTestId('alerts-threshold').innerText()).toContain('15 minutes')
    expect(await fleet.getByTestId('fleet-store').innerText()).toMatch(/Data folder: [\d.]+ (KB|MB) of [\d.]+ (MB|GB)/)

    await page.goto(`${env.ui.url}#/settings`)
    await page.getByTestId('store-usage').waitFor()
    await page.getByTestId('set-offline').fill('0')
    expect(await page.getByTestId('set-save').isDisabled()).toBe(true)
    await page.getByTestId('set-offline').fill('3')
    await page.getByTestId('set-save').click()
    await page.getByTestId('set-saved').waitFor()
    // the other window, untouched, follows
    await fleet.locator('[data-testid="alerts"] li[data-kind="offline"][data-device="idle-5"]').waitFor()
    expect(await fleet.getByTestId('alerts-threshold').innerText()).toContain('3 minutes')
    expect(env.hub.hub.settings.get().offlineMinutes).toBe(3)

    // a quota the data dir (with the 1.3 MB image in it) fills beyond the warning: the fleet says so
    expect(await fleet.locator('[data-testid="alerts"] li[data-kind="store"]').count()).toBe(0)
    await page.getByTestId('set-quota').fill('16')
    await page.getByTestId('set-warn').fill('5')
    await page.getByTestId('set-save').click()
    await page.locator('[data-testid="store-usage"]', { hasText: 'of the quota' }).waitFor()
    await fleet.locator('[data-testid="alerts"] li[data-kind="store"]', { hasText: 'The store is filling up' }).waitFor()

    await page.getByTestId('set-theme').getByLabel('Dark').click()
    await fleet.locator('html[data-theme="dark"]').waitFor()
    await page.locator('html[data-theme="dark"]').waitFor()
    await shot('settings')
    await shot('fleet-alerts-dark', fleet)
    await page.getByTestId('set-theme').getByLabel('Light').click()
    await fleet.locator('html[data-theme="light"]').waitFor()
    await shot('settings-light')
    await fleet.close()
    expect(problems).toEqual([])
  }, 60_000)
})
