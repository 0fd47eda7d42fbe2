// The Devices and Device detail tools in Debian's Chromium (playwright-core) against a real
// in-process hub, signed in as a technician: the query bar's highlighting and error spot,
// saved views (save, reopen after a reload, rename, refuse a duplicate, delete), a bulk tag
// with one device deleted meanwhile, the connection string's QR code decoded (jsQR) from a
// screenshot, a command queued for an offline device and run when the published SDK device
// (azure-iot-device-mqtt) connects, and the telemetry chart growing message by message while
// the page fetches only what is new. Waits on DOM state only.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jsQR from 'jsqr'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack, REPO_ROOT } from '../helpers/hub.js'
import { decodePng } from '../helpers/png.js'
import { message, openClient } from '../helpers/sdk.js'
import { buildRenderer, CHROMIUM_ARGS, signIn, startUiHub, type UiHub } from './support.js'

const shots = join(REPO_ROOT, 'test-results', 'ui')
const suite = new CleanupStack()
let ctx: BrowserContext
let page: Page
let env: UiHub
const problems: string[] = []
/** Calls the page sent over its WebSocket: method and input. */
const sent: Array<{ method: string; input: Record<string, unknown> }> = []

beforeAll(async () => {
  const staticDir = buildRenderer(suite.defer)
  mkdirSync(shots, { recursive: true })
  env = await startUiHub(suite.defer, { staticDir })
  const hub = env.hub.hub
  const devices: Array<[string, { line: number }, string | null]> = [
    ['press-1', { line: 1 }, '1.9.0'], ['press-2', { line: 2 }, '1.10.0'], ['press-3', { line: 3 }, '1.9.0'], ['oven-1', { line: 1 }, null]
  ]
  for (const [id, tags, fw] of devices) {
    await hub.registry.create({ deviceId: id })
    await hub.twins.patchTags({ deviceId: id }, tags)
    if (fw !== null) await hub.twins.patchReported({ deviceId: id }, { firmware: { current: fw } })
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'sitehub-chromium-'))
  suite.defer(() => { rmSync(userDataDir, { recursive: true, force: true }) })
  ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, viewport: { width: 1366, height: 768 } })
  suite.defer(() => ctx.close())
  page = ctx.pages()[0] ?? await ctx.newPage()
  page.on('console', m => { if (m.type() === 'error') problems.push(m.text()) })
  page.on('pageerror', e => { problems.push(e.message) })
  page.on('websocket', ws => {
    ws.on('framesent', f => {
      try {
        const frame = JSON.parse(String(f.payload)) as { method?: string; input?: Record<string, unknown> }
        if (typeof frame.method === 'string') sent.push({ method: frame.method, input: frame.input ?? {} })
      } catch { /* not a call */ }
    })
  })
  await page.goto(env.ui.url)
  await signIn(page, env, 'technician')
}, 180_000)

afterAll(() => suite.run(), 60_000)

async function shot (name: string, whole = true): Promise<void> {
  if (whole) await page.evaluate("document.querySelector('.app').style.height = 'auto'")
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  if (whole) await page.evaluate("document.querySelector('.app').style.height = ''")
}

const total = (text: string) => page.locator('[data-testid="device-total"]', { hasText: new RegExp(`^${text}$`) })
const rowIds = async (): Promise<string[]> => await page.locator('[data-testid="device-row"]').evaluateAll(els => els.map(e => e.getAttribute('data-id') ?? ''))

