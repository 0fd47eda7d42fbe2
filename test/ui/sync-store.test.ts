// The sync store without React (zustand vanilla), against a typed fake of the contract.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  fail, ok, type HubApi, type MethodInput, type MethodName, type MethodOutput, type Result, type SyncConflictView, type SyncDeviceRow,
  type SyncStatusView, type UiEvent
} from '../../src/shared/contract/index.js'
import { createSyncStore } from '../../src/renderer/src/state/sync.js'

vi.mock('react', () => { throw new Error('stores must not import react') })

type Impl = { [M in MethodName]?: (input: MethodInput<M>) => Result<MethodOutput<M>> }

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
  return { api, calls, emit: (e: UiEvent[]) => { for (const l of listeners) l(e) }, listeners, count: (m: MethodName) => calls.filter(c => c.method === m).length }
}

const flush = (): Promise<void> => new Promise(r => setTimeout(r, 0))
const conflictPolicy = { mode: 'cloud-wins' as const, afterMinutes: 1440 }
const counts = { inSync: 0, pending: 0, conflict: 0, notMirrored: 0 }
const queue = { reportedPendingDevices: 0, telemetryPending: 0, backlogOldest: null, sent: 0, expired: 0, dropped: 0, notForwarded: 0, conflicts: 0 }
const status = (over: Partial<SyncStatusView> = {}): SyncStatusView => ({
  configured: true, upstreamHost: 'cloud.example', policyName: 'iothubowner', edgeDeviceId: 'site-a', state: 'online', since: '2026-11-26T10:00:00.000Z',
  lastError: null, lastSuccessfulSync: '2026-11-26T10:00:01.000Z', reconnectAttempts: 0, sasRenewals: 1,
  registry: { mirrored: 3, createdUpstream: 3, createdLocally: 0, conflicts: 0 }, reported: { pendingDevices: 0, patchesSent: 1 }, desired: { applied: 0, localEditsSent: 0 },
  queue, devices: { ...counts, inSync: 3 }, modules: { mirrored: 0, conflicts: [] }, ...over
})
const row = (deviceId: string, state: SyncDeviceRow['state'] = 'inSync', pendingChanges = 0): SyncDeviceRow => ({
  deviceId, state, pendingChanges, upstreamConnected: false, telemetrySent: 0, telemetryExpired: 0, telemetryDropped: 0, conflicts: state === 'conflict' ? ['desired'] : [], identityOnly: false
})
const conflict: SyncConflictView = {
  id: 'd2|desired', kind: 'desired', deviceId: 'd2', detectedAt: '2026-11-26T10:00:00.000Z', base: { mode: 'a' }, local: { mode: 'b' }, cloud: { mode: 'c' },
  fields: ['mode'], changes: {}, perField: true, autoResolveAt: null, autoResolution: null, resolving: false
}

afterEach(() => { vi.useRealTimers() })

