// The twin service (protocol A.7, B, C.3). Ordering: a write reads the stored record,
// computes the next one and hands it to the store synchronously, before its first await;
// the store applies writes in memory at once, so concurrent writes to one twin apply in
// arrival order. Devices are notified and events emitted only once the write is durable.
import { HubError } from '../errors.js'
import type { HubEventBus } from '../events.js'
import type { TwinService, TwinWriteOptions } from '../services.js'
import type { HubStore, StoreOp } from '../store/types.js'
import type {
  Clock, DeviceConnection, DeviceRecord, Identity, JsonObject, JsonValue, Logger,
  SessionSubscriptions, TwinDocument, TwinRecord
} from '../types.js'
import { applyReportedPatch, applyServiceWrite, parseServiceBody, type ServiceWrite, type WriteMode } from './apply.js'
import { applyConfigurationWrite, type ConfigurationsMap } from './configurations.js'
import { checkIfMatch, twinEtag } from './etag.js'
import { cloneJson, deepFreeze } from './json.js'
import { isoTime } from './metadata.js'
import { renderForDevice, renderTwin } from './render.js'
import { identityFields, newTwinRecord, twinKey } from './twin-record.js'

export interface TwinServiceDeps {
  store: HubStore
  events: HubEventBus
  clock: Clock
  registry: { record(identity: Identity): DeviceRecord | undefined }
  connections: {
    get(identity: Identity): DeviceConnection | undefined
    subscriptions(identity: Identity): SessionSubscriptions
    isConnected(identity: Identity): boolean
  }
  /** Hub-wide change-feed sequence (ARCHITECTURE: twin changes form an ordered feed). */
  nextChangeSeq(): number
  logger?: Logger
}

export interface TwinServiceInternal extends TwinService {
  /**
   * A new twin record for an identity being created. Does not write: the registry puts it
   * under `twinKey(identity)` in the same store batch as the device record.
   */
  initRecord(identity: Identity): TwinRecord
  /** Same as initRecord, from the device record. */
  createFor(record: DeviceRecord): TwinRecord
  /** The store op that deletes a twin, for the registry's delete batch. */
  deleteOp(identity: Identity): StoreOp
  /** The stored record, frozen (or as loaded from disk): do not mutate. For the query engine and sync. */
  record(identity: Identity): Readonly<TwinRecord> | undefined
  /** Every stored record with its registry entry; cheaper than all() when rendering is not needed. */
  records(): IterableIterator<{ twin: Readonly<TwinRecord>; device: DeviceRecord }>
  /**
   * Automatic configurations (F): merge `desiredPatch` into desired and set the `configurations`
   * map, in one store batch with `extraOps`. Resolves true when the twin changed.
   */
  applyConfigurations(identity: Identity, desiredPatch: JsonObject, configurations: ConfigurationsMap, extraOps?: StoreOp[]): Promise<boolean>
}

