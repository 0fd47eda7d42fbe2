// hub.sync: the upstream link and what converges over it (docs/sync.md).
// Two loops run while the link is online: the control loop (edge registration, registry
// convergence, reported up, desired/tags down) and the telemetry pump. Every cursor and base
// they rely on is in the store collection `sync`, written after the cloud acknowledged.
import type { HubEventBus } from '../events.js'
import { argumentInvalid, isHubError } from '../errors.js'
import type { CommandService } from '../commands/types.js'
import type { JobService } from '../jobs/types.js'
import type { ConnectionManager, MethodService, Registry, TelemetryService, TwinService } from '../services.js'
import type { HubStore, StoreOp } from '../store/types.js'
import { isEmpty } from '../twins/merge-patch.js'
import { cloneJson, jsonEqual } from '../twins/json.js'
import type { Clock, DeviceDocument, JsonObject, JsonValue, Logger, StoredTelemetry, TwinDocument } from '../types.js'
import { parseServiceConnectionString, validateUpstreamSettings, type ServiceConnectionString } from './connection-string.js'
import { ORIGIN_PROPERTY } from './dedupe.js'
import { encodeTelemetryBag, openDeviceLink, type DeviceLink } from './device-link.js'
import { addAll, addRange, countMissing, firstGap, has, type Ranges } from './intervals.js'
import { createConflictBook, validatePolicy } from './conflicts.js'
import { createEdgeDelegation } from './jobs-edge.js'
import { createLink, type Link } from './link.js'
import { createBacklogGate, createOpenLimiter, type OpenPriority } from './pacing.js'
import { createModuleMirror } from './modules.js'
import { pushReported as pushReportedOnce, unconfirmed, type ReportedCounters } from './reported-up.js'
import { merge3, pickPaths } from './merge.js'
import { authOf, fp, sameFp, stripMeta, type DeviceState } from './state.js'
import type { DeviceSyncStatus, LinkState, SyncService, SyncSettingsView, SyncStatus, TelemetrySyncCounters, UpstreamSettings } from './types.js'
import { LinkError, createUpstreamClient, type UpstreamClient } from './upstream-client.js'

export interface SyncOptions {
  heartbeatMs?: number
  failuresToOffline?: number
  minBackoffMs?: number
  maxBackoffMs?: number
  requestTimeoutMs?: number
  /** Full registry/twin resync period while online. */
  resyncMs?: number
  /** Telemetry older than this when its turn comes is counted as expired, not sent. */
  telemetryTtlMs?: number
  telemetryBatch?: number
  /** Backlog messages in flight per batch (smaller: lower live latency during a drain). */
  telemetryBacklogBatch?: number
  /** How long the backlog pump yields at most, per batch, while live messages wait. */
  backlogYieldMs?: number
  /** Upstream MQTT port (IoT Hub: 8883). */
  mqttsPort?: number
  deviceKeepaliveSeconds?: number
  tokenTtlSeconds?: number
  /** How often a Sitehub cloud is asked for jobs and queued commands to take over (jobs-edge.ts). Default 5 s. */
  delegationPollMs?: number
  /** false: never take over the cloud's jobs and queued commands (the cloud drives the devices through method forwarding, as with Azure). Default true. */
  delegation?: boolean
}

export interface SyncDeps {
  store: HubStore
  events: HubEventBus
  registry: Registry
  twins: TwinService
  telemetry: TelemetryService
  /** Optional: forward direct methods from the cloud to local devices. */
  methods?: MethodService
  connections?: ConnectionManager
  /** Optional: take over the site's part of the cloud's jobs and queued commands (sync/jobs-edge.ts). */
  jobs?: JobService
  commands?: CommandService
  clock: Clock
  logger: Logger
  hostName: () => string
  options?: SyncOptions
}

interface TelemetryState extends TelemetrySyncCounters { done: Ranges }

const C = 'sync'

export { merge3 }

