// Test fixtures for the twin service: memory store, fake registry, fake connections and a
// store whose durability the test releases by hand. Used by *.test.ts only.
import { createEventBus } from '../events.js'
import { createMemoryStore } from '../store/memory-store.js'
import type { HubStore } from '../store/types.js'
import type { DeviceConnection, DeviceRecord, HubEventName, HubEvents, Identity, JsonObject, SessionSubscriptions } from '../types.js'
import { twinKey } from './twin-record.js'
import { createTwinService } from './twin-service.js'

export const T0 = Date.UTC(2024, 0, 1, 12, 0, 0, 0)

export function deviceRecord (identity: Identity, over: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    ...identity,
    generationId: '638000000000000000',
    etagCounter: 0,
    status: 'enabled',
    statusReason: null,
    statusUpdatedTime: '0001-01-01T00:00:00Z',
    authentication: {
      type: 'sas',
      symmetricKey: { primaryKey: 'p', secondaryKey: 's' },
      x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null }
    },
    capabilities: { iotEdge: false },
    deviceScope: '',
    parentScopes: [],
    lastActivityTime: '0001-01-01T00:00:00Z',
    cloudToDeviceMessageCount: 0,
    modelId: '',
    createdTime: '2024-01-01T00:00:00Z',
    ...over
  }
}

export interface FakeConnection extends DeviceConnection {
  desired: Array<{ patch: JsonObject; version: number }>
}

export function fakeConnection (identity: Identity, onDesired?: () => void): FakeConnection {
  const desired: Array<{ patch: JsonObject; version: number }> = []
  return {
    identity, key: twinKey(identity), transport: 'mqtt', remote: '127.0.0.1:1', connectedAt: '',
    desired,
    sendMethodRequest () {},
    sendDesiredPatch (patch, version) { onDesired?.(); desired.push({ patch, version }) },
    sendC2d: async () => {},
    close () {}
  }
}

/** A memory store whose writes apply at once but become durable only on release(). */
export function deferredStore (): HubStore & { release(): void; pending(): number } {
  const inner = createMemoryStore()
  const waiting: Array<() => void> = []
  return {
    ...inner,
    put (c, id, doc) {
      void inner.put(c, id, doc)
      return new Promise<void>((resolve) => { waiting.push(resolve) })
    },
    release () { for (const r of waiting.splice(0)) r() },
    pending: () => waiting.length
  }
}

export function setup (opts: { store?: HubStore } = {}) {
  const store = opts.store ?? createMemoryStore()
  const events = createEventBus()
  let time = T0
  const clock = { now: () => time }
  const devices = new Map<string, DeviceRecord>()
  const conns = new Map<string, DeviceConnection>()
  const subs = new Map<string, SessionSubscriptions>()
  let seq = 0
  const seen: Array<{ name: HubEventName; payload: unknown }> = []
  events.onAny((name, payload) => { seen.push({ name, payload }) })
  const twins = createTwinService({
    store, events, clock,
    registry: { record: (id) => devices.get(twinKey(id)) },
    connections: {
      get: (id) => conns.get(twinKey(id)),
      isConnected: (id) => conns.has(twinKey(id)),
      subscriptions: (id) => subs.get(twinKey(id)) ?? { methods: false, desired: false, twinResponses: false, c2d: false, inputs: false }
    },
    nextChangeSeq: () => ++seq
  })
  /** What the registry does on create: device and twin in one batch. */
  async function addDevice (identity: Identity, over: Partial<DeviceRecord> = {}): Promise<void> {
    const rec = deviceRecord(identity, over)
    devices.set(twinKey(identity), rec)
    await store.batch([{ op: 'put', c: 'twins', id: twinKey(identity), doc: twins.createFor(rec) }])
  }
  function connect (identity: Identity, desired: boolean, onDesired?: () => void): FakeConnection {
    const conn = fakeConnection(identity, onDesired)
    conns.set(twinKey(identity), conn)
    subs.set(twinKey(identity), { methods: false, desired, twinResponses: true, c2d: false, inputs: false })
    return conn
  }
  function eventsOf<E extends HubEventName> (name: E): Array<HubEvents[E]> {
    return seen.filter((e) => e.name === name).map((e) => e.payload as HubEvents[E])
  }
  return {
    store, events, twins, devices, addDevice, connect, eventsOf,
    advance: (ms: number) => { time += ms },
    seq: () => seq
  }
}
