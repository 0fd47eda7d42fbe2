// Renderer stores without React (zustand vanilla), driven by a typed fake of the contract.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  fail, ok, type DeviceRow, type HubApi, type MethodInput, type MethodName, type MethodOutput, type Result, type UiEvent
} from '../../src/shared/contract/index.js'
import { createDeviceDetailStore, parsePatch } from '../../src/renderer/src/state/device-detail.js'
import { createDevicesStore } from '../../src/renderer/src/state/devices.js'
import { createFleetStore } from '../../src/renderer/src/state/fleet.js'
import { createJobsStore } from '../../src/renderer/src/state/jobs.js'
import { createConfigurationsStore } from '../../src/renderer/src/state/configurations.js'

// React must not be needed by any store (zustand's own boundary test).
vi.mock('react', () => { throw new Error('stores must not import react') })

type Impl = { [M in MethodName]?: (input: MethodInput<M>) => Result<MethodOutput<M>> }

/** A fake HubApi: handlers per method, a call log, and emit() to push event batches. */
function fakeHub (impl: Impl) {
  const listeners = new Set<(e: UiEvent[]) => void>()
  const calls: Array<{ method: MethodName; input: unknown }> = []
  const api: HubApi = {
    call (method, input) {
      calls.push({ method, input })
      const h = impl[method] as ((i: unknown) => Result<unknown>) | undefined
      return Promise.resolve((h === undefined ? fail(0, 'UnknownMethod', method) : h(input)) as never)
    },
    subscribe (l) { listeners.add(l); return () => { listeners.delete(l) } }
  }
  return { api, calls, emit: (e: UiEvent[]) => { for (const l of listeners) l(e) }, listeners }
}

const row = (deviceId: string, extra: Partial<DeviceRow> = {}): DeviceRow => ({
  deviceId, status: 'enabled', connectionState: 'Disconnected', lastActivityTime: '2026-01-01T00:00:00Z', firmware: null, state: null, ...extra
})
const flush = (): Promise<void> => new Promise(r => setTimeout(r, 0))

afterEach(() => { vi.useRealTimers() })