export function createSyncService (deps: SyncDeps): SyncService & { start(): void } {
  const { store, events, registry, twins, telemetry, clock, logger } = deps
  const o = deps.options ?? {}
  const resyncMs = o.resyncMs ?? 30_000
  const ttlMs = o.telemetryTtlMs ?? 7 * 24 * 3600_000
  const batchSize = o.telemetryBatch ?? 500
  const backlogBatch = o.telemetryBacklogBatch ?? Math.min(batchSize, 100)
  const iso = (): string => new Date(clock.now()).toISOString()

  let settings: UpstreamSettings | null = (store.get(C, 'settings') as UpstreamSettings | undefined) ?? null
  let cs: ServiceConnectionString | null = null
  const settingsView = (): SyncSettingsView => {
    let parsed: ServiceConnectionString | null = null
    try { parsed = settings === null ? null : parseServiceConnectionString(settings.connectionString) } catch { parsed = null }
    return {
      configured: settings !== null,
      upstreamHost: parsed?.hostName ?? null,
      keyName: parsed?.keyName ?? null,
      ca: settings?.ca ?? null,
      edgeDeviceId: settings?.edgeDeviceId ?? null,
      conflictPolicy: book.policy()
    }
  }
  let client: UpstreamClient | null = null
  let link: Link | null = null
  let state: LinkState = 'offline'
  let since = iso()
  let lastError: string | null = null
  let lastSuccessfulSync: string | null = null
  let edgeId: string | null = null
  let scope: string | null = null
  let closed = false
  let generation = 0 // bumps on every online session; loops of an old session stop
  const counters = { createdUpstream: 0, createdLocally: 0, desiredApplied: 0, localEditsSent: 0 }
  const reportedCounters: ReportedCounters = { patchesSent: 0, alreadyApplied: 0, notApplied: 0 }

  const deviceLinks = new Map<string, Promise<DeviceLink>>()
  const dirtyReported = new Set<string>()
  const dirtyDesired = new Set<string>()
  let registryDirty = true
  let allTwinsDirty = true
  let controlBusy = false
  let liveHigh = 0
  let backlogScan = 0
  /** Seqs one of the two pumps is sending right now (the other must not pick them up). */
  const inflight = new Set<number>()
  /** Live seqs whose send failed (link drop): the live pump resends them first, not behind the backlog. */
  const liveRetry = new Set<number>()
  let backlogOldest: string | null = null

  const devState = (id: string): DeviceState => cloneJson((store.get(C, `dev:${id}`) as DeviceState | undefined) ?? {})
  const putDevState = async (id: string, s: DeviceState): Promise<void> => {
    const wasMirrored = (store.get(C, `dev:${id}`) as DeviceState | undefined)?.regBase !== undefined
    await store.put(C, `dev:${id}`, s as unknown as JsonObject)
    // A device that just became mirrored may have reported changes older than the feed cursor.
    if (!wasMirrored && s.regBase !== undefined) { dirtyReported.add(id); dirtyDesired.add(id) }
  }
  const telState = (): TelemetryState => {
    const t = store.get(C, 'telemetry') as TelemetryState | undefined
    if (t !== undefined) return { ...cloneJson(t), droppedPerDevice: cloneJson(t.droppedPerDevice ?? {}), notForwarded: t.notForwarded ?? 0, notForwardedPerDevice: cloneJson(t.notForwardedPerDevice ?? {}) }
    // First configuration: send what the log holds now (backlog), nothing before it.
    const st = telemetry.stats()
    const first = st.oldestSeq ?? (st.newestSeq ?? 0) + 1
    return { done: [[0, first]], sent: 0, expired: 0, dropped: 0, sentPerDevice: {}, expiredPerDevice: {}, droppedPerDevice: {}, notForwarded: 0, notForwardedPerDevice: {} }
  }
  let tel: TelemetryState = telState()

  const book = createConflictBook({
    store, events, registry, twins, clock, logger,
    client: () => client,
    online: () => online(),
    scope: () => scope,
    enabled: () => settings !== null,
    devState,
    putDevState,
    closeDeviceLink: (id) => {
      const open = deviceLinks.get(id)
      if (open !== undefined) { deviceLinks.delete(id); void open.then((l) => l.close(), () => {}) }
    },
    afterResolve: (id) => { registryDirty = true; dirtyDesired.add(id); dirtyReported.add(id); void runControl() }
  })
  const hasConflict = book.has
  const registryBlocked = book.registryBlocked
  const recordConflict = book.record
  const clearConflict = book.clear

  const waiters = new Set<() => void>()
  const kick = (): void => { for (const w of [...waiters]) w() }
  const online = (): boolean => state === 'online' || state === 'degraded'
  const onLinkFailure = (err: unknown): void => {
    lastError = (err as Error).message
    if (err instanceof LinkError) link?.suspect(lastError)
    else logger.warn('sync step failed', { error: lastError })
  }

  // ---- device links (identity translation) ----
  const mirrored = (id: string): boolean => (store.get(C, `dev:${id}`) as DeviceState | undefined)?.regBase !== undefined && !registryBlocked(id) && registry.get({ deviceId: id }) !== undefined
  /** The edge can speak for the device upstream: it needs the device's SAS key (an X.509 device has none). */
  const linkable = (id: string): boolean => (registry.get({ deviceId: id })?.authentication.symmetricKey.primaryKey ?? null) !== null
  // At most 16 TLS+MQTT handshakes at a time: a backlog touching a thousand devices must not
  // open a thousand connections at once (the cloud would time out CONNACKs and the link flap).
  // Opens the live pump needs go first (pacing.ts).
  const opens = createOpenLimiter(16)
  const gate = createBacklogGate({ maxYieldMs: o.backlogYieldMs ?? 100 })
  /** What every upstream device or module link shares: the cloud's address, CA and timings. */
  const linkOptions = (up: ServiceConnectionString) => ({
    host: up.host, hostName: up.hostName, mqttsPort: o.mqttsPort ?? 8883,
    ...(settings?.ca === undefined ? {} : { ca: settings.ca }),
    keepaliveSeconds: o.deviceKeepaliveSeconds ?? 5,
    tokenTtlSeconds: o.tokenTtlSeconds ?? 3600
  })
  const modules = createModuleMirror({
    store, events, registry, twins, logger, iso, reportedCounters,
    kick: () => { void runControl() },
    openLink: (deviceId, moduleId, key, onDesired, onClose) => {
      const up = cs
      if (up === null) return Promise.reject(new Error('no upstream'))
      const p: Promise<DeviceLink> = opens.run(`${deviceId}/${moduleId}`, 'bulk', () => openDeviceLink({
        ...linkOptions(up), deviceId, moduleId, key,
        onDesired: () => { onDesired() },
        onMethod: (_id, name, rid, payload) => { void forwardMethod({ deviceId, moduleId }, name, rid, payload, p, () => modules.link(deviceId, moduleId)) },
        onClose: (_id, reason) => { moduleMethodForwarding.delete(`${deviceId}/${moduleId}`); onClose(); logger.debug('sync module link closed', { deviceId, moduleId, reason }) }
      }))
      return p
    }
  })
  const getLink = async (deviceId: string, priority: OpenPriority = 'bulk'): Promise<DeviceLink> => {
    let p = deviceLinks.get(deviceId)
    if (p !== undefined && priority === 'live') opens.promote(deviceId)
    if (p === undefined) {
      p = openLink(deviceId, priority)
      deviceLinks.set(deviceId, p)
    }
    return await p
  }
  /** Opens a device link; the map entry is the caller's to set. Callbacks only touch the map while it still holds this link. */
  const openLink = (deviceId: string, priority: OpenPriority, subscribeMethods = false): Promise<DeviceLink> => {
    const dev = registry.mustGet({ deviceId })
    const key = dev.authentication.symmetricKey.primaryKey
    const up = cs
    if (up === null || key === null) throw new Error(`no upstream credentials for ${deviceId}`)
    const p: Promise<DeviceLink> = opens.run(deviceId, priority, () => openDeviceLink({
      ...linkOptions(up), deviceId, key,
      onDesired: (id) => { dirtyDesired.add(id); void runControl() },
      onMethod: (id, name, rid, payload) => { void forwardMethod({ deviceId: id }, name, rid, payload, p, () => deviceLinks.get(id)) },
      onRenewDue: (id) => { renewLink(id, p) },
      subscribeMethods,
      onClose: (id, reason) => {
        if (deviceLinks.get(id) === p) { deviceLinks.delete(id); methodForwarding.delete(id) }
        logger.debug('sync device link closed', { deviceId: id, reason })
      }
    }))
    p.catch((err: Error) => { if (deviceLinks.get(deviceId) === p) deviceLinks.delete(deviceId); onLinkFailure(new LinkError(`device link ${deviceId}: ${err.message}`)) })
    return p
  }
  /**
   * SAS renewal, make before break: a fresh link (new token) replaces the old one in the map at
   * once, so new sends wait for it; once it is open it takes over the method subscription, then
   * the old link closes (the cloud may already have closed it when the new one connected, as
   * IoT Hub does; what was in flight there is resent). The device never looks offline upstream
   * for longer than the new link's SUBSCRIBE.
   */
  const renewLink = (id: string, old: Promise<DeviceLink>): void => {
    const closeOld = (): void => { void old.then((l) => l.close(), () => {}) }
    if (deviceLinks.get(id) !== old || !online() || registry.get({ deviceId: id }) === undefined) { if (deviceLinks.get(id) === old) deviceLinks.delete(id); closeOld(); return }
    let fresh: Promise<DeviceLink>
    // The fresh link subscribes to methods in its first SUBSCRIBE: the cloud closes the old
    // connection when the new one connects, and the device is reachable for methods again as
    // soon as that SUBSCRIBE is processed (one round trip).
    try { fresh = openLink(id, 'bulk', methodForwarding.has(id)) } catch { deviceLinks.delete(id); closeOld(); return }
    deviceLinks.set(id, fresh)
    fresh.then(() => {}, () => { methodForwarding.delete(id) }).finally(closeOld)
  }
  // ---- jobs and queued commands the edge takes over from a Sitehub cloud (jobs-edge.ts) ----
  const delegation = deps.jobs === undefined || deps.commands === undefined || o.delegation === false
    ? null
    : createEdgeDelegation({ store, jobs: deps.jobs, commands: deps.commands, clock, logger, mirrored: (id) => mirrored(id), ...(o.delegationPollMs === undefined ? {} : { pollMs: o.delegationPollMs }) })
  const runDelegation = (): void => {
    const c = client
    if (delegation === null || c === null || edgeId === null || !online()) return
    delegation.tick(c, edgeId, generation).catch(onLinkFailure)
  }

  // ---- direct methods from the cloud, forwarded to the local device ----
  // The edge subscribes to methods upstream on a device's behalf only while that device is
  // connected here with methods subscribed, so the cloud answers DeviceNotOnline otherwise.
  const methodForwarding = new Set<string>()
  /** `deviceId/moduleId` of modules whose upstream link is subscribed to methods. */
  const moduleMethodForwarding = new Set<string>()
  /**
   * A call from the cloud for a device or module at the site. `via`: the link it came in on.
   * The answer goes back there, or, if a renewal replaced that link meanwhile, on the current
   * one (`current`; IoT Hub matches the answer by request id and identity, not by connection).
   */
  const forwardMethod = async (identity: { deviceId: string; moduleId?: string }, name: string, rid: string, payload: Buffer, via: Promise<DeviceLink>, current: () => Promise<DeviceLink> | undefined): Promise<void> => {
    if (deps.methods === undefined) return
    const answer = async (status: number, json: string): Promise<void> => {
      const first = await via.catch(() => undefined)
      const l = first !== undefined && first.connected() ? first : await current()?.catch(() => undefined)
      l?.respondMethod(rid, status, json)
    }
    let body: JsonValue = null
    try { body = payload.length === 0 ? null : JSON.parse(payload.toString('utf8')) as JsonValue } catch { body = payload.toString('utf8') }
    try {
      const r = await deps.methods.invoke(identity, { methodName: name, payload: body, responseTimeoutInSeconds: 30 })
      await answer(r.status, JSON.stringify(r.payload ?? null))
    } catch (err) {
      // The device's own failure, in IoT Hub's words (the caller sees the status and this payload).
      const status = isHubError(err) ? err.httpStatus : 500
      await answer(status, JSON.stringify({ errorCode: isHubError(err) ? err.code : 500001, message: (err as Error).message }))
    }
  }
  let reconciling = false
  const reconcileMethods = async (): Promise<void> => {
    const conns = deps.connections
    if (reconciling || conns === undefined || deps.methods === undefined || !online()) return
    reconciling = true
    try { await reconcileMethodsOnce(conns) } finally { reconciling = false }
  }
  const reconcileMethodsOnce = async (conns: ConnectionManager): Promise<void> => {
    for (const d of registry.list({ withModules: true })) {
      const mod = d.moduleId
      const identity = mod === undefined ? { deviceId: d.deviceId } : { deviceId: d.deviceId, moduleId: mod }
      const k = mod === undefined ? d.deviceId : `${d.deviceId}/${mod}`
      const forwarding = mod === undefined ? methodForwarding : moduleMethodForwarding
      // linked upstream (a module: mirrored, its telemetry going up, and a key to link with)
      const linked = mod === undefined
        ? mirrored(d.deviceId) && linkable(d.deviceId)
        : modules.telemetry(d.deviceId, mod) === 'send' && d.authentication.symmetricKey.primaryKey !== null
      const want = linked && conns.isConnected(identity) && conns.subscriptions(identity).methods
      if (want === forwarding.has(k)) continue
      try {
        const l = await (mod === undefined ? getLink(d.deviceId) : modules.link(d.deviceId, mod))
        await l.setMethods(want)
        if (want) forwarding.add(k); else forwarding.delete(k)
      } catch (err) { onLinkFailure(err); return }
    }
  }

  const closeLinks = async (): Promise<void> => {
    const all = [...deviceLinks.values()]
    deviceLinks.clear()
    methodForwarding.clear()
    moduleMethodForwarding.clear()
    await Promise.all([...all.map(async (p) => { try { await (await p).close() } catch { /* never opened */ } }), modules.closeLinks()])
  }

  // ---- edge registration and registry convergence ----
  const ensureEdge = async (c: UpstreamClient): Promise<void> => {
    const id = settings?.edgeDeviceId ?? `sitehub-edge-${deps.hostName()}`
    let dev = await c.getDevice(id)
    if (dev === null) {
      dev = await c.createDevice({ deviceId: id, status: 'enabled', capabilities: { iotEdge: true }, authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } } })
    }
    const want = dev.deviceScope !== '' && dev.deviceScope !== undefined ? dev.deviceScope : `ms-azure-iot-edge://${id}-${dev.generationId}`
    if (dev.deviceScope !== want || dev.capabilities?.iotEdge !== true) {
      dev = await c.updateDevice({ ...(dev as unknown as JsonObject), deviceScope: want, capabilities: { iotEdge: true } }, dev.etag)
    }
    edgeId = id
    scope = want
    await store.put(C, 'edge', { edgeDeviceId: id, scope: want })
  }

  const syncRegistry = async (c: UpstreamClient): Promise<void> => {
    if (scope === null || edgeId === null) return
    const cloudAll = new Map((await c.listDevices()).filter((d) => d.moduleId === undefined || d.moduleId === null).map((d) => [d.deviceId, d]))
    const local = new Map(registry.list().filter((d) => d.moduleId === undefined).map((d) => [d.deviceId, d]))
    const ids = new Set<string>([...local.keys()])
    for (const [id, d] of cloudAll) if (d.deviceScope === scope && id !== edgeId) ids.add(id)
    // New local devices go up in bulk (100 per request); everything else one by one below.
    const fresh = [...ids].filter((id) => cloudAll.get(id) === undefined && local.has(id) && devState(id).regBase === undefined)
    if (fresh.length > 1) {
      const bodies = fresh.map((id) => { const L = local.get(id) as DeviceDocument; return { deviceId: id, status: L.status, authentication: L.authentication as unknown as JsonObject, deviceScope: scope as string, parentScopes: [scope as string] } })
      const failed = await c.createDevices(bodies)
      const ops: StoreOp[] = []
      for (const id of fresh) {
        ids.delete(id)
        if (failed.has(id)) { logger.warn('sync: bulk create failed', { deviceId: id, error: failed.get(id) }); registryDirty = true; continue }
        const st = devState(id)
        st.regBase = fp(local.get(id) as DeviceDocument)
        ops.push({ op: 'put', c: C, id: `dev:${id}`, doc: st as unknown as JsonObject })
        dirtyReported.add(id)
        dirtyDesired.add(id)
        counters.createdUpstream++
        allTwinsDirty = true
      }
      await store.batch(ops) // one durable write for the whole bulk
    }
    for (const id of ids) {
      const L = local.get(id)
      const Cd = cloudAll.get(id)
      const st = devState(id)
      const B = st.regBase
      const child = { deviceScope: scope, parentScopes: [scope] }
      if (L !== undefined && Cd === undefined) {
        if (B !== undefined) {
          await recordConflict({ kind: 'registry', deviceId: id, base: B, local: fp(L), cloud: null, fields: ['deleted upstream'] })
          continue
        }
        await c.createDevice({ deviceId: id, status: L.status, authentication: L.authentication as unknown as JsonObject, ...child })
        counters.createdUpstream++
        st.regBase = fp(L)
        await putDevState(id, st)
        allTwinsDirty = true
        continue
      }
      if (L === undefined && Cd !== undefined) {
        if (B !== undefined) {
          await recordConflict({ kind: 'localDeleted', deviceId: id, base: B, local: null, cloud: fp(Cd), fields: ['deleted locally'] })
          continue
        }
        await registry.create({ deviceId: id, status: Cd.status, authentication: authOf(Cd), ...child })
        counters.createdLocally++
        st.regBase = fp(Cd)
        await putDevState(id, st)
        allTwinsDirty = true
        continue
      }
      if (L === undefined || Cd === undefined) continue
      if (Cd.deviceScope !== scope && Cd.deviceScope !== '' && Cd.deviceScope !== undefined) {
        await recordConflict({ kind: 'registry', deviceId: id, base: B ?? null, local: { ...fp(L), deviceScope: L.deviceScope }, cloud: { ...fp(Cd), deviceScope: Cd.deviceScope }, fields: ['deviceScope'] })
        continue
      }
      const fl = fp(L)
      const fc = fp(Cd)
      if (sameFp(fl, fc)) {
        if (Cd.deviceScope !== scope) await c.updateDevice({ ...(Cd as unknown as JsonObject), ...child }, Cd.etag)
        if (L.deviceScope !== scope) await registry.update({ deviceId: id, ...child })
      } else if (B !== undefined && sameFp(fc, B)) {
        await c.updateDevice({ ...(Cd as unknown as JsonObject), status: L.status, authentication: L.authentication as unknown as JsonObject, ...child }, Cd.etag)
      } else if (B !== undefined && sameFp(fl, B)) {
        await registry.update({ deviceId: id, status: Cd.status, authentication: authOf(Cd) })
        const open = deviceLinks.get(id)
        if (open !== undefined) { deviceLinks.delete(id); void open.then((l) => l.close(), () => {}) }
      } else {
        const fields = (['pk', 'sk', 'status'] as const).filter((k) => fl[k] !== fc[k]).map((k) => ({ pk: 'authentication.symmetricKey.primaryKey', sk: 'authentication.symmetricKey.secondaryKey', status: 'status' })[k])
        await recordConflict({ kind: 'registry', deviceId: id, base: B ?? null, local: fl, cloud: fc, fields })
        continue
      }
      await clearConflict(id, 'registry')
      if (!sameFp(st.regBase, fl) || !sameFp(fl, fc)) {
        const now = fp(registry.mustGet({ deviceId: id }))
        if (!sameFp(st.regBase, now)) { st.regBase = now; await putDevState(id, st); allTwinsDirty = true }
      }
    }
  }

  // ---- reported up, desired/tags down ----
  // The reported change feed: twins whose changeSeq is above the persisted cursor are
  // candidates; each device's own synced reported $version decides (exactly, per device).
  let feedHigh = 0
  const reportedCursor = (): number => Number((store.get(C, 'reportedCursor') as JsonObject | undefined)?.['seq'] ?? 0)
  const reportedFeed = (): { ids: string[]; high: number } => {
    const from = reportedCursor()
    const ids: string[] = []
    let high = from
    for (const [, t] of store.entries('twins')) {
      if (t.moduleId !== undefined || t.changeSeq <= from) continue
      high = Math.max(high, t.changeSeq)
      ids.push(t.deviceId)
    }
    return { ids, high }
  }
  const pushReported = async (id: string): Promise<void> => {
    await pushReportedOnce(store, {
      stateKey: `dev:${id}`,
      local: () => twins.get({ deviceId: id }).properties.reported,
      link: () => getLink(id)
    }, reportedCounters)
  }

  const pullTwin = async (c: UpstreamClient, id: string, fetched?: TwinDocument): Promise<void> => {
    if (book.busy(id)) return // a decision on this twin is being applied; afterResolve marks it dirty again
    const ct = fetched ?? await c.getTwin(id)
    if (ct === null) return
    const st = devState(id)
    // Nothing moved on either side since the last agreement: no writes at all.
    if (fetched !== undefined && st.cloudDesiredVersion === ct.properties.desired.$version && st.baseDesired !== undefined &&
      jsonEqual(st.baseTags ?? {}, (ct.tags ?? {}) as JsonObject) && jsonEqual(st.baseDesired, stripMeta(twins.get({ deviceId: id }).properties.desired)) &&
      jsonEqual(st.baseTags ?? {}, (twins.get({ deviceId: id }).tags ?? {}) as JsonObject)) return
    if (st.reportedShadow === undefined) st.reportedShadow = stripMeta(ct.properties.reported)
    const cloudDesired = stripMeta(ct.properties.desired)
    const cloudTags = (ct.tags ?? {}) as JsonObject
    const lt = twins.get({ deviceId: id })
    const localDesired = stripMeta(lt.properties.desired)
    const localTags = (lt.tags ?? {}) as JsonObject
    // Three-way per section. The base is what both sides last agreed on; before the first
    // sync it is the empty twin both started from.
    let cloudEtag = ct.etag
    for (const [kind, base, loc, cloud] of [['desired', st.baseDesired ?? {}, localDesired, cloudDesired], ['tags', st.baseTags ?? {}, localTags, cloudTags]] as const) {
      const m = merge3(base, loc, cloud)
      if (!isEmpty(m.down)) {
        if (kind === 'desired') { await twins.patchDesired({ deviceId: id }, m.down, undefined, { by: 'sync' }); counters.desiredApplied++ } else await twins.patchTags({ deviceId: id }, m.down, undefined, { by: 'sync' })
      }
      if (!isEmpty(m.up)) {
        // Edge-only edits go up based on the cloud etag just read. A 412 means the cloud moved
        // meanwhile: nothing is written, the next pull sees the new cloud value and decides again.
        const updated = await c.patchTwin(id, kind === 'desired' ? { properties: { desired: m.up } } : { tags: m.up }, cloudEtag)
        cloudEtag = updated.etag
        counters.localEditsSent++
      }
      if (kind === 'desired') st.baseDesired = m.base; else st.baseTags = m.base
      if (m.conflicts.length === 0) await clearConflict(id, kind)
      else {
        await recordConflict({ kind, deviceId: id, base: pickPaths(base, m.conflicts), local: pickPaths(loc, m.conflicts), cloud: pickPaths(cloud, m.conflicts), fields: m.conflicts }, { local: lt, cloud: ct })
      }
    }
    st.cloudDesiredVersion = ct.properties.desired.$version
    await putDevState(id, st)
  }

  const runControl = async (): Promise<void> => {
    if (controlBusy || client === null || !online()) return
    controlBusy = true
    const gen = generation
    const c = client
    try {
      while (online() && gen === generation && !closed) {
        if (edgeId === null || scope === null) await ensureEdge(c)
        if (registryDirty) {
          registryDirty = false
          // A failed pass (e.g. a bulk create timing out) stays dirty: otherwise the devices it
          // did not mirror would wait for the next full resync.
          try { await syncRegistry(c) } catch (err) { registryDirty = true; throw err }
        }
        const ids = registry.list().filter((d) => d.moduleId === undefined).map((d) => d.deviceId).filter(mirrored)
        if (allTwinsDirty) {
          modules.markAll()
          allTwinsDirty = false
          // Down: one paged query for the site's twins instead of a GET per device.
          const idSet = new Set(ids)
          const rows = scope === null ? [] : await c.query(`SELECT * FROM devices WHERE deviceScope = '${scope.replace(/'/g, "''")}'`)
          await parallel(rows.filter((t) => idSet.has(t.deviceId) && t.moduleId === undefined), 8, async (t) => { await pullTwin(c, t.deviceId, t) })
          // Up: the twin change feed from the persisted cursor.
          const { ids: changed, high } = reportedFeed()
          for (const id of changed) if (idSet.has(id)) dirtyReported.add(id)
          feedHigh = Math.max(feedHigh, high)
        }
        const desired = [...dirtyDesired].filter((id) => ids.includes(id))
        dirtyDesired.clear()
        await parallel(desired, 8, async (id) => { await pullTwin(c, id) })
        const reported = [...dirtyReported].filter((id) => ids.includes(id) && linkable(id))
        dirtyReported.clear()
        await parallel(reported, 8, async (id) => {
          try { await pushReported(id) } catch (err) { dirtyReported.add(id); throw err }
        })
        if (modules.dirty()) await modules.sync(c, new Set(ids))
        if (!registryDirty && dirtyDesired.size === 0 && dirtyReported.size === 0 && !allTwinsDirty && !modules.dirty()) {
          if (feedHigh > reportedCursor()) await store.put(C, 'reportedCursor', { seq: feedHigh })
          break
        }
      }
      lastSuccessfulSync = iso()
      kick()
    } catch (err) {
      onLinkFailure(err)
    } finally {
      controlBusy = false
      if (gen !== generation && online()) void runControl()
    }
  }

  // ---- telemetry pump ----
  const persistTel = async (): Promise<void> => { await store.put(C, 'telemetry', tel as unknown as JsonObject) }
  // Two pumps share the done-set: `live` sends what arrived since the link came up (seqs at or
  // above liveHigh) as soon as it arrives; `backlog` drains the older gaps behind it in batches.
  // They never touch the same seq (liveHigh only grows), so live data never waits for a backlog batch.
  const pumpOnce = async (kind: 'live' | 'backlog'): Promise<boolean> => {
    const st = telemetry.stats()
    const newest = st.newestSeq ?? 0
    let batch: StoredTelemetry[]
    let handledGap: [number, number] | null = null
    if (kind === 'live' && liveRetry.size > 0) {
      const seqs = [...liveRetry].sort((a, b) => a - b).slice(0, 100)
      for (const q of seqs) liveRetry.delete(q)
      const got = await Promise.all(seqs.filter((q) => !has(tel.done, q) && !inflight.has(q)).map(async (q) => { const m = (await telemetry.read(q, 1))[0]; return m?.seq === q ? m : undefined }))
      batch = got.filter((m): m is StoredTelemetry => m !== undefined && !has(tel.done, m.seq) && !inflight.has(m.seq))
      if (batch.length === 0) return true
    } else if (kind === 'live') {
      const liveRaw = newest >= liveHigh ? await telemetry.read(liveHigh, Math.min(batchSize, 100)) : []
      const lastLive = liveRaw[liveRaw.length - 1]
      if (lastLive === undefined) return false
      liveHigh = Math.max(liveHigh, lastLive.seq + 1)
      batch = liveRaw.filter((m) => !has(tel.done, m.seq) && !inflight.has(m.seq))
    } else {
      const g = firstGap(tel.done, backlogScan)
      if (g >= liveHigh) {
        if (firstGap(tel.done, 0) >= liveHigh) backlogOldest = null
        backlogScan = 0
        return false
      }
      const raw = await telemetry.read(g, backlogBatch)
      batch = raw.filter((m) => m.seq < liveHigh && !has(tel.done, m.seq) && !inflight.has(m.seq))
      if (backlogScan === 0 || backlogOldest === null) backlogOldest = batch[0]?.enqueuedTime ?? backlogOldest
      // Only seqs below the log's oldest retained one can be gone (retention cuts at the front).
      const oldest = telemetry.stats().oldestSeq ?? liveHigh
      const until = Math.min(raw[0]?.seq ?? liveHigh, oldest, liveHigh)
      if (until > g) handledGap = [g, until] // dropped by retention before it could be sent
      const last = raw[raw.length - 1]
      if (last === undefined && handledGap === null) { backlogScan = 0; return false }
      backlogScan = last === undefined ? until : last.seq >= liveHigh ? liveHigh : last.seq + 1
      if (batch.length === 0 && handledGap === null) return true
    }
    for (const m of batch) inflight.add(m.seq)
    if (kind === 'live') gate.liveStart()
    try {
      return await sendBatch(batch, handledGap, kind)
    } finally {
      if (kind === 'live') gate.liveEnd()
      for (const m of batch) inflight.delete(m.seq)
    }
  }
  const sendBatch = async (batch: StoredTelemetry[], handledGap: [number, number] | null, kind: 'live' | 'backlog'): Promise<boolean> => {
    const done: number[] = []
    const now = clock.now()
    const sends: Array<Promise<void>> = []
    let failure: unknown = null
    for (const m of batch) {
      if (now - Date.parse(m.enqueuedTime) > ttlMs) {
        tel.expired++
        tel.expiredPerDevice[m.deviceId] = (tel.expiredPerDevice[m.deviceId] ?? 0) + 1
        done.push(m.seq)
        continue
      }
      if (m.moduleId !== undefined) {
        const mod = mirrored(m.deviceId) ? modules.telemetry(m.deviceId, m.moduleId) : registry.get({ deviceId: m.deviceId, moduleId: m.moduleId }) === undefined ? 'never' : 'wait'
        if (mod === 'wait') continue // waits for the module's identity upstream
        if (mod === 'send') {
          const bag = encodeTelemetryBag(m.systemProperties, { ...m.properties, [ORIGIN_PROPERTY]: `${edgeId ?? ''}:${m.seq}` })
          const key = `${m.deviceId}/${m.moduleId}`
          sends.push(modules.link(m.deviceId, m.moduleId).then((l) => l.publish(bag, m.body)).then(() => {
            tel.sent++
            tel.sentPerDevice[key] = (tel.sentPerDevice[key] ?? 0) + 1
            done.push(m.seq)
          }, (err: unknown) => { failure = err; if (kind === 'live' && liveRetry.size < 10_000) liveRetry.add(m.seq) }))
          continue
        }
      }
      if (m.moduleId !== undefined || (mirrored(m.deviceId) && !linkable(m.deviceId))) {
        // Telemetry of X.509 devices and of modules deleted here cannot go up: counted, kept in the local log.
        const k = m.moduleId === undefined ? m.deviceId : `${m.deviceId}/${m.moduleId}`
        tel.notForwarded = (tel.notForwarded ?? 0) + 1
        tel.notForwardedPerDevice = { ...tel.notForwardedPerDevice, [k]: (tel.notForwardedPerDevice?.[k] ?? 0) + 1 }
        done.push(m.seq)
        continue
      }
      if (!mirrored(m.deviceId)) continue // waits for its identity upstream
      const props = { ...m.properties, [ORIGIN_PROPERTY]: `${edgeId ?? ''}:${m.seq}` }
      const bag = encodeTelemetryBag(m.systemProperties, props)
      sends.push(getLink(m.deviceId, kind === 'live' ? 'live' : 'bulk').then((l) => l.publish(bag, m.body)).then(() => {
        tel.sent++
        tel.sentPerDevice[m.deviceId] = (tel.sentPerDevice[m.deviceId] ?? 0) + 1
        done.push(m.seq)
      }, (err: unknown) => { failure = err; if (kind === 'live' && liveRetry.size < 10_000) liveRetry.add(m.seq) }))
    }
    await Promise.all(sends)
    if (handledGap !== null) {
      const missing = countMissing(tel.done, handledGap[0], handledGap[1])
      tel.dropped += missing
      if (missing > 0) attributeDropped(handledGap, missing)
      tel.done = addRange(tel.done, handledGap[0], handledGap[1])
    }
    tel.done = addAll(tel.done, done)
    for (const seq of done) inflightDevice.delete(seq)
    await persistTel()
    if (failure !== null) {
      // Unacknowledged messages stay out of `done`: the backlog scan resends them (the cloud
      // dedupes); failed live ones are also in liveRetry, so the live pump resends them first.
      backlogScan = 0
      throw failure instanceof LinkError ? failure : new LinkError((failure as Error).message)
    }
    return true
  }
  const pumpBusy = { live: false, backlog: false }
  const runPump = (): void => { void runPumpLoop('live'); void runPumpLoop('backlog') }
  const runPumpLoop = async (kind: 'live' | 'backlog'): Promise<void> => {
    if (pumpBusy[kind] || client === null || !online()) return
    pumpBusy[kind] = true
    const gen = generation
    try {
      while (online() && gen === generation && !closed) {
        if (edgeId === null) { await sleepOrKick(200); continue }
        // Live first: the backlog yields (briefly) while live messages wait or are in flight.
        if (kind === 'backlog') await gate.backlogTurn(() => (telemetry.stats().newestSeq ?? 0) >= liveHigh)
        const progressed = await pumpOnce(kind)
        if (!progressed) { if (kind === 'backlog') lastSuccessfulSync = iso(); await sleepOrKick(kind === 'live' ? 250 : 1000) }
      }
    } catch (err) {
      onLinkFailure(err)
    } finally {
      pumpBusy[kind] = false
      if (gen !== generation && online()) void runPumpLoop(kind)
    }
  }
  const sleepOrKick = (ms: number): Promise<void> => new Promise((resolve) => {
    const done = (): void => { clearTimeout(t); waiters.delete(done); resolve() }
    const t = setTimeout(done, ms)
    waiters.add(done)
  })

  // ---- lifecycle ----
  let resyncTimer: NodeJS.Timeout | null = null
  let watchdog: NodeJS.Timeout | null = null
  let sweep = 0
  const onState = (next: LinkState, prev: LinkState, reason: string): void => {
    state = next
    since = iso()
    if (next === 'offline') lastError = reason
    events.emit('sync.linkChanged', { state: next, previous: prev, reason, at: since })
    logger.info('sync link', { state: next, previous: prev, reason })
    if (next === 'online' && prev !== 'degraded') {
      generation++
      registryDirty = true
      allTwinsDirty = true
      const st = telemetry.stats()
      liveHigh = (st.newestSeq ?? 0) + 1
      backlogScan = 0
      edgeId = null
      scope = null
    }
    if (next === 'offline') { generation++; void closeLinks(); kick() }
    if (online()) { void runControl(); runPump() }
  }

  const stopLink = async (): Promise<void> => {
    link?.stop()
    link = null
    client?.close()
    client = null
    await closeLinks()
  }
  const startLink = (): void => {
    if (settings === null || closed) return
    cs = parseServiceConnectionString(settings.connectionString)
    const c = createUpstreamClient({ cs, ...(settings.ca === undefined ? {} : { ca: settings.ca }), requestTimeoutMs: o.requestTimeoutMs ?? 3000, tokenTtlSeconds: o.tokenTtlSeconds ?? 3600, now: clock.now })
    client = c
    link = createLink({
      probe: () => c.ping(),
      onState,
      ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }),
      ...(o.failuresToOffline === undefined ? {} : { failuresToOffline: o.failuresToOffline }),
      ...(o.minBackoffMs === undefined ? {} : { minBackoffMs: o.minBackoffMs }),
      ...(o.maxBackoffMs === undefined ? {} : { maxBackoffMs: o.maxBackoffMs })
    })
    link.start()
  }

  // Per-device drop counts (telemetry.ts retention). Before the log deletes a segment, its
  // messages not yet sent are counted as dropped per device and marked done, so the backlog
  // scan finds nothing left to count. Messages in flight at that moment are remembered and
  // attributed if their send fails and the scan later finds them gone.
  const inflightDevice = new Map<number, string>()
  const devKey = (m: StoredTelemetry): string => (m.moduleId === undefined ? m.deviceId : `${m.deviceId}/${m.moduleId}`)
  const attributeDropped = (gap: [number, number], missing: number): void => {
    let known = 0
    for (const [seq, key] of inflightDevice) {
      if (seq < gap[0] || seq >= gap[1]) continue
      inflightDevice.delete(seq)
      if (has(tel.done, seq)) continue
      tel.droppedPerDevice[key] = (tel.droppedPerDevice[key] ?? 0) + 1
      known++
    }
    // Only when the hub died between a segment's deletion and this scan: no device known.
    if (missing > known) tel.droppedPerDevice['(unknown)'] = (tel.droppedPerDevice['(unknown)'] ?? 0) + missing - known
  }
  const offDrop = telemetry.onBeforeDrop(async ({ firstSeq, lastSeq }) => {
    if (settings === null || countMissing(tel.done, firstSeq, lastSeq + 1) === 0) return
    const msgs = await telemetry.read(firstSeq, lastSeq - firstSeq + 1)
    const gone: number[] = []
    for (const m of msgs) {
      if (m.seq > lastSeq) break
      if (has(tel.done, m.seq)) continue
      if (inflight.has(m.seq)) { inflightDevice.set(m.seq, devKey(m)); continue }
      gone.push(m.seq)
      tel.dropped++
      tel.droppedPerDevice[devKey(m)] = (tel.droppedPerDevice[devKey(m)] ?? 0) + 1
    }
    if (gone.length === 0) return
    tel.done = addAll(tel.done, gone)
    await persistTel()
  })

  const unsubs = [
    offDrop,
    events.on('device.created', (e) => { if (e.moduleId === undefined) { registryDirty = true; void runControl() } }),
    events.on('device.updated', (e) => { if (e.moduleId === undefined) { registryDirty = true; void runControl() } }),
    events.on('device.deleted', (e) => { if (e.moduleId === undefined) { registryDirty = true; void runControl() } }),
    events.on('twin.reportedChanged', (e) => { if (e.moduleId === undefined) { dirtyReported.add(e.deviceId); void runControl() } }),
    events.on('twin.desiredChanged', (e) => { if (e.moduleId === undefined) { dirtyDesired.add(e.deviceId); void runControl() } }),
    events.on('twin.tagsChanged', (e) => { if (e.moduleId === undefined) { dirtyDesired.add(e.deviceId); void runControl() } }),
    events.on('telemetry.received', () => { kick() })
  ]

  const pendingReported = (id: string): boolean => {
    // read-only: no copy of the stored state (status() and devices() ask this for every device)
    const synced = (store.get(C, `dev:${id}`) as DeviceState | undefined)?.reportedVersion
    try { return synced !== twins.get({ deviceId: id }).properties.reported.$version || unconfirmed(store, `dev:${id}`) } catch { return false }
  }
  /** Reported $version steps not yet acknowledged upstream (at least 1 while pending). */
  const pendingChanges = (id: string): number => {
    const synced = (store.get(C, `dev:${id}`) as DeviceState | undefined)?.reportedVersion ?? 0
    try { return Math.max(1, twins.get({ deviceId: id }).properties.reported.$version - synced) } catch { return 1 }
  }
  const telemetryPending = (): number => {
    const st = telemetry.stats()
    if (st.newestSeq === null) return 0
    return countMissing(tel.done, st.oldestSeq ?? 1, st.newestSeq + 1)
  }
  const isIdle = (): boolean => online() && !controlBusy && !registryDirty && dirtyDesired.size === 0 && dirtyReported.size === 0 && !allTwinsDirty &&
    !modules.dirty() && modules.pendingReported() === 0 &&
    telemetryPending() === 0 && registry.list().filter((d) => d.moduleId === undefined && mirrored(d.deviceId) && linkable(d.deviceId)).every((d) => !pendingReported(d.deviceId)) &&
    (delegation?.settled() ?? true)

  const self: SyncService & { start(): void } = {
    start: () => { if (settings !== null) startLink() },
    async configure (next) {
      if (next !== null) validateUpstreamSettings(next) // validate before touching anything
      await stopLink()
      settings = next
      if (next === null) await store.del(C, 'settings')
      else await store.put(C, 'settings', next as unknown as JsonObject)
      startLink()
    },
    settings: () => settings,
    status (): SyncStatus {
      const ids = registry.list().filter((d) => d.moduleId === undefined).map((d) => d.deviceId)
      const conflicts = book.list()
      const oldest = backlogOldest
      return {
        configured: settings !== null,
        upstreamHost: cs?.hostName ?? null,
        edgeDeviceId: edgeId,
        state,
        since,
        lastError,
        lastSuccessfulSync,
        reconnectAttempts: link?.attempts() ?? 0,
        sasRenewals: client?.tokenRenewals() ?? 0,
        registry: { mirrored: ids.filter(mirrored).length, createdUpstream: counters.createdUpstream, createdLocally: counters.createdLocally, conflicts: conflicts.filter((c) => c.kind === 'registry' || c.kind === 'localDeleted').length },
        reported: { pendingDevices: ids.filter((id) => mirrored(id) && linkable(id) && pendingReported(id)).length, patchesSent: reportedCounters.patchesSent, alreadyApplied: reportedCounters.alreadyApplied, notApplied: reportedCounters.notApplied, cursor: reportedCursor() },
        desired: { applied: counters.desiredApplied, localEditsSent: counters.localEditsSent },
        telemetry: { ...cloneJson({ sent: tel.sent, expired: tel.expired, dropped: tel.dropped, sentPerDevice: tel.sentPerDevice, expiredPerDevice: tel.expiredPerDevice, droppedPerDevice: tel.droppedPerDevice, notForwarded: tel.notForwarded, notForwardedPerDevice: tel.notForwardedPerDevice }), pending: telemetryPending(), backlogOldest: oldest, cursor: firstGap(tel.done, 0) },
        conflicts: conflicts.length,
        modules: modules.status(),
        ...(delegation === null ? {} : { delegation: delegation.status() })
      }
    },
    devices (): DeviceSyncStatus[] {
      return registry.list().filter((d) => d.moduleId === undefined).map((d) => {
        const id = d.deviceId
        const m = mirrored(id)
        const link = linkable(id)
        const pr = m && link && pendingReported(id)
        const conflict = hasConflict(id)
        return {
          deviceId: id, state: conflict ? 'conflict' : !m ? 'notMirrored' : pr ? 'pending' : 'inSync', pendingReported: pr, pendingChanges: pr ? pendingChanges(id) : 0, upstreamConnected: deviceLinks.has(id),
          ...(link ? {} : { identityOnly: true })
        }
      })
    },
    conflicts: () => book.list(),
    resolvedConflicts: () => book.resolved(),
    resolveConflict: (id, resolution, by) => book.resolve(id, resolution, by),
    settingsView: () => settingsView(),
    async updateSettings (u) {
      if (u.conflictPolicy !== undefined) await book.setPolicy(validatePolicy(u.conflictPolicy))
      const upstreamChanged = u.connectionString !== undefined || u.ca !== undefined || u.edgeDeviceId !== undefined
      if (upstreamChanged) {
        const cs = u.connectionString === undefined ? settings?.connectionString : u.connectionString
        if (cs === null || cs === undefined) {
          if (u.connectionString === null || (u.ca === undefined && u.edgeDeviceId === undefined)) await self.configure(null)
          else throw argumentInvalid('Set connectionString first: sync is not configured.')
        } else {
          const next: UpstreamSettings = { connectionString: cs }
          const ca = u.ca === undefined ? settings?.ca : u.ca ?? undefined
          const edge = u.edgeDeviceId === undefined ? settings?.edgeDeviceId : u.edgeDeviceId ?? undefined
          if (ca !== undefined) next.ca = ca
          if (edge !== undefined) next.edgeDeviceId = edge
          await self.configure(next)
        }
      }
      return settingsView()
    },
    conflictPolicy: () => book.policy(),
    async waitIdle (timeoutMs) {
      const end = Date.now() + timeoutMs
      while (Date.now() < end) {
        if (isIdle()) return true
        await new Promise((r) => setTimeout(r, 100))
      }
      return isIdle()
    },
    async close () {
      closed = true
      if (resyncTimer !== null) clearInterval(resyncTimer)
      if (watchdog !== null) clearInterval(watchdog)
      delegation?.close()
      for (const u of unsubs) u()
      book.close()
      modules.close()
      kick()
      await stopLink()
    }
  }
  resyncTimer = setInterval(() => { registryDirty = true; allTwinsDirty = true; void runControl() }, resyncMs)
  resyncTimer.unref()
  // Watchdog: a loop that stopped on an error (not a link failure) resumes within a second.
  watchdog = setInterval(() => {
    if (!online()) return
    runPump()
    void reconcileMethods()
    runDelegation()
    book.tick()
    // Safety net: a mirrored device whose reported $version is not the synced one is dirty,
    // whatever event or cursor may have been missed (e.g. a base rewritten concurrently).
    if (!controlBusy && ++sweep % 5 === 0) {
      for (const d of registry.list()) if (d.moduleId === undefined && mirrored(d.deviceId) && pendingReported(d.deviceId)) dirtyReported.add(d.deviceId)
    }
    if (registryDirty || allTwinsDirty || dirtyDesired.size > 0 || dirtyReported.size > 0) void runControl()
  }, 1000)
  watchdog.unref()
  return self
}

async function parallel<T> (items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0
  let firstErr: unknown = null
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length && firstErr === null) {
      const x = items[i++] as T
      try { await fn(x) } catch (err) { firstErr ??= err }
    }
  }))
  if (firstErr !== null) throw firstErr
}
