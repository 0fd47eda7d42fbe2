// The site screens' UI methods over the WebSocket against a real in-process hub: serial ports
// on a real socat pty pair with the reference serial device, chunked firmware upload (sha256
// verified by the hub, durable before the answer, refusals), and settings that change the
// fleet's alerts and are announced as events. Every method is also fed bad input.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { FIRMWARE_CHUNK_BYTES, type UiEvent } from '../../src/shared/contract/index.js'
import { startSerialDevice } from '../../src/main/sim/serial/device.js'
import { frame } from '../../src/main/sim/serial/frames.js'
import { createSiteHandlers } from '../../src/main/hub/api/ui/site-handlers.js'
import { waitFor } from '../helpers/hub.js'
import { ptyPair, tmpDir } from '../serial/helpers.js'
import { startUiHub } from './support.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

type Api = ReturnType<Awaited<ReturnType<typeof startUiHub>>['client']>

async function upload (api: Api, name: string, version: string, data: Buffer, description?: string) {
  const begin = await api.call('firmware.uploadBegin', { name, version, size: data.length, sha256: sha(data), ...(description === undefined ? {} : { description }) })
  if (!begin.ok) return begin
  for (let off = 0; off < data.length; off += begin.value.chunkBytes) {
    const r = await api.call('firmware.uploadChunk', { uploadId: begin.value.uploadId, offset: off, data: data.subarray(off, off + begin.value.chunkBytes).toString('base64') })
    if (!r.ok) return r
  }
  return await api.call('firmware.uploadFinish', { uploadId: begin.value.uploadId })
}

