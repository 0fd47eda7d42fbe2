// The site screens' stores without React (zustand vanilla) against a typed fake of the
// contract, and the renderer's incremental SHA-256 against node:crypto.
import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import {
  FIRMWARE_CHUNK_BYTES, fail, ok,
  type FirmwareImageView, type HubApi, type MethodInput, type MethodName, type MethodOutput, type Result, type SerialPortStatusView, type SerialPortView, type SettingsView, type UiEvent
} from '../../src/shared/contract/index.js'
import { createSha256, toBase64 } from '../../src/renderer/src/lib/sha256.js'
import { createFirmwareStore } from '../../src/renderer/src/state/firmware.js'
import { checkPortDraft, createSerialStore } from '../../src/renderer/src/state/serial.js'
import { createSettingsStore } from '../../src/renderer/src/state/settings.js'
import { createFleetStore } from '../../src/renderer/src/state/fleet.js'

vi.mock('react', () => { throw new Error('stores must not import react') })

type Impl = { [M in MethodName]?: (input: MethodInput<M>) => Result<MethodOutput<M>> | Promise<Result<MethodOutput<M>>> }

function fakeHub (impl: Impl) {
  const listeners = new Set<(e: UiEvent[]) => void>()
  const calls: Array<{ method: MethodName; input: unknown }> = []
  const api: HubApi = {
    call (method, input) {
      calls.push({ method, input })
      const h = impl[method] as ((i: unknown) => Result<unknown> | Promise<Result<unknown>>) | undefined
      return Promise.resolve((h === undefined ? fail(0, 'UnknownMethod', method) : h(input)) as never)
    },
    subscribe (l) { listeners.add(l); return () => { listeners.delete(l) } }
  }
  return { api, calls, emit: (e: UiEvent[]) => { for (const l of listeners) l(e) }, listeners }
}
const flush = (): Promise<void> => new Promise(r => setTimeout(r, 0))

const counters = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0, garbage: 0, badChecksum: 0, retransmits: 0, oversize: 0, timeouts: 0, portErrors: 0, opens: 0, authFailures: 0 }
const status = (name: string, framesIn: number): SerialPortStatusView => ({
  name, path: `/dev/${name}`, protocol: 'line', state: 'open', since: '2026-01-01T00:00:00Z', lastError: null, retryAt: null, counters: { ...counters, framesIn }, devices: []
})
const port = (name: string): SerialPortView => ({
  config: { name, path: `/dev/${name}`, baudRate: 9600, dataBits: 8, stopBits: 1, parity: 'none', protocol: 'line', enabled: true, keepAliveSec: 30, maxLineBytes: 8192, timeoutMs: 1000, devices: [], createdTime: '', updatedTime: '' },
  status: status(name, 0)
})

describe('sha256 (renderer, incremental)', () => {
  it('matches node:crypto for every length around the block boundaries and for chunked input', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 100_003]) {
      const data = randomBytes(n)
      const h = createSha256()
      // feed in odd-sized pieces
      for (let i = 0; i < n; i += 37) h.update(data.subarray(i, i + 37))
      expect(h.hex()).toBe(createHash('sha256').update(data).digest('hex'))
    }
    expect(createSha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    const big = randomBytes(200_000)
    expect(toBase64(big)).toBe(big.toString('base64'))
  })
})

