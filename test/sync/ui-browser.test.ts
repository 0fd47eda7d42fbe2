// The cloud sync screens in Debian's Chromium (playwright-core) against a real edge hub with its
// UI and a real cloud-role hub behind a pausable TCP proxy; a device on azure-iot-device-mqtt
// at the edge, a back end on azure-iothub at the cloud. Connect the edge in the UI (connection
// string + CA file), watch the link go online, offline when the proxy black-holes it, counts
// grow while the device works offline and drain when it returns; a desired conflict made on
// both sides offline shows its three values and is resolved in the UI, and the value kept
// reaches the cloud and the device. Waits on DOM state only.
//
// It lives in test/sync (not test/ui): it times a link between two hubs, and npm test runs
// test/sync one file at a time after the rest, so the link is not starved by parallel suites.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack, REPO_ROOT } from '../helpers/hub.js'
import { message, openClient, type DeviceClient, type Twin } from '../helpers/sdk.js'
import { buildRenderer, CHROMIUM_ARGS, signIn } from '../ui/support.js'
import { waitFor } from './harness.js'
import { startSyncUi, type SyncUiEnv } from './ui-support.js'

const shots = join(REPO_ROOT, 'test-results', 'ui')
const suite = new CleanupStack()
let ctx: BrowserContext
let page: Page
let env: SyncUiEnv
let device: DeviceClient
let twin: Twin
const problems: string[] = []

beforeAll(async () => {
  const staticDir = buildRenderer(suite.defer)
  mkdirSync(shots, { recursive: true })
  env = await startSyncUi(suite.defer, { staticDir })
  await env.edge.running.hub.registry.create({ deviceId: 'press-1' })
  device = await openClient(env.edge.running.hub.registry.deviceConnectionString({ deviceId: 'press-1' }), { ca: env.ca, defer: suite.defer })
  twin = await device.getTwin()
  const userDataDir = mkdtempSync(join(tmpdir(), 'sitehub-chromium-'))
  suite.defer(() => { rmSync(userDataDir, { recursive: true, force: true }) })
  ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1366, height: 768 } })
  suite.defer(() => ctx.close())
  page = ctx.pages()[0] ?? await ctx.newPage()
  page.on('console', m => { if (m.type() === 'error') problems.push(m.text()) })
  page.on('pageerror', e => { problems.push(e.message) })
  await signIn(page, env)
  await page.goto(`${env.ui.url}#/sync`)
  await page.locator('body[data-ready="true"]').waitFor()
}, 180_000)

afterAll(() => suite.run(), 60_000)

async function shot (name: string): Promise<void> {
  await page.evaluate("document.querySelector('.app').style.height = 'auto'")
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  await page.evaluate("document.querySelector('.app').style.height = ''")
}
const report = (patch: Record<string, unknown>): Promise<void> => new Promise((resolve, reject) => {
  twin.properties.reported.update(patch, (err?: Error) => { if (err) reject(err); else resolve() })
})
const text = (id: string): Promise<string> => page.getByTestId(id).innerText()
const row = (id: string): string => `[data-testid="device-row"][data-id="${id}"] [data-testid="sync-state"]`