describe('devices store', () => {
  it('loads rows, filters by search on the client, and applies live connection state', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => row(`dev-${String(i).padStart(5, '0')}`))
    const f = fakeHub({ 'devices.list': () => ok({ items: rows, total: rows.length, offset: 0 }) })
    const s = createDevicesStore(f.api, { refetchMs: 10_000 })
    const stop = s.start()
    await flush()
    expect(s.store.getState()).toMatchObject({ loaded: true })
    expect(s.store.getState().visible).toHaveLength(10_000)
    s.setSearch('dev-0999')
    expect(s.store.getState().visible.map(r => r.deviceId)).toEqual(['dev-09990', 'dev-09991', 'dev-09992', 'dev-09993', 'dev-09994', 'dev-09995', 'dev-09996', 'dev-09997', 'dev-09998', 'dev-09999'])
    const before = s.store.getState().rows
    f.emit([{ type: 'device.connection', deviceId: 'dev-09995', connected: true, at: '2026-02-02T00:00:00Z' }])
    const after = s.store.getState()
    expect(after.rows).not.toBe(before) // a new array: subscribers re-render
    expect(after.visible.find(r => r.deviceId === 'dev-09995')).toMatchObject({ connectionState: 'Connected', lastActivityTime: '2026-02-02T00:00:00Z' })
    expect(after.rows[0]).toBe(before[0]) // untouched rows keep their identity
    // connection changes with no query do not refetch
    expect(f.calls.filter(c => c.method === 'devices.list')).toHaveLength(1)
    stop()
    expect(f.listeners.size).toBe(0)
  })

  it('keeps a selection for bulk actions and turns it into a job condition', async () => {
    const f = fakeHub({ 'devices.list': () => ok({ items: [row('a'), row("o'b"), row('c')], total: 3, offset: 0 }) })
    const s = createDevicesStore(f.api)
    await s.load('')
    s.toggle('c'); s.toggle("o'b"); s.toggle('c')
    expect([...s.store.getState().selected]).toEqual(["o'b"])
    expect(s.selectionCondition()).toBe("deviceId IN ['o''b']")
    s.toggleAllVisible()
    expect(s.store.getState().selected.size).toBe(3)
    s.toggleAllVisible()
    expect(s.store.getState().selected.size).toBe(0)
  })

  it('keeps the last good rows and records a query error with its position', async () => {
    const f = fakeHub({
      'devices.list': (i) => i.query === undefined
        ? ok({ items: [row('a')], total: 1, offset: 0 })
        : fail(400004, 'ArgumentInvalid', 'Expected an expression', { position: { offset: 5, line: 1, column: 5 } })
    })
    const s = createDevicesStore(f.api)
    expect(await s.load('')).toBe(true)
    expect(await s.load('a = = 1')).toBe(false)
    expect(s.store.getState()).toMatchObject({ query: '', rows: [row('a')], queryError: { text: 'a = = 1', query: { position: { offset: 5 } } } })
    expect(await s.load('')).toBe(true)
    expect(s.store.getState().queryError).toBeUndefined()
  })

  it('ignores an older answer that arrives after a newer one', async () => {
    const pending: Array<(r: Result<unknown>) => void> = []
    const api: HubApi = { call: (() => new Promise<Result<unknown>>(resolve => { pending.push(resolve) })) as unknown as HubApi['call'], subscribe: () => () => {} }
    const s = createDevicesStore(api)
    const first = s.load('')
    const second = s.load('a = = 1')
    pending[1]?.(fail(400004, 'ArgumentInvalid', 'bad', { position: { offset: 5, line: 1, column: 5 } }))
    expect(await second).toBe(false)
    pending[0]?.(ok({ items: [row('a')], total: 1, offset: 0 }))
    expect(await first).toBe(false)
    expect(s.store.getState()).toMatchObject({ rows: [], queryError: { text: 'a = = 1' } })
  })

  it('a background refetch keeps the query error on screen', async () => {
    vi.useFakeTimers()
    const f = fakeHub({
      'devices.list': (i) => i.query === undefined ? ok({ items: [row('a'), row('b')], total: 2, offset: 0 }) : fail(400004, 'ArgumentInvalid', 'bad', { position: { offset: 3, line: 1, column: 3 } })
    })
    const s = createDevicesStore(f.api, { refetchMs: 100 })
    s.start()
    await vi.advanceTimersByTimeAsync(0)
    await s.load('x = = 1')
    f.emit([{ type: 'device.registry', deviceId: 'b', change: 'created', status: null }])
    await vi.advanceTimersByTimeAsync(200)
    expect(f.calls.filter(c => c.method === 'devices.list')).toHaveLength(3)
    expect(s.store.getState()).toMatchObject({ queryError: { text: 'x = = 1' }, query: '' })
    expect(s.store.getState().rows).toHaveLength(2)
  })

  it('refetches once (throttled) after a burst of registry and reported changes', async () => {
    vi.useFakeTimers()
    const f = fakeHub({ 'devices.list': () => ok({ items: [], total: 0, offset: 0 }) })
    const s = createDevicesStore(f.api, { refetchMs: 1000 })
    s.start()
    await vi.advanceTimersByTimeAsync(0)
    for (let i = 0; i < 50; i++) f.emit([{ type: 'device.registry', deviceId: `d${i}`, change: 'created', status: null }, { type: 'twin.changed', deviceId: 'x', parts: ['reported'] }])
    await vi.advanceTimersByTimeAsync(1500)
    expect(f.calls.filter(c => c.method === 'devices.list')).toHaveLength(2)
  })
})