describe('serial store', () => {
  it('loads ports, applies live serial.status events in place, and reloads when a port appears elsewhere', async () => {
    let list = [port('a')]
    const f = fakeHub({
      'serial.list': () => ok(list),
      'serial.machinePorts': () => ok({ ports: [], error: 'the OS port list is unavailable (x); enter the port path by hand' }),
      'serial.profiles': () => ok([{ name: 'demo', file: '/x/demo.json', errors: null }])
    })
    const s = createSerialStore(f.api, { now: () => 42 })
    const stop = s.start()
    await flush()
    expect(s.store.getState()).toMatchObject({ loaded: true, machine: { error: expect.stringContaining('by hand') }, profiles: [{ name: 'demo' }] })
    f.emit([{ type: 'serial.status', ports: [status('a', 17)] }])
    expect(s.store.getState().ports[0]?.status.counters.framesIn).toBe(17)
    expect(s.store.getState().liveAt).toBe(42)
    expect(f.calls.filter(c => c.method === 'serial.list')).toHaveLength(1) // counters alone never refetch
    list = [port('a'), port('b')]
    f.emit([{ type: 'serial.status', ports: [status('a', 18), status('b', 0)] }])
    await flush()
    expect(s.store.getState().ports.map(p => p.config.name)).toEqual(['a', 'b'])
    stop()
    expect(f.listeners.size).toBe(0)
  })

  it('adds, updates and removes through the hub and hands back its errors', async () => {
    const f = fakeHub({
      'serial.list': () => ok([]),
      'serial.machinePorts': () => ok({ ports: [], error: null }),
      'serial.profiles': () => ok([]),
      'serial.add': () => fail(400004, 'ArgumentInvalid', 'port ttyA already uses /dev/x'),
      'serial.remove': () => ok({ name: 'a' })
    })
    const s = createSerialStore(f.api)
    expect(await s.add({ path: '/dev/x' })).toMatchObject({ code: 400004, message: 'port ttyA already uses /dev/x' })
    expect(await s.remove('a')).toBeUndefined()
    expect(f.calls.map(c => c.method)).toContain('serial.list')
  })

  it('checks a port form as you type', () => {
    expect(checkPortDraft({ path: '', protocol: 'line', devices: [] })).toEqual(['Enter the port path, e.g. /dev/ttyUSB0 or COM3.'])
    expect(checkPortDraft({ path: '/dev/x', protocol: 'line', devices: [{ deviceId: 'd1', address: '', profile: '' }] })).toEqual([])
    expect(checkPortDraft({ path: '/dev/x', protocol: 'line', devices: [{ deviceId: 'd1', address: '', profile: '' }, { deviceId: 'd2', address: '3', profile: '' }] }))
      .toEqual([expect.stringContaining('multidrop')])
    expect(checkPortDraft({ path: '/dev/x', protocol: 'modbus', devices: [{ deviceId: 'a b', address: '300', profile: '' }] })).toEqual([
      expect.stringContaining('no spaces'), 'Device 1: the address must be a whole number from 1 to 247.', expect.stringContaining('pick the Modbus profile')
    ])
    expect(checkPortDraft({ path: '/dev/x', protocol: 'modbus', devices: [{ deviceId: 'm', address: '1', profile: 'p' }, { deviceId: 'm', address: '1', profile: 'p' }] }))
      .toEqual(['Device 2: m is listed twice.', 'Device 2: address 1 is used twice.'])
  })
})