describe('devices tools in Chromium', () => {
  it('highlights a query as it is typed and underlines the spot the hub reports', async () => {
    await page.goto(`${env.ui.url}#/devices`)
    await page.locator('[data-testid="device-row"][data-id="press-3"]').waitFor()
    const bar = page.getByTestId('query-input')
    const hl = page.getByTestId('query-input-highlight')
    const q = "tags.line IN [1, 2] AND STARTSWITH(deviceId, 'press') AND NOT IS_DEFINED(tags.retired)"
    await bar.fill(q)
    expect(await hl.locator('.q-keyword').allInnerTexts()).toEqual(['IN', 'AND', 'AND', 'NOT'])
    expect(await hl.locator('.q-function').allInnerTexts()).toEqual(['STARTSWITH', 'IS_DEFINED'])
    expect(await hl.locator('.q-string').allInnerTexts()).toEqual(["'press'"])
    expect(await hl.locator('.q-number').allInnerTexts()).toEqual(['1', '2'])
    expect((await hl.locator('.q-path').allInnerTexts()).join('')).toBe('tags.linedeviceIdtags.retired')
    // the overlay spells exactly the text of the box, in the same box with the same type
    expect(await hl.textContent()).toBe(`${q}\n`)
    // (a string: the test files are typechecked without the DOM library)
    const same = await page.evaluate(`(() => {
      const a = document.querySelector('[data-testid="query-input-highlight"]')
      const b = document.querySelector('[data-testid="query-input"]')
      const ra = a.getBoundingClientRect()
      const rb = b.getBoundingClientRect()
      const props = ['font-family', 'font-size', 'line-height', 'letter-spacing', 'padding-left', 'padding-top', 'border-left-width', 'white-space', 'overflow-wrap']
      const sa = getComputedStyle(a)
      const sb = getComputedStyle(b)
      return { box: [ra.x - rb.x, ra.y - rb.y, ra.width - rb.width, ra.height - rb.height], differ: props.filter(p => sa.getPropertyValue(p) !== sb.getPropertyValue(p)) }
    })()`)
    expect(same).toEqual({ box: [0, 0, 0, 0], differ: [] })
    // a long query wraps the same way in both, and the box grows with it
    const geometry = `(() => {
      const a = document.querySelector('[data-testid="query-input-highlight"]').getBoundingClientRect()
      const b = document.querySelector('[data-testid="query-input"]')
      return { heights: [a.height, b.getBoundingClientRect().height], scrolls: b.scrollHeight > b.clientHeight }
    })()`
    await bar.fill(Array.from({ length: 8 }, (_, i) => `tags.zone${i} = 'hall-${i}'`).join(' OR '))
    const long = await page.evaluate(geometry) as { heights: [number, number]; scrolls: boolean }
    expect(long.heights[0]).toBe(long.heights[1])
    expect(long.heights[0]).toBeGreaterThan(80) // more than one line
    expect(long.scrolls).toBe(false) // never a hidden scroll offset between the two
    await bar.fill(q)
    await bar.press('Enter')
    await total('2').waitFor()
    expect(await rowIds()).toEqual(['press-1', 'press-2'])

    // a half-typed string is marked as you type, before anything runs
    await bar.fill("tags.site = 'hall")
    await page.locator('[data-testid="query-lex-problem"]', { hasText: 'At position 13: expected a closing quote' }).waitFor()
    expect(await page.getByTestId('query-error-mark').innerText()).toBe("'hall")

    // the hub's error spot, underlined in place: the second '='
    await bar.fill('tags.line = = 1')
    await bar.press('Enter')
    await page.getByTestId('query-error').waitFor()
    expect(await page.getByTestId('query-error').getAttribute('data-offset')).toBe('13')
    expect(await page.getByTestId('error-note').innerText()).toContain('Syntax error at position 13')
    const markAt = await page.evaluate(`(() => {
      const pre = document.querySelector('[data-testid="query-input-highlight"]')
      let n = 0
      for (const el of Array.from(pre.children)) { if (el.tagName === 'MARK') return { at: n, text: el.textContent }; n += (el.textContent ?? '').length }
      return null
    })()`)
    expect(markAt).toEqual({ at: 12, text: '=' })
    expect(await bar.getAttribute('aria-invalid')).toBe('true')
    await shot('devices-query-highlight', false)
    await page.getByTestId('theme-toggle').click()
    await page.locator('html[data-theme="dark"]').waitFor({ state: 'attached' })
    await shot('devices-query-highlight-dark', false)
    await page.getByTestId('theme-toggle').click()
    await page.locator('html[data-theme="light"]').waitFor({ state: 'attached' })
    // editing the text retires the hub's mark: it was about the old text
    await bar.press('End')
    await bar.pressSequentially('0')
    await page.getByTestId('query-error-mark').waitFor({ state: 'detached' })
    // Shift+Enter adds a line instead of running
    await bar.fill('tags.line = 3')
    await bar.press('Shift+Enter')
    expect(await bar.inputValue()).toBe('tags.line = 3\n')
    await bar.press('Enter')
    await total('1').waitFor()
    expect(await rowIds()).toEqual(['press-3'])
  }, 60_000)

  it('saves a view, reopens it after a reload, refuses a duplicate name, renames and deletes views', async () => {
    const bar = page.getByTestId('query-input')
    await bar.fill('tags.line IN [1, 2]')
    await bar.press('Enter')
    await total('3').waitFor()
    await page.getByTestId('device-search').fill('press')
    await page.getByTestId('sort-firmware').click()
    await total('2 of 3').waitFor()
    expect(await rowIds()).toEqual(['press-1', 'press-2']) // 1.9.0 before 1.10.0
    await page.getByTestId('sort-firmware').click()
    expect(await rowIds()).toEqual(['press-2', 'press-1'])
    expect(await page.getByTestId('sort-firmware').getAttribute('data-dir')).toBe('desc')

    await page.getByTestId('view-save').click()
    expect(await page.getByTestId('view-save-form').innerText()).toContain("tags.line IN [1, 2] · id contains “press” · by firmware ▼")
    await page.getByTestId('view-name').fill('Presses on lines 1-2')
    await page.getByTestId('view-save-confirm').click()
    await page.getByTestId('view-save-form').waitFor({ state: 'detached' })
    expect(await page.getByTestId('view-select').inputValue()).toBe('Presses on lines 1-2')

    // the same name in another case is refused until "replace" is ticked
    await page.getByTestId('view-save').click()
    await page.getByTestId('view-name').fill('presses ON lines 1-2')
    await page.locator('[data-testid="view-name-problem"]', { hasText: 'already exists' }).waitFor()
    expect(await page.getByTestId('view-save-confirm').isDisabled()).toBe(true)
    await page.getByTestId('view-replace').check()
    expect(await page.getByTestId('view-save-confirm').innerText()).toBe('Replace')
    await page.getByTestId('view-save').click() // changed my mind: close the form

    // a second view to delete later
    await bar.fill("deviceId = 'oven-1'")
    await bar.press('Enter')
    await page.getByTestId('device-search').fill('')
    await page.getByTestId('view-changed').waitFor()
    await page.getByTestId('view-save').click()
    await page.getByTestId('view-name').fill('Oven')
    await page.getByTestId('view-name').press('Enter')
    await page.getByTestId('view-save-form').waitFor({ state: 'detached' })

    // the hub keeps them: a reloaded page (another technician's, as far as it knows) has both
    await page.reload()
    await signIn(page, env, 'technician')
    await page.goto(`${env.ui.url}#/devices`)
    await page.locator('[data-testid="view-select"] option', { hasText: 'Oven' }).waitFor({ state: 'attached' })
    await page.getByTestId('view-select').selectOption('Presses on lines 1-2')
    await total('2 of 3').waitFor()
    expect(await bar.inputValue()).toBe('tags.line IN [1, 2]')
    expect(await page.getByTestId('device-search').inputValue()).toBe('press')
    expect(await page.getByTestId('sort-firmware').getAttribute('data-dir')).toBe('desc')
    expect(await rowIds()).toEqual(['press-2', 'press-1'])

    await page.getByTestId('views-manage').click()
    await page.locator('[data-testid="view-item"][data-name="Presses on lines 1-2"] [data-testid="view-rename"]').click()
    await page.getByTestId('view-new-name').fill('oven')
    await page.locator('[data-testid="view-rename-problem"]', { hasText: 'already exists' }).waitFor()
    await page.getByTestId('view-new-name').fill('Presses 1-2')
    await page.getByTestId('view-rename-confirm').click()
    await page.locator('[data-testid="view-item"][data-name="Presses 1-2"]').waitFor()
    expect(await page.getByTestId('view-select').inputValue()).toBe('Presses 1-2')
    await shot('devices-views', false)
    await page.locator('[data-testid="view-item"][data-name="Oven"] [data-testid="view-delete"]').click()
    await page.getByTestId('view-delete-confirm').click()
    await page.locator('[data-testid="view-item"][data-name="Oven"]').waitFor({ state: 'detached' })
    expect(await page.locator('[data-testid="view-select"] option').allInnerTexts()).toEqual(['Pick a saved view…', 'Presses 1-2'])
    expect([...env.hub.hub.store.entries('uiViews')].map(([, v]) => [v.name, v.query, v.search, v.sort])).toEqual([
      ['Presses 1-2', 'tags.line IN [1, 2]', 'press', { column: 'firmware', direction: 'desc' }]
    ])
  }, 60_000)

  it('tags a selection in bulk after a confirmation, with one outcome per device', async () => {
    await page.getByRole('button', { name: 'Clear', exact: true }).click()
    await page.getByTestId('device-search').fill('')
    await page.getByTestId('sort-firmware').click() // descending -> the hub's order again
    expect(await page.getByTestId('sort-firmware').getAttribute('data-dir')).toBe('')
    await total('4').waitFor()
    for (const id of ['press-1', 'press-2', 'oven-1']) await page.locator(`[data-testid="device-row"][data-id="${id}"] [data-testid="row-select"]`).check()
    await page.locator('[data-testid="bulk-count"]', { hasText: '3 selected' }).waitFor()
    await page.getByTestId('bulk-tag-open').click()
    await page.getByTestId('bulk-tag-name').fill('site')
    await page.getByTestId('bulk-tag-value').fill('hall-9')
    expect(await page.getByTestId('bulk-tag-type').innerText()).toBe('(text)')
    await page.getByTestId('bulk-tag-next').click()
    expect(await page.getByTestId('bulk-tag-summary').innerText()).toContain('Set site to "hall-9" on 3 devices?')
    // meanwhile someone deletes one of them
    await env.hub.hub.registry.remove({ deviceId: 'oven-1' })
    await page.locator('[data-testid="device-row"][data-id="oven-1"]').waitFor({ state: 'detached' })
    await page.getByTestId('bulk-tag-confirm').click()
    await page.locator('[data-testid="bulk-tag-progress"][data-running="false"][data-done="3"]').waitFor()
    expect(await page.getByTestId('bulk-tag-result').innerText()).toBe('2 changed · 1 failed')
    expect(await page.locator('[data-testid="bulk-tag-failure"][data-id="oven-1"]').innerText()).toMatch(/oven-1: This device does not exist.*DeviceNotFound 404001/)
    await page.getByTestId('bulk-tag-show-all').click()
    expect(await page.locator('[data-testid="bulk-tag-outcome"][data-ok="true"]').evaluateAll(els => els.map(e => e.getAttribute('data-id')))).toEqual(['press-1', 'press-2'])
    await shot('devices-bulk-tag', false)
    await page.getByTestId('bulk-tag-close').click()
    await page.getByRole('button', { name: 'Clear selection' }).click()

    // the tags are there: the query finds exactly them, and the device page shows the tag
    await page.getByTestId('query-input').fill("tags.site = 'hall-9'")
    await page.getByTestId('query-input').press('Enter')
    await total('2').waitFor()
    expect(await rowIds()).toEqual(['press-1', 'press-2'])
    expect(env.hub.hub.twins.get({ deviceId: 'press-2' }).tags).toEqual({ line: 2, site: 'hall-9' })
    await page.locator('[data-testid="device-row"][data-id="press-1"]').click()
    await page.locator('[data-testid="twin-tags"]', { hasText: 'hall-9' }).waitFor()
  }, 60_000)

  it('shows the QR code only with the key, and it scans to the exact connection string', async () => {
    await page.locator('h1', { hasText: 'press-1' }).waitFor()
    await page.getByTestId('connection-string').waitFor()
    expect(await page.getByTestId('connection-qr').count()).toBe(0)
    expect(await page.getByTestId('connection-string').innerText()).toContain('SharedAccessKey=••••••••')
    // masked means masked: the key is nowhere in the page until it is shown
    const key = env.hub.hub.registry.deviceConnectionString({ deviceId: 'press-1' }).split('SharedAccessKey=')[1] as string
    expect(await page.content()).not.toContain(key)
    await page.getByTestId('reveal-key').click()
    const qr = page.getByTestId('connection-qr')
    await qr.waitFor()
    await qr.scrollIntoViewIfNeeded()
    const png = decodePng(await qr.screenshot())
    const decoded = jsQR(png.data, png.width, png.height)
    const expected = env.hub.hub.registry.deviceConnectionString({ deviceId: 'press-1' })
    expect(decoded?.data).toBe(expected)
    expect(await page.getByTestId('connection-string').innerText()).toBe(expected)
    await shot('device-qr')
    await page.getByTestId('reveal-key').click()
    await qr.waitFor({ state: 'detached' })
    // Back returns to the table as it was: the query that ran is in the address
    await page.goBack()
    await total('2').waitFor()
    expect(await page.getByTestId('query-input').inputValue()).toBe("tags.site = 'hall-9'")
  }, 60_000)

  it('queues commands for an offline device, cancels one, and watches the other succeed when the SDK device connects; the chart grows as it sends', async () => {
    const cs = await env.hub.addDevice('pump-7')
    await page.goto(`${env.ui.url}#/devices/pump-7`)
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Offline' }).waitFor()
    await page.getByTestId('commands-empty').waitFor()
    await page.getByTestId('telemetry-empty').waitFor()
    const firstSince = sent.filter(c => c.method === 'telemetry.since').length
    const historyBefore = sent.filter(c => c.method === 'telemetry.history').length

    await page.getByTestId('command-method').fill('flush')
    await page.getByTestId('command-payload').fill('{"seconds": 3}')
    await page.getByTestId('command-enqueue').click()
    const flush = page.locator('[data-testid="command"][data-method="flush"]')
    await flush.and(page.locator('[data-status="queued"]')).waitFor()
    await flush.getByTestId('command-cancel').click()
    await flush.and(page.locator('[data-status="cancelled"]')).waitFor()

    await page.getByTestId('command-method').fill('reboot')
    await page.getByTestId('command-ttl').selectOption('3600')
    await page.getByTestId('command-enqueue').click()
    const reboot = page.locator('[data-testid="command"][data-method="reboot"]')
    await reboot.and(page.locator('[data-status="queued"]')).waitFor()
    expect(await reboot.innerText()).toMatch(/Waiting for the device[\s\S]*expires in (60 min|59 min|1 h)/)
    expect(await page.getByTestId('commands-waiting').innerText()).toBe('1 waiting')
    expect(env.hub.hub.commands.list({ identity: { deviceId: 'pump-7' } }).map(c => [c.methodName, c.status, c.ttlInSeconds])).toEqual([['reboot', 'queued', 3600], ['flush', 'cancelled', 86_400]])
    await shot('device-commands-queued')

    // the device comes online: the hub sends the queued reboot, the page follows it to the end
    const device = await openClient(cs, { ca: await env.hub.ca(), defer: suite.defer, noOpen: true })
    const ran: string[] = []
    device.onDeviceMethod('reboot', (_req, res) => { ran.push('reboot'); void res.send(200, { rebooted: true }) })
    device.onDeviceMethod('flush', (_req, res) => { ran.push('flush'); void res.send(200, {}) })
    await device.open()
    await page.locator('[data-testid="detail-conn"]', { hasText: 'Online' }).waitFor()
    await reboot.and(page.locator('[data-status="succeeded"]')).waitFor({ timeout: 30_000 })
    expect(await reboot.getByTestId('command-response').innerText()).toBe('answer 200 {"rebooted":true}')
    await page.getByTestId('commands-waiting').waitFor({ state: 'detached' })
    expect(ran).toEqual(['reboot']) // the cancelled flush never reached the device

    // telemetry: the chart gains a point per message, streamed, not refetched
    for (let i = 1; i <= 5; i++) {
      await device.sendEvent(message(JSON.stringify({ temperature: 20 + i, humidity: 50 - i }), { unit: 'C' }))
      await page.locator(`[data-testid="telemetry-chart"][data-field="temperature"][data-points="${i}"]`).waitFor()
    }
    await page.locator('[data-testid="telemetry-chart"][data-field="humidity"][data-points="5"]').waitFor()
    expect(await page.getByTestId('telemetry-item').count()).toBe(5)
    expect(await page.getByTestId('telemetry-item').first().innerText()).toMatch(/\{"temperature":25,"humidity":45\}.*unit=C/)
    const since = sent.filter(c => c.method === 'telemetry.since').slice(firstSince)
    const stored = (await env.hub.hub.telemetry.history({ deviceId: 'pump-7' }, 10)).map(m => m.seq)
    // the first call loads (afterSeq 0); every later one asks only for what follows the last message it has
    expect(since[0]?.input).toMatchObject({ deviceId: 'pump-7', afterSeq: 0 })
    const afters = since.slice(1).map(c => c.input['afterSeq'])
    expect(afters.length).toBeGreaterThanOrEqual(1)
    expect(afters.length).toBeLessThanOrEqual(5)
    expect(afters.every(a => a === 0 || stored.slice(0, -1).includes(a as number))).toBe(true)
    expect([...afters].sort((a, b) => Number(a) - Number(b))).toEqual(afters)
    expect(sent.filter(c => c.method === 'telemetry.history').length).toBe(historyBefore)
    await page.getByTestId('chart-field').first().waitFor()
    await page.getByTestId('chart-window-1min').click()
    await page.locator('[data-testid="telemetry-chart"][data-field="temperature"][data-points="5"]').waitFor()
    expect(await page.locator('[data-testid="telemetry-chart"][data-field="temperature"] [data-testid="chart-last"]').innerText()).toBe('25')
    await page.getByTestId('telemetry-panel').scrollIntoViewIfNeeded()
    await page.getByTestId('telemetry-panel').screenshot({ path: join(shots, 'device-telemetry-chart.png') })
    await shot('device-detail-live')
    expect(problems).toEqual([])
  }, 90_000)
})