describe('fleet store', () => {
  it('loads the summary and computes the telemetry rate from rate events', async () => {
    let now = 1_000_000
    const summary = { devices: { total: 2, enabled: 2, disabled: 0, connected: 1, disconnected: 1 }, firmware: [{ version: '1.0', devices: 2 }], telemetry: { messages: 5, bytes: 50, dropped: 0 }, alerts: [], devicesWithAlerts: 0, configurations: [], offlineMinutes: 15, store: { usedBytes: 1000, parts: { store: 400, telemetry: 500, firmware: 100, other: 0 }, limitBytes: 10000, quotaBytes: null, percent: 10, warnPercent: 80, diskFreeBytes: 9000, diskTotalBytes: 20000, measuredAt: '2026-01-01T00:00:00Z' } }
    const f = fakeHub({ 'fleet.summary': () => ok(summary) })
    const s = createFleetStore(f.api, { now: () => now })
    s.start()
    await flush()
    expect(s.store.getState().summary).toEqual(summary)
    f.emit([{ type: 'telemetry.rate', messages: 50, windowMs: 250 }])
    now += 250
    f.emit([{ type: 'telemetry.rate', messages: 50, windowMs: 250 }])
    expect(s.store.getState().ratePerSecond).toBe(200)
    now += 10_000 // old samples fall out of the 5 s window
    f.emit([{ type: 'telemetry.rate', messages: 0, windowMs: 250 }])
    expect(s.store.getState().ratePerSecond).toBe(0)
  })
})