describe('firmware store', () => {
  const image = (name: string, version: string): FirmwareImageView => ({ name, version, size: 1, sha256: 'x', uploadedAt: '', description: null, runningOn: 0, runningQuery: 'q', installing: 0 })

  it('hashes the file, sends it in chunks at the right offsets, finishes, and reloads the list', async () => {
    const data = randomBytes(FIRMWARE_CHUNK_BYTES * 2 + 999)
    const got: Buffer[] = []
    let listed: FirmwareImageView[] = []
    const f = fakeHub({
      'firmware.list': () => ok(listed),
      'firmware.uploadBegin': (i) => {
        expect(i).toMatchObject({ name: 'pump', version: '1.0', size: data.length, sha256: createHash('sha256').update(data).digest('hex'), description: 'notes' })
        return ok({ uploadId: 'u1', chunkBytes: FIRMWARE_CHUNK_BYTES })
      },
      'firmware.uploadChunk': (i) => {
        expect(i.offset).toBe(got.reduce((n, b) => n + b.length, 0))
        got.push(Buffer.from(i.data, 'base64'))
        return ok({ received: i.offset + (got.at(-1)?.length ?? 0) })
      },
      'firmware.uploadFinish': () => { listed = [image('pump', '1.0')]; return ok({ image: image('pump', '1.0'), created: true }) }
    })
    const s = createFirmwareStore(f.api)
    const phases: string[] = []
    s.store.subscribe(st => { if (st.upload !== undefined && phases.at(-1) !== st.upload.phase) phases.push(st.upload.phase) })
    const r = await s.upload(new Blob([data]), { name: 'pump', version: '1.0', description: ' notes ' })
    expect(r).toMatchObject({ phase: 'done', done: data.length, total: data.length, created: true })
    expect(phases).toEqual(['hashing', 'uploading', 'finishing', 'done'])
    expect(got).toHaveLength(3)
    expect(Buffer.concat(got).equals(data)).toBe(true)
    expect(s.store.getState().images).toEqual([image('pump', '1.0')])
  })

  it('aborts the hub-side upload when a chunk is refused, and reports the refusal', async () => {
    const f = fakeHub({
      'firmware.uploadBegin': () => ok({ uploadId: 'u2', chunkBytes: 4 }),
      'firmware.uploadChunk': () => fail(507000, 'InsufficientStorage', 'disk full'),
      'firmware.uploadAbort': (i) => ok({ uploadId: i.uploadId })
    })
    const s = createFirmwareStore(f.api)
    const r = await s.upload(new Blob([Buffer.from('0123456789')]), { name: 'a', version: '1' })
    expect(r).toMatchObject({ phase: 'failed', error: { message: 'disk full' } })
    expect(f.calls.map(c => c.method)).toEqual(['firmware.uploadBegin', 'firmware.uploadChunk', 'firmware.uploadAbort'])
    expect(await createFirmwareStore(f.api).upload(new Blob([]), { name: 'a', version: '1' })).toMatchObject({ phase: 'failed', error: { message: 'The file is empty.' } })
  })

  it('follows firmware.changed at once and reported twin changes throttled; removal errors come back', async () => {
    vi.useFakeTimers()
    try {
      const f = fakeHub({ 'firmware.list': () => ok([]), 'firmware.remove': () => fail(409001, 'FirmwareInUse', 'busy') })
      const s = createFirmwareStore(f.api, { refetchMs: 1000 })
      const stop = s.start()
      await vi.advanceTimersByTimeAsync(0)
      f.emit([{ type: 'firmware.changed', name: 'a', version: '1', change: 'added' }])
      f.emit([{ type: 'twin.changed', deviceId: 'd', parts: ['reported'] }, { type: 'twin.changed', deviceId: 'e', parts: ['reported'] }])
      await vi.advanceTimersByTimeAsync(1500)
      expect(f.calls.filter(c => c.method === 'firmware.list')).toHaveLength(3)
      expect(await s.remove('a', '1')).toMatchObject({ name: 'FirmwareInUse' })
      stop()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('settings store', () => {
  const view = (offlineMinutes: number, theme: 'system' | 'dark' = 'system'): SettingsView => ({
    settings: { offlineMinutes, storeWarnPercent: 80, storeQuotaBytes: null, theme, updatedAt: null },
    store: { usedBytes: 1, parts: { store: 1, telemetry: 0, firmware: 0, other: 0 }, limitBytes: 10, quotaBytes: null, percent: 10, warnPercent: 80, diskFreeBytes: 9, diskTotalBytes: 10, measuredAt: '' },
    retention: { maxBytes: 1, maxAgeMs: 1 },
    identity: { hostName: 'h', role: 'edge', bind: '127.0.0.1', dataDir: '/d', mqttsPort: 8883, httpsPort: 443, mqttPort: null }
  })

  it('loads, saves, applies settings.changed from elsewhere, and tells listeners only about real changes', async () => {
    const f = fakeHub({
      'settings.get': () => ok(view(15)),
      'settings.update': (i) => (i.offlineMinutes === 0 ? fail(400004, 'ArgumentInvalid', 'offlineMinutes must be at least 1') : ok(view(i.offlineMinutes ?? 15)))
    })
    const s = createSettingsStore(f.api)
    const seen: number[] = []
    s.onSettings(x => { seen.push(x.offlineMinutes) })
    const stop = s.start()
    await flush()
    expect(seen).toEqual([15])
    expect(await s.save({ offlineMinutes: 0 })).toMatchObject({ code: 400004 })
    expect(await s.save({ offlineMinutes: 5 })).toBeUndefined()
    f.emit([{ type: 'settings.changed', settings: { ...view(5).settings } }]) // our own change echoed: no news
    f.emit([{ type: 'settings.changed', settings: { ...view(7, 'dark').settings } }])
    expect(seen).toEqual([15, 5, 7])
    expect(s.store.getState().view?.settings.theme).toBe('dark')
    stop()
  })

  it('the fleet store refetches on settings changes but not on serial counters or library changes', async () => {
    vi.useFakeTimers()
    try {
      const f = fakeHub({ 'fleet.summary': () => fail(0, 'x', 'y') })
      const s = createFleetStore(f.api, { refetchMs: 100 })
      const stop = s.start()
      await vi.advanceTimersByTimeAsync(0)
      f.emit([{ type: 'serial.status', ports: [] }, { type: 'firmware.changed', name: 'a', version: '1', change: 'added' }])
      await vi.advanceTimersByTimeAsync(500)
      expect(f.calls).toHaveLength(1)
      f.emit([{ type: 'settings.changed', settings: view(3).settings }])
      await vi.advanceTimersByTimeAsync(500)
      expect(f.calls).toHaveLength(2)
      stop()
    } finally {
      vi.useRealTimers()
    }
  })
})
