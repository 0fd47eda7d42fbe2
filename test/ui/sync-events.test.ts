// The sync part of the UI event source (api/ui/events.ts): link and conflict events from the
// hub's bus, and queue depths sampled only while someone watches, sent only when they change.
// The sync service here is a stand-in with the same shape (the real one runs in
// test/sync/ui-api.test.ts): what is under test is the sampling, not the engine.
import { describe, expect, it } from 'vitest'
import { createEventCoalescer } from '../../src/main/hub/api/ui/events.js'
import { createEventBus } from '../../src/main/hub/events.js'
import type { Hub } from '../../src/main/hub/services.js'
import type { DeviceSyncStatus, SyncStatus } from '../../src/main/hub/sync/types.js'
import type { UiEvent } from '../../src/shared/contract/index.js'

const until = async (what: string, fn: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 10))
  }
}

function fakeSync () {
  let pending = 0
  let snapshots = 0
  const status = (): SyncStatus => ({
    configured: true, upstreamHost: 'h', edgeDeviceId: 'e', state: 'online', since: '', lastError: null, lastSuccessfulSync: null, reconnectAttempts: 0, sasRenewals: 0,
    registry: { mirrored: 1, createdUpstream: 0, createdLocally: 0, conflicts: 0 }, reported: { pendingDevices: 0, patchesSent: 0, alreadyApplied: 0, notApplied: 0, cursor: 0 }, desired: { applied: 0, localEditsSent: 0 },
    telemetry: { sent: 0, expired: 0, dropped: 0, sentPerDevice: {}, expiredPerDevice: {}, droppedPerDevice: {}, notForwarded: 0, notForwardedPerDevice: {}, pending, backlogOldest: null, cursor: 7 },
    conflicts: 0, modules: { mirrored: 0, createdUpstream: 0, createdLocally: 0, conflicts: [] }
  })
  const source = {
    sync: {
      settings: () => ({ connectionString: 'x' }),
      status: () => { snapshots++; return status() },
      devices: (): DeviceSyncStatus[] => [{ deviceId: 'd', state: pending > 0 ? 'pending' : 'inSync', pendingReported: false, pendingChanges: 0, upstreamConnected: false }]
    },
    telemetry: { read: async (from: number) => [{ seq: from, enqueuedTime: '2026-11-26T10:00:00.000Z' }] }
  } as unknown as Pick<Hub, 'sync' | 'telemetry'>
  return { source, setPending: (n: number) => { pending = n }, snapshots: () => snapshots }
}

describe('sync UI events', () => {
  it('samples queue depths only while someone watches, and sends them only when they change', async () => {
    const bus = createEventBus()
    const f = fakeSync()
    let watching = false
    const got: UiEvent[] = []
    const c = createEventCoalescer({
      events: bus, clock: { now: () => Date.now() } as never, intervalMs: 10, sync: f.source, syncSampleMs: 20, syncActive: () => watching,
      onBatch: (b) => { got.push(...b) }
    })
    try {
      await new Promise(r => setTimeout(r, 200))
      expect(f.snapshots()).toBe(0)
      watching = true
      await until('first queue event', () => got.some(e => e.type === 'sync.queue'))
      const first = got.find(e => e.type === 'sync.queue')
      expect(first).toMatchObject({ queue: { telemetryPending: 0, backlogOldest: null }, devices: { inSync: 1, pending: 0 } })
      const n = f.snapshots()
      await until('more samples', () => f.snapshots() >= n + 3)
      expect(got.filter(e => e.type === 'sync.queue')).toHaveLength(1) // nothing changed: nothing sent
      f.setPending(5)
      await until('changed queue event', () => got.some(e => e.type === 'sync.queue' && e.queue.telemetryPending === 5))
      // the oldest waiting message is read at the done-set cursor
      expect(got.findLast(e => e.type === 'sync.queue')).toMatchObject({ queue: { backlogOldest: '2026-11-26T10:00:00.000Z' }, devices: { pending: 1 } })
      watching = false
      await new Promise(r => setTimeout(r, 60))
      const idle = f.snapshots()
      await new Promise(r => setTimeout(r, 200))
      expect(f.snapshots()).toBe(idle)
    } finally { c.close() }
  })

  it('turns link and conflict hub events into sync.link and sync.conflict, last one per conflict winning', async () => {
    const bus = createEventBus()
    const got: UiEvent[][] = []
    const c = createEventCoalescer({ events: bus, clock: { now: () => Date.now() } as never, intervalMs: 30, onBatch: (b) => { got.push(b) } })
    try {
      bus.emit('sync.linkChanged', { state: 'offline', previous: 'online', reason: 'heartbeat failed', at: '2026-11-26T10:00:00.000Z' })
      bus.emit('sync.conflict', { id: 'd|desired', kind: 'desired', deviceId: 'd', fields: ['mode'] } as never)
      bus.emit('sync.conflictCleared', { id: 'd|desired', deviceId: 'd' } as never)
      bus.emit('sync.conflict', { id: 'e|tags', kind: 'tags', deviceId: 'e', fields: ['line'] } as never)
      await until('a batch', () => got.length > 0)
      expect(got[0]).toEqual([
        { type: 'sync.link', state: 'offline', previous: 'online', reason: 'heartbeat failed', at: '2026-11-26T10:00:00.000Z' },
        { type: 'sync.conflict', change: 'cleared', id: 'd|desired', deviceId: 'd', kind: null, fields: [] },
        { type: 'sync.conflict', change: 'opened', id: 'e|tags', deviceId: 'e', kind: 'tags', fields: ['line'] }
      ])
    } finally { c.close() }
  })
})