describe('site screens API over the WebSocket', () => {
  it('configures a serial port with validation, and streams its live line statistics as serial.status events', async () => {
    const { client, hub } = await startUiHub(defer, { intervalMs: 50 })
    const api = client()
    const events: UiEvent[] = []
    api.subscribe(b => { events.push(...b) })
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)

    expect(await api.call('serial.list', undefined)).toEqual({ ok: true, value: [] })
    const machine = await api.call('serial.machinePorts', undefined)
    expect(machine.ok).toBe(true) // the OS list may be empty or unavailable here (no udev): then error says so
    if (machine.ok) expect(machine.value.error === null || /enter the port path by hand/.test(machine.value.error)).toBe(true)
    const profiles = await api.call('serial.profiles', undefined)
    expect(profiles.ok && profiles.value.length).toBeGreaterThan(0)

    // bad input: refused before the hub, or by hub.serial's own checks; nothing stored
    expect(await api.call('serial.add', { path: '' })).toMatchObject({ ok: false, error: { code: 400004, message: 'path must not be empty' } })
    expect(await api.call('serial.add', { path: pty.a, baudRate: 12 })).toMatchObject({ ok: false, error: { code: 400004, message: 'baudRate must be at least 50' } })
    expect(await api.call('serial.add', { path: pty.a, parity: 'sometimes' as 'odd' })).toMatchObject({ ok: false, error: { code: 400004 } })
    expect(await api.call('serial.add', { path: pty.a, devices: [{ deviceId: 'a b' }] })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('devices[0].deviceId') } })
    expect(await api.call('serial.add', { path: pty.a, devices: [{ deviceId: 'm1', address: 1 }], protocol: 'modbus' }))
      .toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('needs a profile') } })
    expect(await api.call('serial.add', { path: pty.a, devices: [{ deviceId: 'x1', address: 300 }] })).toMatchObject({ ok: false, error: { code: 400004, message: 'devices[0].address must be at most 247' } })
    expect(await api.call('serial.add', { path: pty.a, devices: [{ deviceId: 'x1' }, { deviceId: 'x1' }] }))
      .toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('listed twice') } })
    expect(await api.call('serial.add', { path: pty.a, devices: [{ deviceId: 'x1' }, { deviceId: 'x2' }] }))
      .toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('multidrop') } })
    expect(hub.hub.serial.list()).toEqual([])

    // a Modbus port with a unit id and a built-in profile; an unknown profile is refused by name
    expect(await api.call('serial.add', { name: 'mb', path: '/dev/ttyMB0', protocol: 'modbus', enabled: false, devices: [{ deviceId: 'tc-1', address: 3, profile: 'nope' }] }))
      .toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining("no Modbus profile 'nope'") } })
    expect(await api.call('serial.add', { name: 'mb', path: '/dev/ttyMB0', protocol: 'modbus', enabled: false, devices: [{ deviceId: 'tc-1', address: 3, profile: 'generic-temperature-controller' }] }))
      .toMatchObject({ ok: true, value: { config: { protocol: 'modbus', devices: [{ deviceId: 'tc-1', address: 3, profile: 'generic-temperature-controller' }] }, status: { state: 'disabled', devices: [{ deviceId: 'tc-1', registered: false }] } } })
    expect(await api.call('serial.remove', { name: 'mb' })).toMatchObject({ ok: true })

    const key = (await hub.hub.registry.create({ deviceId: 'line-dev' })).authentication.symmetricKey.primaryKey ?? ''
    const added = await api.call('serial.add', { name: 'bench-1', path: pty.a, baudRate: 9600, keepAliveSec: 5, devices: [{ deviceId: 'line-dev' }] })
    expect(added).toMatchObject({ ok: true, value: { config: { name: 'bench-1', path: pty.a, baudRate: 9600, protocol: 'line', devices: [{ deviceId: 'line-dev', address: null, profile: null }] } } })
    expect(await api.call('serial.add', { name: 'bench-1', path: '/dev/ttyS9' })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('already exists') } })
    expect(await api.call('serial.add', { name: 'other', path: pty.a })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('already uses') } })

    await waitFor(() => events.some(e => e.type === 'serial.status' && e.ports[0]?.state === 'open'), 30_000, 'port open in serial.status')
    const dev = await startSerialDevice({ path: pty.b, deviceId: 'line-dev', key })
    defer(() => dev.close())
    await dev.sendTelemetry({ t: 1 })
    const framesAt = (): number => {
      const last = events.filter(e => e.type === 'serial.status').at(-1)
      return last?.type === 'serial.status' ? last.ports[0]?.counters.framesIn ?? 0 : 0
    }
    await waitFor(() => framesAt() >= 3, 30_000, 'frames counted in serial.status')
    const before = framesAt()
    await dev.sendTelemetry({ t: 2 })
    await waitFor(() => framesAt() > before, 30_000, 'the counters move live')
    const last = events.filter(e => e.type === 'serial.status').at(-1)
    expect(last?.type === 'serial.status' && last.ports[0]?.devices[0]).toMatchObject({ deviceId: 'line-dev', connected: true, registered: true })

    // configure: another device on the port needs addresses for both (multidrop)
    expect(await api.call('serial.update', { name: 'bench-1', devices: [{ deviceId: 'line-dev' }, { deviceId: 'ghost' }] }))
      .toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('multidrop') } })
    expect(await api.call('serial.update', { name: 'nope', baudRate: 9600 })).toMatchObject({ ok: false, error: { code: 400004, message: 'there is no serial port named nope' } })
    const updated = await api.call('serial.update', { name: 'bench-1', enabled: false })
    expect(updated).toMatchObject({ ok: true, value: { config: { enabled: false, baudRate: 9600 } } })
    await waitFor(() => events.some(e => e.type === 'serial.status' && e.ports[0]?.state === 'disabled'), 30_000, 'port disabled')
    expect(await api.call('serial.remove', { name: 'bench-1' })).toEqual({ ok: true, value: { name: 'bench-1' } })
    expect(await api.call('serial.remove', { name: 'bench-1' })).toMatchObject({ ok: false, error: { code: 400004 } })
    await waitFor(() => events.filter(e => e.type === 'serial.status').at(-1)?.type === 'serial.status' && (events.filter(e => e.type === 'serial.status').at(-1) as { ports: unknown[] }).ports.length === 0, 30_000, 'empty port list sent')
  }, 60_000)

  it('counts retransmissions: a telemetry request sent again with the same id is acked again, stored once, and shown as retransmits', async () => {
    const { client, hub } = await startUiHub(defer, { intervalMs: 50 })
    const api = client()
    const events: UiEvent[] = []
    api.subscribe(b => { events.push(...b) })
    const pty = await ptyPair(await tmpDir(defer), defer)
    const key = (await hub.hub.registry.create({ deviceId: 'resender' })).authentication.symmetricKey.primaryKey ?? ''
    expect(await api.call('serial.add', { name: 'noisy-line', path: pty.a, baudRate: 9600 })).toMatchObject({ ok: true })
    const dev = await startSerialDevice({ path: pty.b, deviceId: 'resender', key, baudRate: 9600 })
    defer(() => dev.close())
    // what a device does when our ack is lost on the wire: the same request, same id, twice
    const tel = frame({ t: 'tel', i: 4242, body: { n: 1 } })
    dev.sendRaw(tel)
    dev.sendRaw(tel)
    const retransmits = (): number => {
      const last = events.filter(e => e.type === 'serial.status').at(-1)
      return last?.type === 'serial.status' ? last.ports[0]?.counters.retransmits ?? 0 : 0
    }
    await waitFor(() => retransmits() === 1, 30_000, 'one retransmission in serial.status')
    expect((await hub.hub.telemetry.history({ deviceId: 'resender' }, 10)).length).toBe(1)
  }, 60_000)

  it('uploads firmware in chunks under the frame limit, verifies sha256, lists it with where it runs, and refuses bad uploads', async () => {
    const { client, hub } = await startUiHub(defer, { intervalMs: 50 })
    const api = client()
    const events: UiEvent[] = []
    api.subscribe(b => { events.push(...b) })
    const image = Buffer.alloc(FIRMWARE_CHUNK_BYTES * 2 + 12_345)
    for (let i = 0; i < image.length; i++) image[i] = (i * 31) & 0xff

    const done = await upload(api, 'pump-fw', '2.1.0', image, 'night build')
    expect(done).toMatchObject({ ok: true, value: { created: true, image: { name: 'pump-fw', version: '2.1.0', size: image.length, sha256: sha(image), description: 'night build', runningOn: 0, installing: 0 } } })
    // durable before the answer: the content file is in place with exactly these bytes
    expect(readFileSync(join(hub.hub.firmware.dir, sha(image))).equals(image)).toBe(true)
    expect(readdirSync(join(hub.hub.firmware.dir, '.incoming'))).toEqual([])
    await waitFor(() => events.some(e => e.type === 'firmware.changed' && e.change === 'added' && e.name === 'pump-fw'), 20_000, 'firmware.changed')
    // the same bytes again: no-op
    expect(await upload(api, 'pump-fw', '2.1.0', image)).toMatchObject({ ok: true, value: { created: false } })

    // where it is deployed: devices reporting it as current (by name, or without a name)
    for (const id of ['p1', 'p2', 'p3']) await hub.hub.registry.create({ deviceId: id })
    await hub.hub.twins.patchReported({ deviceId: 'p1' }, { firmware: { current: '2.1.0', currentName: 'pump-fw' } })
    await hub.hub.twins.patchReported({ deviceId: 'p2' }, { firmware: { current: '2.1.0' } })
    await hub.hub.twins.patchReported({ deviceId: 'p3' }, { firmware: { current: '2.1.0', currentName: 'valve-fw' } })
    const list = await api.call('firmware.list', undefined)
    expect(list.ok && list.value).toEqual([expect.objectContaining({ name: 'pump-fw', runningOn: 2 })])
    if (list.ok) {
      const rows = await api.call('devices.list', { query: list.value[0]?.runningQuery ?? '' })
      expect(rows.ok && rows.value.items.map(r => r.deviceId)).toEqual(['p1', 'p2'])
    }

    // bad input
    expect(await api.call('firmware.uploadBegin', { name: 'pump fw', version: '1', size: 1, sha256: '0'.repeat(64) })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('name must be the image name') } })
    expect(await api.call('firmware.uploadBegin', { name: 'x', version: '1', size: 0, sha256: '0'.repeat(64) })).toMatchObject({ ok: false, error: { code: 400004, message: 'size must be at least 1' } })
    expect(await api.call('firmware.uploadBegin', { name: 'x', version: '1', size: 1, sha256: 'abc' })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('64 hex digits') } })
    expect(await api.call('firmware.uploadBegin', { name: 'pump-fw', version: '2.1.0', size: 3, sha256: sha(Buffer.from('abc')) }))
      .toMatchObject({ ok: false, error: { name: 'FirmwareAlreadyExists', code: 409001 } })
    expect(await api.call('firmware.uploadChunk', { uploadId: 'nope', offset: 0, data: 'AAAA' })).toMatchObject({ ok: false, error: { name: 'UploadNotFound', code: 404001 } })
    expect(await api.call('firmware.uploadChunk', { uploadId: 'x', offset: 0, data: 'not base64!' })).toMatchObject({ ok: false, error: { code: 400004, message: 'data must be base64' } })

    // a chunk over the limit is refused by the validator, inside one frame
    const big = Buffer.alloc(FIRMWARE_CHUNK_BYTES + 3)
    const b1 = await api.call('firmware.uploadBegin', { name: 'big', version: '1', size: big.length, sha256: sha(big) })
    if (!b1.ok) throw new Error('begin failed')
    expect(await api.call('firmware.uploadChunk', { uploadId: b1.value.uploadId, offset: 0, data: big.toString('base64') }))
      .toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('data must be at most') } })
    // out of order, finishing early, then cancelled: nothing left behind
    expect(await api.call('firmware.uploadChunk', { uploadId: b1.value.uploadId, offset: 5, data: 'AAAA' })).toMatchObject({ ok: false, error: { message: expect.stringContaining('send from 0') } })
    expect(await api.call('firmware.uploadFinish', { uploadId: b1.value.uploadId })).toMatchObject({ ok: false, error: { message: expect.stringContaining('Only 0 of') } })
    expect(await api.call('firmware.uploadAbort', { uploadId: b1.value.uploadId })).toEqual({ ok: true, value: { uploadId: b1.value.uploadId } })
    expect(await api.call('firmware.uploadFinish', { uploadId: b1.value.uploadId })).toMatchObject({ ok: false, error: { name: 'UploadNotFound' } })

    // wrong bytes for the announced sha256: refused by the hub, not stored
    const other = Buffer.from('these are not the bytes you announced')
    const b2 = await api.call('firmware.uploadBegin', { name: 'valve-fw', version: '1.0.0', size: other.length, sha256: sha(Buffer.from('something else')) })
    if (!b2.ok) throw new Error('begin failed')
    expect(await api.call('firmware.uploadChunk', { uploadId: b2.value.uploadId, offset: 0, data: other.toString('base64') })).toMatchObject({ ok: true, value: { received: other.length } })
    expect(await api.call('firmware.uploadFinish', { uploadId: b2.value.uploadId })).toMatchObject({ ok: false, error: { name: 'Sha256Mismatch', code: 400004 } })
    expect(hub.hub.firmware.get('valve-fw', '1.0.0')).toBeUndefined()
    await waitFor(() => readdirSync(join(hub.hub.firmware.dir, '.incoming')).length === 0, 20_000, 'temp files removed')
    expect(await api.call('firmware.uploadChunk', { uploadId: b2.value.uploadId, offset: 0, data: 'AAAA' })).toMatchObject({ ok: false, error: { name: 'UploadNotFound' } })

    // remove: refused while a device installs it or an active job would send it
    await hub.hub.twins.patchReported({ deviceId: 'p3' }, { firmware: { pending: '2.1.0', pendingName: 'pump-fw', status: 'downloading' } })
    expect(await api.call('firmware.remove', { name: 'pump-fw', version: '2.1.0' })).toMatchObject({ ok: false, error: { name: 'FirmwareInUse', code: 409001, message: expect.stringContaining('device installing it (p3)') } })
    await hub.hub.twins.patchReported({ deviceId: 'p3' }, { firmware: { pending: null, status: 'current' } })
    await hub.hub.jobs.create('fw-later', {
      jobId: 'fw-later', type: 'scheduleDeviceMethod', queryCondition: "deviceId = 'p1'", startTime: new Date(Date.now() + 3600_000).toISOString(), maxExecutionTimeInSeconds: 3600,
      cloudToDeviceMethod: { methodName: 'firmwareUpdate', payload: hub.hub.firmware.updatePayload('pump-fw', '2.1.0'), responseTimeoutInSeconds: 30 }
    })
    expect(await api.call('firmware.remove', { name: 'pump-fw', version: '2.1.0' })).toMatchObject({ ok: false, error: { name: 'FirmwareInUse', message: expect.stringContaining('job fw-later') } })
    await hub.hub.jobs.cancel('fw-later')
    expect(await api.call('firmware.remove', { name: 'pump-fw', version: '2.1.0' })).toEqual({ ok: true, value: { name: 'pump-fw', version: '2.1.0' } })
    expect(existsSync(join(hub.hub.firmware.dir, sha(image)))).toBe(false)
    expect(await api.call('firmware.remove', { name: 'pump-fw', version: '2.1.0' })).toMatchObject({ ok: false, error: { name: 'FirmwareNotFound' } })
    expect(await api.call('firmware.remove', { name: 'a b', version: '1' })).toMatchObject({ ok: false, error: { code: 400004 } })
  }, 60_000)

  it('drops an upload left idle, removing its partial file', async () => {
    const { hub } = await startUiHub(defer)
    const site = createSiteHandlers(hub.hub, { uploadIdleMs: 300 })
    defer(() => { site.close() })
    const data = Buffer.alloc(1000, 5)
    const { uploadId } = await site.handlers['firmware.uploadBegin']({ name: 'left', version: '1', size: data.length, sha256: sha(data) })
    expect(await site.handlers['firmware.uploadChunk']({ uploadId, offset: 0, data: data.subarray(0, 500).toString('base64') })).toEqual({ received: 500 })
    const incoming = join(hub.hub.firmware.dir, '.incoming')
    expect(readdirSync(incoming)).toHaveLength(1)
    await waitFor(() => readdirSync(incoming).length === 0, 20_000, 'partial file removed after the idle time')
    await expect(Promise.resolve().then(() => site.handlers['firmware.uploadChunk']({ uploadId, offset: 500, data: data.subarray(500).toString('base64') })))
      .rejects.toMatchObject({ errorName: 'UploadNotFound' })
    expect(hub.hub.firmware.get('left', '1')).toBeUndefined()
  })

  it('a chunk frame over the 1 MB WebSocket limit closes that socket, and the hub keeps serving others', async () => {
    const { client, ui } = await startUiHub(defer)
    const ws = new WebSocket(`${ui.url.replace('http', 'ws')}ui/ws`)
    await new Promise(resolve => ws.once('open', resolve))
    const closed = new Promise<number>(resolve => ws.once('close', (code) => { resolve(code) }))
    ws.send(JSON.stringify({ id: 1, method: 'firmware.uploadChunk', input: { uploadId: 'x', offset: 0, data: 'A'.repeat(1024 * 1024 + 10) } }))
    expect(await closed).toBe(1009)
    expect(await client().call('hub.status', undefined)).toMatchObject({ ok: true })
  })

  it('lets technicians wire serial ports and upload firmware but not change settings; audits one entry per change, not per chunk', async () => {
    const env = await startUiHub(defer)
    const tech = env.client('technician')
    const supervisor = env.client('supervisor')
    const admin = env.client('admin')
    expect(await supervisor.call('serial.add', { path: '/dev/ttyS7' })).toMatchObject({ ok: false, error: { code: 403201, name: 'Forbidden' } })
    expect(await supervisor.call('serial.list', undefined)).toMatchObject({ ok: true })
    expect(await tech.call('serial.add', { name: 'rs485', path: '/dev/ttyS7', enabled: false })).toMatchObject({ ok: true })
    expect(await tech.call('settings.update', { offlineMinutes: 5 })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await tech.call('settings.get', undefined)).toMatchObject({ ok: true })
    expect(await admin.call('settings.update', { offlineMinutes: 5 })).toMatchObject({ ok: true })
    expect(await supervisor.call('firmware.uploadBegin', { name: 'a', version: '1', size: 1, sha256: '0'.repeat(64) })).toMatchObject({ ok: false, error: { code: 403201 } })
    const data = Buffer.alloc(FIRMWARE_CHUNK_BYTES + 10, 9)
    expect(await upload(tech, 'tech-fw', '1.0', data)).toMatchObject({ ok: true, value: { created: true } })
    const log = await admin.call('audit.list', {})
    if (!log.ok) throw new Error(log.error.message)
    const methods = log.value.items.filter(e => e.outcome === 'ok').map(e => e.method)
    expect(methods.filter(m => m.startsWith('firmware.'))).toEqual(['firmware.uploadFinish'])
    // refusals of a signed-in user are logged too
    expect(log.value.items.find(e => e.method === 'firmware.uploadBegin')).toMatchObject({ user: 'test-supervisor', outcome: 'error', error: { code: 403201 } })
    expect(methods).toContain('serial.add')
    const settingsEntry = log.value.items.find(e => e.method === 'settings.update' && e.outcome === 'ok')
    expect(settingsEntry).toMatchObject({ user: 'test-admin', before: { offlineMinutes: 15 }, after: { offlineMinutes: 5 } })
  }, 60_000)

  it('keeps settings in the store, applies the offline threshold and the store warning to the fleet, and announces changes', async () => {
    const { client, hub } = await startUiHub(defer, { intervalMs: 50 })
    const api = client()
    const events: UiEvent[] = []
    api.subscribe(b => { events.push(...b) })
    await hub.hub.firmware.add({ name: 'fill', version: '1', data: Buffer.alloc(300 * 1024, 1) })
    const s0 = await api.call('settings.get', undefined)
    expect(s0).toMatchObject({ ok: true, value: { settings: { offlineMinutes: 15, storeWarnPercent: 80, storeQuotaBytes: null, theme: 'system' }, retention: { maxBytes: 1024 ** 3, maxAgeMs: 7 * 24 * 3600 * 1000 } } })
    if (!s0.ok) return
    expect(s0.value.identity).toMatchObject({ hostName: hub.hub.config.hostName, role: 'edge', dataDir: hub.hub.config.dataDir })
    // the whole data dir: the store's journal and snapshot are in it already
    expect(s0.value.store.parts.store).toBeGreaterThan(0)
    expect(s0.value.store.parts.firmware).toBeGreaterThanOrEqual(300 * 1024)
    expect(s0.value.store.usedBytes).toBe(s0.value.store.parts.store + s0.value.store.parts.telemetry + s0.value.store.parts.firmware + s0.value.store.parts.other)
    expect(s0.value.store.limitBytes).toBeGreaterThan(s0.value.store.usedBytes)

    // devices offline for 30 and 5 minutes (their last activity set through the registry)
    for (const id of ['old-off', 'new-off']) await hub.hub.registry.create({ deviceId: id })
    hub.hub.registry.touch({ deviceId: 'old-off' }, Date.now() - 30 * 60_000)
    hub.hub.registry.touch({ deviceId: 'new-off' }, Date.now() - 5 * 60_000)
    const offline = async (): Promise<string[]> => {
      const r = await api.call('fleet.summary', undefined)
      return r.ok ? r.value.alerts.filter(a => a.kind === 'offline').map(a => a.deviceId ?? '').sort() : []
    }
    expect(await offline()).toEqual(['old-off'])

    // bad input changes nothing
    expect(await api.call('settings.update', { offlineMinutes: 0 })).toMatchObject({ ok: false, error: { code: 400004, message: 'offlineMinutes must be at least 1' } })
    expect(await api.call('settings.update', { storeWarnPercent: 101 })).toMatchObject({ ok: false, error: { code: 400004 } })
    expect(await api.call('settings.update', { storeQuotaBytes: 1000 })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('at least') } })
    expect(await api.call('settings.update', { theme: 'pink' as 'dark' })).toMatchObject({ ok: false, error: { code: 400004, message: 'theme must be one of system, light, dark' } })
    expect(await api.call('settings.update', { upstream: 'x' } as never)).toMatchObject({ ok: false, error: { code: 400004, message: 'upstream is not a known field' } })
    expect(hub.hub.settings.get().offlineMinutes).toBe(15)

    const s1 = await api.call('settings.update', { offlineMinutes: 3, theme: 'dark' })
    expect(s1).toMatchObject({ ok: true, value: { settings: { offlineMinutes: 3, theme: 'dark', storeWarnPercent: 80 } } })
    await waitFor(() => events.some(e => e.type === 'settings.changed' && e.settings.offlineMinutes === 3 && e.settings.theme === 'dark'), 20_000, 'settings.changed')
    expect(await offline()).toEqual(['new-off', 'old-off'])
    // an explicit threshold in the call still wins (the CLI and tests use it)
    const explicit = await api.call('fleet.summary', { offlineMinutes: 60 })
    expect(explicit.ok && explicit.value.alerts.filter(a => a.kind === 'offline')).toEqual([])

    // store filling up: a quota just above what the data dir uses, warning at 1 %
    const summary0 = await api.call('fleet.summary', undefined)
    expect(summary0.ok && summary0.value.alerts.some(a => a.kind === 'store')).toBe(false)
    const s2 = await api.call('settings.update', { storeQuotaBytes: 16 * 1024 * 1024, storeWarnPercent: 1 })
    expect(s2.ok && s2.value.store).toMatchObject({ quotaBytes: 16 * 1024 * 1024, limitBytes: 16 * 1024 * 1024, warnPercent: 1 })
    const summary1 = await api.call('fleet.summary', undefined)
    expect(summary1.ok && summary1.value.store).toMatchObject({ quotaBytes: 16 * 1024 * 1024, warnPercent: 1 })
    const storeAlert = summary1.ok ? summary1.value.alerts.find(a => a.kind === 'store') : undefined
    expect(storeAlert?.message).toMatch(/^The store is filling up: the data dir uses \d+% of its quota of 16\.0 MB \(mostly firmware; see Settings\)$/)
    // acknowledged, it stays acknowledged while the data dir grows within the same percent
    expect(await api.call('alerts.acknowledge', { id: storeAlert?.id ?? '' })).toMatchObject({ ok: true })
    await hub.hub.telemetry.accept({ deviceId: 'old-off', systemProperties: {}, properties: {}, body: Buffer.from('x'), enqueuedTime: new Date().toISOString(), transport: 'mqtt' })
    const grown = await hub.hub.settings.storeUsage({ maxAgeMs: 0 }) // measured again: the summary below sees the new bytes
    expect(grown.parts.telemetry).toBeGreaterThan(0)
    const summary2 = await api.call('fleet.summary', undefined)
    expect(summary2.ok && summary2.value.alerts.find(a => a.kind === 'store')).toMatchObject({ id: storeAlert?.id, acknowledged: { by: 'test-admin' } })

    // persisted: a restarted hub has the same settings
    await hub.restart()
    expect(hub.hub.settings.get()).toMatchObject({ offlineMinutes: 3, storeWarnPercent: 1, storeQuotaBytes: 16 * 1024 * 1024, theme: 'dark' })
  }, 60_000)
})