describe('sync store', () => {
  it('loads status, devices, conflicts and settings; filters and searches on the hub', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => row(`dev-${String(i).padStart(4, '0')}`, i % 10 === 0 ? 'pending' : 'inSync', i % 10 === 0 ? 3 : 0))
    const f = fakeHub({
      'sync.status': () => ok(status()),
      'sync.devices': (i) => {
        const items = rows.filter(r => (i?.state === undefined || r.state === i.state) && (i?.search === undefined || r.deviceId.includes(i.search)))
        return ok({ items, total: items.length, offset: 0, counts: { ...counts, inSync: 4500, pending: 500 } })
      },
      'sync.conflicts': () => ok([conflict]),
      'sync.settings.get': () => ok({ configured: true, upstreamHost: 'cloud.example', policyName: 'iothubowner', edgeDeviceId: 'site-a', ca: null, conflictPolicy })
    })
    const s = createSyncStore(f.api, { pollMs: 60_000 })
    const stop = s.start()
    await flush()
    const st = s.store.getState()
    expect(st.status?.state).toBe('online')
    expect(st.rows).toHaveLength(5000)
    expect(st.counts).toEqual({ ...counts, inSync: 4500, pending: 500 })
    expect(st.conflicts.map(c => c.id)).toEqual(['d2|desired'])
    expect(st.settings?.policyName).toBe('iothubowner')
    s.setFilter('pending')
    await flush()
    expect(s.store.getState().rows).toHaveLength(500)
    expect(f.calls.at(-1)).toEqual({ method: 'sync.devices', input: { limit: 20_000, state: 'pending' } })
    s.setSearch('dev-00')
    await flush()
    expect(s.store.getState().rows.map(r => r.deviceId)).toEqual(['dev-0000', 'dev-0010', 'dev-0020', 'dev-0030', 'dev-0040', 'dev-0050', 'dev-0060', 'dev-0070', 'dev-0080', 'dev-0090'])
    stop()
    expect(f.listeners.size).toBe(0)
  })

  it('applies link and queue events at once, follows the drain, and refetches devices throttled', async () => {
    vi.useFakeTimers()
    let t = 0
    const f = fakeHub({
      'sync.status': () => ok(status()),
      'sync.devices': () => ok({ items: [row('a')], total: 1, offset: 0, counts }),
      'sync.conflicts': () => ok([]),
      'sync.settings.get': () => ok({ configured: true, upstreamHost: 'h', policyName: 'p', edgeDeviceId: null, ca: null, conflictPolicy })
    })
    const s = createSyncStore(f.api, { refetchMs: 2000, pollMs: 60_000, now: () => t })
    const stop = s.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(f.count('sync.devices')).toBe(1)
    f.emit([{ type: 'sync.link', state: 'offline', previous: 'online', reason: 'heartbeat failed twice', at: '2026-11-26T11:00:00.000Z' }])
    expect(s.store.getState().status).toMatchObject({ state: 'offline', since: '2026-11-26T11:00:00.000Z', lastError: 'heartbeat failed twice' })
    // the backlog grows while offline, then drains
    for (const [at, pending] of [[1000, 100], [2000, 400], [3000, 400]] as const) {
      t = at
      f.emit([{ type: 'sync.queue', queue: { ...queue, telemetryPending: pending, reportedPendingDevices: 2 }, devices: { ...counts, pending: 2, inSync: 1 }, at: '' }])
    }
    expect(s.store.getState().status?.queue.telemetryPending).toBe(400)
    expect(s.store.getState().counts).toEqual({ ...counts, pending: 2, inSync: 1 })
    expect(s.store.getState().drain).toMatchObject({ peak: 400, pending: 400 })
    t = 4000
    f.emit([{ type: 'sync.queue', queue: { ...queue, telemetryPending: 100, sent: 300 }, devices: { ...counts, inSync: 3 }, at: '' }])
    expect(s.store.getState().drain).toMatchObject({ peak: 400, pending: 100 })
    // many batches, one devices refetch per 2 s
    expect(f.count('sync.devices')).toBe(1)
    await vi.advanceTimersByTimeAsync(2100)
    expect(f.count('sync.devices')).toBe(2)
    t = 5000
    f.emit([{ type: 'sync.queue', queue: { ...queue, telemetryPending: 0, sent: 400 }, devices: { ...counts, inSync: 3 }, at: '' }])
    expect(s.store.getState().drain).toBeUndefined()
    stop()
  })

  it('reloads conflicts on conflict events; a resolution leaves the list; errors come back', async () => {
    let open = [conflict]
    const f = fakeHub({
      'sync.status': () => ok(status()),
      'sync.devices': () => ok({ items: [], total: 0, offset: 0, counts }),
      'sync.conflicts': () => ok(open),
      'sync.settings.get': () => ok({ configured: true, upstreamHost: 'h', policyName: 'p', edgeDeviceId: null, ca: null, conflictPolicy }),
      'sync.resolve': (i) => i.resolution === 'local'
        ? fail(503001, 'ServiceUnavailable', 'The link to the cloud is offline: a conflict can be resolved only while the cloud is reachable')
        : (open = open.filter(c => c.id !== i.id), ok({ id: i.id, by: 'ui:sam', applied: { mode: 'c' } })),
      'sync.conflicts.resolved': () => ok([{ id: 'd2|desired', kind: 'desired', deviceId: 'd2', detectedAt: '', clearedAt: '', fields: ['mode'], outcome: 'resolved', by: 'ui:sam', applied: { mode: 'c' }, decision: 'cloud' }])
    })
    const s = createSyncStore(f.api, { pollMs: 60_000 })
    const stop = s.start()
    await flush()
    const err = await s.resolve('d2|desired', 'local')
    expect(err).toMatchObject({ code: 503001 })
    expect(s.store.getState().conflicts).toHaveLength(1)
    expect(await s.resolve('d2|desired', 'cloud')).toBeUndefined()
    expect(s.store.getState().conflicts).toHaveLength(0)
    expect(s.store.getState().resolved.map(r => [r.id, r.by])).toEqual([['d2|desired', 'ui:sam']])
    expect(f.calls.find(c => c.method === 'sync.resolve' && (c.input as { resolution: string }).resolution === 'cloud')).toBeDefined()
    open = [{ ...conflict, id: 'd3|tags', kind: 'tags', deviceId: 'd3' }]
    f.emit([{ type: 'sync.conflict', change: 'opened', id: 'd3|tags', deviceId: 'd3', kind: 'tags', fields: ['line'] }])
    await new Promise(r => setTimeout(r, 600))
    expect(s.store.getState().conflicts.map(c => c.id)).toEqual(['d3|tags'])
    stop()
  })

  it('spaces its background status poll to 10x what a status call costs (thousands of devices)', async () => {
    vi.useFakeTimers()
    let cost = 0
    const calls: number[] = []
    const slow = (v: unknown) => new Promise(resolve => { calls.push(Date.now()); setTimeout(() => { resolve(ok(v)) }, cost) })
    const api: HubApi = {
      call: ((m: string) => m === 'sync.status' ? slow(status()) : Promise.resolve(m === 'sync.devices' ? ok({ items: [], total: 0, offset: 0, counts }) : m === 'sync.conflicts' || m === 'sync.conflicts.resolved' ? ok([]) : fail(0, 'UnknownMethod', m))) as never,
      subscribe: () => () => {}
    }
    const s = createSyncStore(api, { pollMs: 1000 })
    const stop = s.start()
    await vi.advanceTimersByTimeAsync(3500) // cheap: every second
    expect(calls.length).toBe(4) // start + 3 polls
    cost = 800
    await vi.advanceTimersByTimeAsync(1000) // this poll costs 800 ms ...
    const n = calls.length
    await vi.advanceTimersByTimeAsync(7000) // ... so the next waits 8 s, not 1
    expect(calls.length).toBe(n)
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls.length).toBe(n + 1)
    stop()
  })

  it('saves settings and returns test outcomes or errors', async () => {
    const f = fakeHub({
      'sync.status': () => ok(status({ configured: false, state: 'offline' })),
      'sync.settings.set': (i) => i.connectionString === 'bad' ? fail(400004, 'ArgumentInvalid', 'connectionString: needs HostName') : ok({ configured: true, upstreamHost: 'h', policyName: 'p', edgeDeviceId: null, ca: null, conflictPolicy }),
      'sync.settings.test': () => ok({ ok: false, step: 'tls', message: "The cloud's certificate is not trusted", latencyMs: null })
    })
    const s = createSyncStore(f.api)
    expect(await s.saveSettings({ connectionString: 'bad' })).toMatchObject({ name: 'ArgumentInvalid' })
    expect(s.store.getState().settings).toBeUndefined()
    expect(await s.saveSettings({ connectionString: 'HostName=h;SharedAccessKeyName=p;SharedAccessKey=k' })).toBeUndefined()
    expect(s.store.getState().settings?.configured).toBe(true)
    expect(await s.testSettings({})).toMatchObject({ ok: false, step: 'tls' })
  })
})