export function createTwinService (deps: TwinServiceDeps): TwinServiceInternal {
  const { store, events, registry, connections } = deps
  const now = (): string => isoTime(deps.clock.now())

  /** The registry decides existence; a twin missing beside an existing identity is rebuilt empty. */
  function lookup (identity: Identity): { key: string; device: DeviceRecord; twin: TwinRecord } {
    const device = registry.record(identity)
    if (!device) throw notFound(identity)
    const key = twinKey(identity)
    return { key, device, twin: store.get('twins', key) ?? newTwinRecord(identity, now(), 0) }
  }

  function notFound (identity: Identity): HubError {
    if (identity.moduleId !== undefined && registry.record({ deviceId: identity.deviceId })) {
      return new HubError('ModuleNotFound', `Module ${identity.moduleId} on device ${identity.deviceId} not found`)
    }
    return new HubError('DeviceNotFound', `Device ${identity.deviceId} not found`)
  }

  function save (key: string, record: TwinRecord): { record: TwinRecord; durable: Promise<void> } {
    const saved = deepFreeze({ ...record, changeSeq: deps.nextChangeSeq() })
    return { record: saved, durable: store.put('twins', key, saved) }
  }

  /** A.7: only to a connected device subscribed to desired; never replayed (it re-GETs on reconnect). */
  function notifyDesired (identity: Identity, change: JsonObject, version: number): void {
    if (!connections.subscriptions(identity).desired) return
    const conn = connections.get(identity)
    if (!conn) return
    try {
      conn.sendDesiredPatch(cloneJson(change), version)
    } catch (err) {
      // The write is durable; a broken connection only costs the device this notification.
      deps.logger?.warn('desired notification failed', { key: conn.key, error: (err as Error).message })
    }
  }

  async function serviceWrite (identity: Identity, body: unknown, mode: WriteMode, etag: string | undefined, by?: string): Promise<TwinDocument> {
    const { key, device, twin } = lookup(identity)
    const precondition = checkIfMatch(etag, twinEtag(twin.etagCounter))
    if (precondition) throw precondition
    const input = parseServiceBody(body, mode)
    if (input instanceof HubError) throw input
    const write: ServiceWrite | HubError = applyServiceWrite(twin, input, mode, now())
    if (write instanceof HubError) throw write
    if (write.record === twin) return renderTwin(twin, device, connections.isConnected(identity))
    const { record, durable } = save(key, write.record)
    await durable
    const ids = identityFields(identity)
    const desiredChanged = Object.keys(write.desiredChange).length > 0
    if (desiredChanged) notifyDesired(identity, write.desiredChange, record.desiredVersion)
    if (desiredChanged) {
      events.emit('twin.desiredChanged', { ...ids, patch: cloneJson(write.desiredChange), version: record.desiredVersion, changeSeq: record.changeSeq, ...(by === undefined ? {} : { by }) })
    }
    if (Object.keys(write.tagsChange).length > 0) {
      // `tags` carries the whole new tags section (the event field is named for it, not a patch).
      events.emit('twin.tagsChanged', { ...ids, tags: cloneJson(record.tags), changeSeq: record.changeSeq, patch: cloneJson(write.tagsChange), ...(by === undefined ? {} : { by }) })
    }
    return renderTwin(record, registry.record(identity) ?? device, connections.isConnected(identity))
  }

  const patch = (identity: Identity, body: JsonValue, etag?: string, opts?: TwinWriteOptions): Promise<TwinDocument> =>
    serviceWrite(identity, body, 'patch', etag, opts?.by)

  const initRecord = (identity: Identity): TwinRecord =>
    deepFreeze(newTwinRecord(identity, now(), deps.nextChangeSeq()))

  function * records (): IterableIterator<{ twin: Readonly<TwinRecord>; device: DeviceRecord }> {
    for (const [, twin] of store.entries('twins')) {
      const device = registry.record(twin)
      if (device) yield { twin, device }
    }
  }

  return {
    get (identity) {
      const { device, twin } = lookup(identity)
      return renderTwin(twin, device, connections.isConnected(identity))
    },

    getForDevice (identity) {
      return renderForDevice(lookup(identity).twin)
    },

    async patchReported (identity, body) {
      const { key, twin } = lookup(identity)
      const result = applyReportedPatch(twin, body, now())
      if (result instanceof HubError) throw result
      const { record, durable } = save(key, result.record)
      await durable
      events.emit('twin.reportedChanged', {
        // result.change is built fresh by mergePatch (never shared with the stored record): no copy needed.
        ...identityFields(identity), patch: result.change, version: record.reportedVersion, changeSeq: record.changeSeq
      })
      return record.reportedVersion
    },

    patch,
    replace: (identity, body, etag, opts) => serviceWrite(identity, body, 'replace', etag, opts?.by),
    patchDesired: (identity, desired, etag, opts) => patch(identity, { properties: { desired } }, etag, opts),
    patchTags: (identity, tags, etag, opts) => patch(identity, { tags }, etag, opts),

    * all () {
      for (const { twin, device } of records()) {
        yield renderTwin(twin, device, connections.isConnected(twin))
      }
    },

    initRecord,
    createFor: (record) => initRecord(identityFields(record)),
    deleteOp: (identity) => ({ op: 'del', c: 'twins', id: twinKey(identity) }),
    record: (identity) => store.get('twins', twinKey(identity)),
    records,

    async applyConfigurations (identity, desiredPatch, configurations, extraOps = []) {
      const { key, twin } = lookup(identity)
      const write = applyConfigurationWrite(twin, desiredPatch, configurations, now())
      if (write instanceof HubError) throw write
      if (write.record === twin) {
        if (extraOps.length > 0) await store.batch(extraOps)
        return false
      }
      const record = deepFreeze({ ...write.record, changeSeq: deps.nextChangeSeq() })
      await store.batch([{ op: 'put', c: 'twins', id: key, doc: record }, ...extraOps])
      const ids = identityFields(identity)
      if (Object.keys(write.desiredChange).length > 0) {
        notifyDesired(identity, write.desiredChange, record.desiredVersion)
        events.emit('twin.desiredChanged', { ...ids, patch: cloneJson(write.desiredChange), version: record.desiredVersion, changeSeq: record.changeSeq, by: 'configuration' })
      }
      if (write.configurationsChanged) {
        events.emit('twin.configurationsChanged', { ...ids, configurations: cloneJson(record.configurations ?? {}), changeSeq: record.changeSeq })
      }
      return true
    }
  }
}