describe('device detail store', () => {
  function detailHub () {
    let etag = 'e1'
    const twin = () => ({ deviceId: 'd', etag, version: 1, tags: {}, desired: {}, desiredVersion: 1, desiredMeta: {}, reported: {}, reportedVersion: 1, reportedMeta: {} })
    return fakeHub({
      'devices.get': () => ok({ deviceId: 'd', status: 'enabled', statusReason: null, statusUpdatedTime: '', connectionState: 'Connected', connectionStateUpdatedTime: '', lastActivityTime: '', authenticationType: 'sas', cloudToDeviceMessageCount: 0, etag: 'x', generationId: 'g', remote: '127.0.0.1', transport: 'mqtt' }),
      'twins.get': () => ok(twin()),
      'telemetry.history': () => ok([]),
      'devices.connectionString': () => ok({ connectionString: 'HostName=h;DeviceId=d;SharedAccessKey=k' }),
      'twins.patchDesired': (i) => {
        if (i.etag !== etag) return fail(412001, 'PreconditionFailed', 'etag mismatch')
        etag = 'e2'
        return ok({ ...twin(), desired: i.patch })
      },
      'methods.invoke': (i) => i.methodName === 'reboot' ? ok({ status: 200, payload: { ok: true } }) : fail(404103, 'DeviceNotOnline', 'offline')
    })
  }

  it('loads everything, saves desired with the etag it showed, and flags an etag conflict', async () => {
    const f = detailHub()
    const s = createDeviceDetailStore(f.api, 'd')
    await s.load()
    expect(s.store.getState()).toMatchObject({ device: { connectionState: 'Connected' }, twin: { etag: 'e1' }, connectionString: expect.stringContaining('DeviceId=d') })
    expect(await s.savePatch('desired', { interval: 5 })).toBe(true)
    expect(f.calls.at(-1)).toEqual({ method: 'twins.patchDesired', input: { deviceId: 'd', patch: { interval: 5 }, etag: 'e1' } })
    expect(s.store.getState().twin?.etag).toBe('e2')
    s.store.setState({ twin: { ...s.store.getState().twin!, etag: 'e1' } }) // someone else saved since
    expect(await s.savePatch('desired', { interval: 6 })).toBe(false)
    expect(s.store.getState()).toMatchObject({ conflict: true, actionError: { code: 412001 } })
  })

  it('records method calls with their outcome', async () => {
    const s = createDeviceDetailStore(detailHub().api, 'd')
    expect(await s.invoke('reboot', null)).toMatchObject({ state: 'done', result: { status: 200 } })
    expect(await s.invoke('getLogs', undefined)).toMatchObject({ state: 'failed', error: { name: 'DeviceNotOnline' } })
    expect(s.store.getState().calls.map(c => c.methodName)).toEqual(['getLogs', 'reboot'])
  })

  it('refetches the twin only for its own device', async () => {
    vi.useFakeTimers()
    const f = detailHub()
    const s = createDeviceDetailStore(f.api, 'd', { refetchMs: 100 })
    s.start()
    await vi.advanceTimersByTimeAsync(0)
    const n = (): number => f.calls.filter(c => c.method === 'twins.get').length
    const base = n()
    f.emit([{ type: 'twin.changed', deviceId: 'other', parts: ['reported'] }])
    await vi.advanceTimersByTimeAsync(200)
    expect(n()).toBe(base)
    f.emit([{ type: 'twin.changed', deviceId: 'd', parts: ['reported'] }, { type: 'twin.changed', deviceId: 'd', parts: ['desired'] }])
    await vi.advanceTimersByTimeAsync(200)
    expect(n()).toBe(base + 1)
  })

  it('validates a desired patch in plain words', () => {
    expect(parsePatch('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } })
    expect(parsePatch('[1]')).toMatchObject({ ok: false, message: expect.stringContaining('JSON object') })
    expect(parsePatch('{a:1}')).toMatchObject({ ok: false, message: expect.stringContaining('Not valid JSON') })
    expect(parsePatch('{"$version": 1}')).toMatchObject({ ok: false, message: expect.stringContaining('$') })
  })
})

describe('jobs store', () => {
  it('counts targets (latest answer wins), creates a job and selects it', async () => {
    const job = { jobId: 'j', type: 'scheduleDeviceMethod' as const, status: 'running', queryCondition: 'x', createdTime: '', startTime: '', endTime: null, methodName: 'reboot', failureReason: null, stats: { deviceCount: 2, failedCount: 0, succeededCount: 1, runningCount: 1, pendingCount: 0 },
      phase: 'running' as const, plan: { maxExecutionTimeInSeconds: 3600, responseTimeoutInSeconds: 30, devicesPerMinute: null, maxConcurrency: null, abortThreshold: null, maintenanceWindow: null, timeZone: null, deviceWindowTag: 'maintenanceWindow', inUseGuard: null }, waiting: null }
    const f = fakeHub({
      'devices.list': (i) => i.query === 'bad' ? fail(400004, 'ArgumentInvalid', 'bad query') : ok({ items: [], total: 7, offset: 0 }),
      'jobs.create': () => ok(job),
      'jobs.list': () => ok([job]),
      'jobs.devices': () => ok([{ deviceId: 'a', status: 'completed', methodStatus: 200, error: null, endTime: null }])
    })
    const s = createJobsStore(f.api)
    await s.countTargets('tags.a = 1')
    expect(s.store.getState()).toMatchObject({ targetCount: 7, targetError: undefined })
    await s.countTargets('bad')
    expect(s.store.getState()).toMatchObject({ targetCount: undefined, targetError: { code: 400004 } })
    expect(await s.create({ kind: 'method', queryCondition: 'x', methodName: 'reboot' })).toMatchObject({ ok: true })
    expect(f.calls.find(c => c.method === 'jobs.create')?.input).toEqual({ queryCondition: 'x', methodName: 'reboot' })
    await flush()
    expect(s.store.getState()).toMatchObject({ selected: 'j', jobs: [job], devices: [{ deviceId: 'a' }] })
  })
})

describe('configurations store', () => {
  it('refetches once per burst of configuration events, and reports create errors', async () => {
    vi.useFakeTimers()
    const f = fakeHub({
      'configurations.list': () => ok([]),
      'configurations.create': (i) => i.id === 'dup' ? fail(409, 'Conflict', 'exists') : ok({ id: i.id, priority: 0, targetCondition: '*', content: {}, targeted: 0, applied: 0, metrics: {}, metricQueries: {}, labels: {}, createdTime: '', lastUpdatedTime: '', etag: 'e' })
    })
    const s = createConfigurationsStore(f.api, { refetchMs: 100 })
    s.start()
    await vi.advanceTimersByTimeAsync(0)
    for (let i = 0; i < 20; i++) f.emit([{ type: 'configuration.changed', id: 'a', change: 'updated' }, { type: 'twin.changed', deviceId: 'd', parts: ['configurations'] }])
    f.emit([{ type: 'twin.changed', deviceId: 'd', parts: ['reported'] }])
    await vi.advanceTimersByTimeAsync(300)
    expect(f.calls.filter(c => c.method === 'configurations.list')).toHaveLength(2)
    expect(await s.create({ id: 'dup', targetCondition: '*', priority: 0, content: {} })).toMatchObject({ code: 409 })
    expect(await s.create({ id: 'ok', targetCondition: '*', priority: 0, content: {} })).toBeUndefined()
  })
})