describe('cloud sync screens in Chromium', () => {
  it('connects the edge to the cloud from the settings form (connection string + CA file)', async () => {
    await page.getByTestId('sync-off').waitFor()
    await page.getByTestId('sync-cs').fill('HostName only')
    await page.locator('.field-error', { hasText: 'needs HostName' }).waitFor()
    expect(await page.getByTestId('sync-save').isDisabled()).toBe(true)
    await page.getByTestId('sync-cs').fill(env.upstreamCs)
    // a file that is not a certificate is caught before anything is sent
    await page.getByTestId('sync-ca-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') })
    await page.locator('[data-testid="sync-ca-loaded"]', { hasText: 'holds no PEM certificate' }).waitFor()
    expect(await page.getByTestId('sync-save').isDisabled()).toBe(true)
    await page.getByTestId('sync-ca-file').setInputFiles({ name: 'cloud-ca.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(env.ca) })
    await page.locator('[data-testid="sync-ca-loaded"]', { hasText: 'cloud-ca.pem: 1 certificate loaded' }).waitFor()
    await page.getByTestId('sync-test').click()
    await page.locator('[data-testid="sync-test-result"][data-ok="true"]').waitFor({ timeout: 20_000 })
    expect(await text('sync-test-result')).toContain(`Connected to ${env.proxy.ip} with policy iothubowner`)
    await shot('sync-setup')
    await page.getByTestId('sync-save').click()
    await page.locator('[data-testid="link-picture"][data-state="online"]').waitFor({ timeout: 30_000 })
    expect(await text('link-state')).toBe('Online')
    expect(await text('settings-host')).toBe(env.proxy.ip)
    expect(await text('settings-policy')).toBe('iothubowner')
    expect(await text('settings-ca')).toMatch(/CN=Sitehub CA/)
    // write-only: the key is nowhere on the page (nor in the form, which was cleared)
    const key = /SharedAccessKey=([^;]+)/.exec(env.upstreamCs)?.[1] as string
    expect(await page.content()).not.toContain(key)
    await page.locator(row('press-1'), { hasText: 'In sync' }).waitFor({ timeout: 30_000 })
  }, 120_000)

  it('shows the link offline when the proxy is cut, counts growing while the device works, then draining', async () => {
    await report({ fw: '1.0.0' })
    await page.locator(row('press-1'), { hasText: 'In sync' }).waitFor({ timeout: 30_000 })
    await shot('sync-online')
    env.proxy.pause()
    await page.locator('[data-testid="link-picture"][data-state="offline"]').waitFor({ timeout: 20_000 })
    await page.getByTestId('last-error').waitFor()
    for (let n = 1; n <= 5; n++) await report({ n })
    for (let i = 0; i < 40; i++) await device.sendEvent(message(JSON.stringify({ i })))
    await page.locator('[data-testid="q-telemetry-value"]', { hasText: /^40$/ }).waitFor({ timeout: 20_000 })
    await page.locator(row('press-1'), { hasText: '5 changes pending' }).waitFor({ timeout: 20_000 })
    expect(await text('q-reported-value')).toBe('1')
    expect(await text('q-age-value')).toMatch(/^\d+ (s|min \d+ s)$/)
    expect(await text('sync-count-pending')).toBe('1')
    await page.locator('[data-testid="drain"][data-pending="40"][data-peak="40"]', { hasText: 'Backlog waiting for the link' }).waitFor()
    await page.locator('[data-testid="reconnects"]', { hasText: /^[1-9]/ }).waitFor({ timeout: 20_000 })
    await shot('sync-offline')

    env.proxy.resume()
    await page.locator('[data-testid="link-picture"][data-state="online"]').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid="q-telemetry-value"]', { hasText: /^0$/ }).waitFor({ timeout: 30_000 })
    await page.locator('[data-testid="q-sent-value"]', { hasText: /^40$/ }).waitFor({ timeout: 30_000 })
    await page.locator(row('press-1'), { hasText: 'In sync' }).waitFor({ timeout: 30_000 })
    await page.getByTestId('drain').waitFor({ state: 'detached' })
    expect((await env.cloudReg.getTwin('press-1')).responseBody.properties.reported['n']).toBe(5)
  }, 120_000)

  it('reviews a desired conflict made on both sides offline (three values, who) and resolves it field by field; the values reach cloud and device', async () => {
    const desiredAtDevice: Array<Record<string, unknown>> = []
    twin.on('properties.desired', (d: Record<string, unknown>) => { desiredAtDevice.push(d) })
    await env.cloudReg.updateTwin('press-1', { properties: { desired: { mode: 'normal', limit: 10 } } } as never, '*')
    await waitFor('mode=normal at the device', () => desiredAtDevice.some(d => d['mode'] === 'normal'), 20_000)
    expect(await env.edge.running.hub.sync.waitIdle(20_000)).toBe(true)

    env.proxy.pause()
    await page.locator('[data-testid="link-picture"][data-state="offline"]').waitFor({ timeout: 20_000 })
    // the technician edits desired on the device page; meanwhile the cloud changes the same fields
    await page.goto(`${env.ui.url}#/devices/press-1`)
    await page.getByTestId('patch-editor').fill('{"mode": "eco", "limit": 20}')
    await page.getByTestId('patch-save').click()
    await waitFor('mode=eco at the device', () => desiredAtDevice.some(d => d['mode'] === 'eco'), 20_000)
    await env.cloudReg.updateTwin('press-1', { properties: { desired: { mode: 'turbo', limit: 30 } } } as never, '*')
    env.proxy.resume()

    await page.goto(`${env.ui.url}#/sync`)
    await page.getByTestId('open-conflicts').click({ timeout: 30_000 })
    await page.locator('[data-testid="conflict-item"][data-id="press-1|desired"]').waitFor()
    const detail = page.locator('[data-testid="conflict-detail"][data-id="press-1|desired"]')
    const mode = detail.locator('[data-testid="tw-row"][data-path="mode"]')
    const limit = detail.locator('[data-testid="tw-row"][data-path="limit"]')
    expect(await mode.getByTestId('tw-base').innerText()).toBe('"normal"')
    expect(await mode.getByTestId('tw-local').innerText()).toMatch(/^"eco"\s*changed .* by test-admin \(in the UI\)$/)
    expect(await mode.getByTestId('tw-cloud').innerText()).toMatch(/^"turbo"\s*changed /)
    expect(await limit.getByTestId('tw-base').innerText()).toBe('10')
    expect(await limit.getByTestId('tw-local').innerText()).toMatch(/^20\s/)
    expect(await limit.getByTestId('tw-cloud').innerText()).toMatch(/^30\s/)
    expect(await detail.getByTestId('auto-resolve').innerText()).toMatch(/default policy keeps the cloud's values on /)
    expect(await detail.getByTestId('resolve-apply').isDisabled()).toBe(true)
    // keep the site's mode, write a new limit by hand
    await mode.getByTestId('choice-local').check()
    expect(await detail.getByTestId('resolve-summary').innerText()).toMatch(/1 left/)
    await limit.getByTestId('choice-edit').check()
    await limit.getByTestId('choice-value').fill('42')
    expect(await detail.getByTestId('resolve-summary').innerText()).toMatch(/Field by field: .*mode = site.*limit = 42|Field by field: .*limit = 42.*mode = site/)
    await shot('sync-conflict')
    await detail.getByTestId('resolve-apply').click()
    await page.getByTestId('conflicts-empty').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid="resolved"][data-id="press-1|desired"]', { hasText: 'Decided field by field by test-admin (in the UI)' }).waitFor()
    await shot('sync-conflicts-resolved')

    await waitFor('limit=42 at the device', () => desiredAtDevice.some(d => d['limit'] === 42), 20_000)
    const cloudDesired = (await env.cloudReg.getTwin('press-1')).responseBody.properties.desired
    expect([cloudDesired['mode'], cloudDesired['limit']]).toEqual(['eco', 42])
    const edgeDesired = env.edge.running.hub.twins.get({ deviceId: 'press-1' }).properties.desired
    expect([edgeDesired['mode'], edgeDesired['limit']]).toEqual(['eco', 42])
    await page.goto(`${env.ui.url}#/sync`)
    await page.locator('[data-testid="q-conflicts-value"]', { hasText: /^0$/ }).waitFor()
    await page.locator(row('press-1'), { hasText: 'In sync' }).waitFor({ timeout: 30_000 })
  }, 150_000)

  it('shows an identity clash in words and resolves it by keeping the cloud\'s keys', async () => {
    await env.cloudReg.create({ deviceId: 'clash', authentication: { symmetricKey: { primaryKey: '', secondaryKey: '' } } } as never)
    await env.edge.running.hub.registry.create({ deviceId: 'clash' })
    await page.goto(`${env.ui.url}#/sync/conflicts?id=${encodeURIComponent('clash|registry')}`)
    const detail = page.locator('[data-testid="conflict-detail"][data-id="clash|registry"]')
    await detail.waitFor({ timeout: 30_000 })
    expect(await detail.locator('h2').innerText()).toBe('clash has a different primary key and secondary key in the cloud than here at the site')
    // fingerprints, never keys
    const pk = detail.locator('[data-testid="tw-row"][data-path="authentication.symmetricKey.primaryKey"]')
    const localKey = env.edge.running.hub.registry.mustGet({ deviceId: 'clash' }).authentication.symmetricKey.primaryKey as string
    expect(await pk.getByTestId('tw-local').innerText()).toMatch(/^"[0-9a-f]{16}"$/)
    expect(await pk.getByTestId('tw-cloud').innerText()).not.toBe(await pk.getByTestId('tw-local').innerText())
    expect(await page.content()).not.toContain(localKey)
    expect(await detail.getByTestId('choice-local').count()).toBe(0) // identities are decided as a whole
    await detail.getByTestId('keep-all-cloud').click()
    expect(await detail.getByTestId('resolve-summary').innerText()).toBe("Use the cloud's primary key and secondary key here (devices using the site's key need the new connection string)")
    await shot('sync-conflict-registry')
    await detail.getByTestId('resolve-apply').click()
    await page.getByTestId('conflicts-empty').waitFor({ timeout: 30_000 })
    const cloudKey = (await env.cloudReg.get('clash')).responseBody.authentication?.symmetricKey?.primaryKey
    expect(env.edge.running.hub.registry.mustGet({ deviceId: 'clash' }).authentication.symmetricKey.primaryKey).toBe(cloudKey)
  }, 120_000)

  it('keeps the per-device table windowed with a thousand devices, filtered by state', async () => {
    const hub = env.edge.running.hub
    await page.goto(`${env.ui.url}#/sync`)
    for (let i = 0; i < 1000; i++) await hub.registry.create({ deviceId: `bulk-${String(i).padStart(4, '0')}` })
    // the table follows the registry at once; mirroring a thousand devices upstream takes the engine a while (docs/sync.md bench)
    await page.locator('[data-testid="sync-count-all"]', { hasText: /^1002$/ }).waitFor({ timeout: 30_000 })
    await page.locator('[data-testid="sync-devices"][data-total="1002"]').waitFor({ timeout: 30_000 })
    expect(await page.locator('[data-testid="device-row"]').count()).toBeLessThan(60)
    await page.getByTestId('device-table').focus()
    await page.keyboard.press('End')
    await page.locator('[data-testid="device-row"][data-id="press-1"]').waitFor()
    await page.getByTestId('sync-search').fill('bulk-099')
    await page.locator('[data-testid="sync-devices"][data-total="10"]').waitFor()
    await page.getByTestId('sync-search').fill('')
    await page.getByTestId('sync-tab-conflict').click()
    await page.getByTestId('sync-devices-empty').waitFor()
    await page.getByTestId('sync-tab-all').click()
    await page.locator('[data-testid="sync-devices"][data-total="1002"]').waitFor()
    await shot('sync-1000')
    await page.getByTestId('theme-toggle').click()
    await page.locator('html[data-theme="dark"]').waitFor()
    await shot('sync-1000-dark')
    await page.getByTestId('theme-toggle').click()
    await page.locator('html[data-theme="light"]').waitFor()
    expect(problems).toEqual([])
  }, 180_000)

  it('shows a technician the sync state but not the upstream controls', async () => {
    await signIn(page, env, 'technician')
    await page.goto(`${env.ui.url}#/sync`)
    await page.locator('[data-testid="link-picture"][data-state="online"]').waitFor({ timeout: 30_000 })
    await page.locator('[data-testid="sync-settings"] [data-testid="not-allowed"]').waitFor()
    expect(await page.getByTestId('sync-settings-edit').count()).toBe(0)
    expect(await page.getByTestId('sync-off').count()).toBe(0)
    expect(await page.getByTestId('policy-save').count()).toBe(0)
    expect(await text('settings-host')).toBe(env.proxy.ip)
    expect(problems).toEqual([])
  }, 60_000)
})
