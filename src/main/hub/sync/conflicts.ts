// Sync conflicts: the open ones (store `sync/conflict:{deviceId}|{kind}`), their per-field
// detail with who changed what and when, decisions (whole side or field by field, including a
// hand-written value), the default policy applied when nobody decides, and the record of
// conflicts that ended (docs/sync.md "Conflicts").
import { HubError, argumentInvalid } from '../errors.js'
import type { HubEventBus } from '../events.js'
import type { Registry, TwinService } from '../services.js'
import type { HubStore } from '../store/types.js'
import { cloneJson, isJsonObject, jsonEqual } from '../twins/json.js'
import type { Clock, DeviceDocument, JsonObject, JsonValue, Logger, TwinDocument } from '../types.js'
import { checkSection } from '../twins/limits.js'
import { combinePatches, getPath, patchPaths, pathPatch, setPath } from './merge.js'
import { authOf, fp, stripMeta, type DeviceState } from './state.js'
import {
  DEFAULT_CONFLICT_POLICY,
  type ConflictFieldDetail, type ConflictKind, type ConflictPolicy, type ConflictResolution, type ConflictResolutionRecord,
  type ConflictSide, type FieldResolution, type ResolvedConflict, type SyncConflict
} from './types.js'
import type { UpstreamClient } from './upstream-client.js'

const C = 'sync'
const LOG_MAX = 200

export interface ConflictDeps {
  store: HubStore
  events: HubEventBus
  registry: Registry
  twins: TwinService
  clock: Clock
  logger: Logger
  client(): UpstreamClient | null
  online(): boolean
  scope(): string | null
  /** Sync is configured: local twin changes are worth recording (who/when). */
  enabled(): boolean
  devState(id: string): DeviceState
  putDevState(id: string, st: DeviceState): Promise<void>
  closeDeviceLink(id: string): void
  /** After a decision: re-check the device (registry, twins). */
  afterResolve(deviceId: string): void
}

export interface NewConflict {
  kind: ConflictKind
  deviceId: string
  base: JsonObject | null
  local: JsonObject | null
  cloud: JsonObject | null
  fields: string[]
}

export interface ConflictBook {
  has(deviceId: string): boolean
  registryBlocked(deviceId: string): boolean
  list(): SyncConflict[]
  resolved(): ResolvedConflict[]
  /** Records or refreshes a conflict. Twin conflicts pass both twins for the per-field who/when. */
  record(c: NewConflict, twinsNow?: { local: TwinDocument; cloud: TwinDocument }): Promise<void>
  /** The two sides agree again by themselves (outcome 'converged'). */
  clear(deviceId: string, kind: ConflictKind): Promise<void>
  /** A decision on this device is being applied: the control loop leaves its twin alone meanwhile. */
  busy(deviceId: string): boolean
  resolve(id: string, resolution: ConflictResolution, by?: string): Promise<ConflictResolutionRecord>
  policy(): ConflictPolicy
  setPolicy(p: ConflictPolicy): Promise<void>
  /** Every second while online: re-apply interrupted decisions, apply the policy where due. */
  tick(): void
  close(): void
}

interface WhoEntry { by: string; at: string }
type WhoDoc = Partial<Record<'desired' | 'tags', Record<string, WhoEntry>>>

const isSide = (v: unknown): v is ConflictSide => v === 'cloud' || v === 'local'
const FP_FIELD: Record<string, string> = {
  'authentication.symmetricKey.primaryKey': 'pk', 'authentication.symmetricKey.secondaryKey': 'sk', status: 'status', deviceScope: 'deviceScope'
}

export function validatePolicy (p: unknown): ConflictPolicy {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw argumentInvalid('conflictPolicy must be an object { mode, afterMinutes }.')
  const o = p as Record<string, unknown>
  if (o['mode'] !== 'manual' && o['mode'] !== 'cloud-wins' && o['mode'] !== 'local-wins') throw argumentInvalid("conflictPolicy.mode must be 'manual', 'cloud-wins' or 'local-wins'.")
  const after = o['afterMinutes'] ?? (o['mode'] === 'manual' ? 0 : undefined)
  if (typeof after !== 'number' || !Number.isFinite(after) || after < 0 || after > 525_600) throw argumentInvalid('conflictPolicy.afterMinutes must be a number of minutes from 0 to 525600 (one year).')
  return { mode: o['mode'], afterMinutes: after }
}

/** Checks a resolution against the conflict: `fields` must name exactly its conflicting paths. */
export function validateResolution (c: Pick<SyncConflict, 'kind' | 'fields' | 'id'>, r: unknown): ConflictResolution {
  if (isSide(r)) return r
  if (typeof r !== 'object' || r === null || Array.isArray(r) || !isJsonObject((r as { fields?: unknown }).fields as JsonValue)) {
    throw argumentInvalid("A resolution is 'cloud', 'local' or { fields: { <path>: 'cloud' | 'local' | { value } } }.")
  }
  const fields = (r as { fields: Record<string, unknown> }).fields
  const want = new Set(c.fields)
  for (const k of Object.keys(fields)) if (!want.has(k)) throw argumentInvalid(`'${k}' is not a conflicting field of ${c.id} (fields: ${c.fields.join(', ')}).`)
  const out: Record<string, FieldResolution> = {}
  for (const k of c.fields) {
    const v = fields[k]
    if (v === undefined) throw argumentInvalid(`The resolution does not say what to keep for '${k}'.`)
    if (isSide(v)) { out[k] = v; continue }
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, 'value')) throw argumentInvalid(`'${k}': 'cloud', 'local' or { value }.`)
    if (c.kind !== 'desired' && c.kind !== 'tags') throw argumentInvalid(`A ${c.kind} conflict keeps one side: a value cannot be written by hand.`)
    const value = (v as { value: unknown }).value
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !isJsonObject(value as JsonValue)) throw argumentInvalid(`'${k}': the value must be JSON.`)
    if (value !== null) {
      // The same rules as any twin write (keys, depth, string sizes), checked before anything is written.
      const probe: JsonObject = {}
      setPath(probe, k, value as JsonValue)
      const err = checkSection(c.kind, probe)
      if (err !== undefined) throw argumentInvalid(`'${k}': ${err.message}`)
    }
    out[k] = { value: cloneJson(value as JsonValue) }
  }
  if (c.kind !== 'desired' && c.kind !== 'tags' && new Set(Object.values(out)).size > 1) {
    throw argumentInvalid(`A ${c.kind} conflict keeps one side for the whole identity.`)
  }
  return { fields: out }
}

/** $lastUpdated of the field, or of its nearest ancestor (deleting a key stamps its parent). */
function metaAt (meta: unknown, path: string): string | null {
  let cur = meta as Record<string, unknown> | undefined
  let at: string | null = typeof cur?.['$lastUpdated'] === 'string' ? cur['$lastUpdated'] : null
  for (const seg of path.split('.')) {
    const next = cur?.[seg]
    if (typeof next !== 'object' || next === null) break
    cur = next as Record<string, unknown>
    if (typeof cur['$lastUpdated'] === 'string') at = cur['$lastUpdated']
  }
  return at
}

export function createConflictBook (deps: ConflictDeps): ConflictBook {
  const { store, events, registry, twins, clock, logger } = deps
  const iso = (): string => new Date(clock.now()).toISOString()
  const stored = (): SyncConflict[] => [...store.entries(C)].filter(([k]) => k.startsWith('conflict:')).map(([, v]) => v as unknown as SyncConflict)
  // deviceId -> conflict kinds, kept in memory (the telemetry hot path asks per message)
  const index = new Map<string, Set<string>>()
  for (const c of stored()) index.set(c.deviceId, (index.get(c.deviceId) ?? new Set()).add(c.kind))
  const resolving = new Set<string>()

  const policy = (): ConflictPolicy => (store.get(C, 'conflictPolicy') as ConflictPolicy | undefined) ?? DEFAULT_CONFLICT_POLICY
  const auto = (c: Pick<SyncConflict, 'kind' | 'detectedAt'>): { autoResolveAt: string | null; autoResolution: ConflictSide | null } => {
    const p = policy()
    if (p.mode === 'manual' || (c.kind !== 'desired' && c.kind !== 'tags')) return { autoResolveAt: null, autoResolution: null }
    return { autoResolveAt: new Date(Date.parse(c.detectedAt) + p.afterMinutes * 60_000).toISOString(), autoResolution: p.mode === 'cloud-wins' ? 'cloud' : 'local' }
  }
  const view = (c: SyncConflict): SyncConflict => ({ ...cloneJson(c), details: cloneJson(c.details ?? []), ...auto(c) })

  // ---- who changed what locally ----
  const whoDoc = (deviceId: string): WhoDoc => (store.get(C, `who:${deviceId}`) as WhoDoc | undefined) ?? {}
  const noteChange = (section: 'desired' | 'tags', deviceId: string, patch: JsonObject | undefined, by: string | undefined): void => {
    if (!deps.enabled() || patch === undefined) return
    const doc = cloneJson(whoDoc(deviceId))
    const entries = doc[section] ?? {}
    const at = iso()
    for (const p of patchPaths(patch)) {
      for (const k of Object.keys(entries)) if (k === p || k.startsWith(`${p}.`)) delete entries[k]
      // 'sync' writes are the cloud's values (or a decision) applied here: not a local change.
      if (by !== 'sync') entries[p] = { by: by ?? 'hub', at }
    }
    doc[section] = entries
    store.put(C, `who:${deviceId}`, doc as unknown as JsonObject).catch((err: Error) => { logger.warn('sync: could not record who changed a twin', { deviceId, error: err.message }) })
  }
  const localWho = (section: 'desired' | 'tags', deviceId: string, path: string): WhoEntry | null => {
    let best: WhoEntry | null = null
    for (const [k, e] of Object.entries(whoDoc(deviceId)[section] ?? {})) {
      if (k === path || path.startsWith(`${k}.`) || k.startsWith(`${path}.`)) if (best === null || e.at > best.at) best = e
    }
    return best
  }
  const unsubs = [
    events.on('twin.desiredChanged', (e) => { if (e.moduleId === undefined) noteChange('desired', e.deviceId, e.patch, e.by) }),
    events.on('twin.tagsChanged', (e) => { if (e.moduleId === undefined) noteChange('tags', e.deviceId, e.patch, e.by) }),
    events.on('device.deleted', (e) => { if (e.moduleId === undefined && store.has(C, `who:${e.deviceId}`)) void store.del(C, `who:${e.deviceId}`).catch(() => {}) })
  ]

  const details = (c: NewConflict, now?: { local: TwinDocument; cloud: TwinDocument }): ConflictFieldDetail[] => c.fields.map((path) => {
    if (c.kind === 'desired' || c.kind === 'tags') {
      const who = localWho(c.kind, c.deviceId, path)
      const localMeta = c.kind === 'desired' ? now?.local.properties.desired.$metadata : undefined
      const cloudMeta = c.kind === 'desired' ? now?.cloud.properties.desired.$metadata : undefined
      return {
        path,
        base: getPath(c.base, path) ?? null,
        local: getPath(c.local, path) ?? null,
        cloud: getPath(c.cloud, path) ?? null,
        localChangedBy: who?.by ?? null,
        localChangedAt: who?.at ?? (localMeta === undefined ? null : metaAt(localMeta, path)),
        cloudChangedBy: 'cloud',
        cloudChangedAt: cloudMeta === undefined ? null : metaAt(cloudMeta, path)
      }
    }
    const pick = (o: JsonObject | null): JsonValue | null => {
      if (o === null) return null
      const k = FP_FIELD[path]
      return k === undefined ? cloneJson(o) : (o[k] ?? null)
    }
    return { path, base: pick(c.base), local: pick(c.local), cloud: pick(c.cloud), localChangedBy: null, localChangedAt: null, cloudChangedBy: 'cloud', cloudChangedAt: null }
  })

  // ---- the record of conflicts that ended ----
  const resolvedLog = (): ResolvedConflict[] => ((store.get(C, 'resolvedLog') as { items?: ResolvedConflict[] } | undefined)?.items ?? [])
  const end = async (c: SyncConflict, outcome: ResolvedConflict['outcome'], resolution: ConflictResolutionRecord | null): Promise<void> => {
    const { pendingResolution: _p, ...rest } = c
    const entry: ResolvedConflict = { ...cloneJson(rest), details: cloneJson(rest.details ?? []), ...auto(c), clearedAt: iso(), outcome, resolution }
    const items = [entry, ...resolvedLog()].slice(0, LOG_MAX)
    // One batch: the conflict goes and its record appears together (a crash keeps one or the other).
    await store.batch([{ op: 'del', c: C, id: `conflict:${c.id}` }, { op: 'put', c: C, id: 'resolvedLog', doc: { items } as unknown as JsonObject }])
    index.get(c.deviceId)?.delete(c.kind)
    events.emit('sync.conflictCleared', { id: c.id, deviceId: c.deviceId, kind: c.kind, outcome, resolution })
  }

  // ---- applying a decision ----
  const sideOf = (r: ConflictResolution, field: string): FieldResolution => (isSide(r) ? r : (r.fields[field] as FieldResolution))
  const apply = async (c: SyncConflict, rec: ConflictResolutionRecord): Promise<void> => {
    const client = deps.client()
    if (client === null || !deps.online()) throw new HubError('ServiceUnavailable', 'the upstream link is not online: resolve once it is')
    const devId = c.deviceId
    const st = deps.devState(devId)
    if (c.kind === 'desired' || c.kind === 'tags') {
      const ct = await client.getTwin(devId)
      if (ct === null) throw new HubError('DeviceNotFound', `${devId} is gone upstream`)
      const lt = twins.get({ deviceId: devId })
      const loc = c.kind === 'desired' ? stripMeta(lt.properties.desired) : (lt.tags ?? {}) as JsonObject
      const cloud = c.kind === 'desired' ? stripMeta(ct.properties.desired) : (ct.tags ?? {}) as JsonObject
      const base = cloneJson((c.kind === 'desired' ? st.baseDesired : st.baseTags) ?? {})
      const localPatch: JsonObject = {}
      const cloudPatch: JsonObject = {}
      for (const path of c.fields) {
        const choice = sideOf(rec.resolution, path)
        const target = choice === 'cloud' ? getPath(cloud, path) : choice === 'local' ? getPath(loc, path) : (choice.value ?? undefined)
        const lp = pathPatch(loc, path, target)
        if (lp !== null) combinePatches(localPatch, lp)
        const cp = pathPatch(cloud, path, target)
        if (cp !== null) combinePatches(cloudPatch, cp)
        setPath(base, path, target)
        rec.applied[path] = target === undefined ? null : cloneJson(target)
      }
      // The cloud first (with the etag just read: a 412 leaves the decision pending and it is
      // re-applied from fresh values), then the site.
      if (Object.keys(cloudPatch).length > 0) await client.patchTwin(devId, c.kind === 'desired' ? { properties: { desired: cloudPatch } } : { tags: cloudPatch }, ct.etag)
      if (Object.keys(localPatch).length > 0) {
        if (c.kind === 'desired') await twins.patchDesired({ deviceId: devId }, localPatch, undefined, { by: 'sync' })
        else await twins.patchTags({ deviceId: devId }, localPatch, undefined, { by: 'sync' })
      }
      // Write only what this decision moved: the control loop may have moved the rest meanwhile.
      const fresh = deps.devState(devId)
      if (c.kind === 'desired') fresh.baseDesired = base; else fresh.baseTags = base
      await deps.putDevState(devId, fresh)
      return
    }
    const keep = sideOf(rec.resolution, c.fields[0] ?? '')
    if (!isSide(keep)) throw argumentInvalid(`A ${c.kind} conflict keeps one side.`)
    const cd = await client.getDevice(devId)
    const ld = registry.get({ deviceId: devId })
    const auth = authOf
    const scope = deps.scope()
    const child = scope === null ? {} : { deviceScope: scope, parentScopes: [scope] }
    if (keep === 'cloud') {
      if (cd === null) { if (ld !== undefined) await registry.remove({ deviceId: devId }); delete st.regBase } else if (ld === undefined) await registry.create({ deviceId: devId, status: cd.status, authentication: auth(cd), ...child })
      else await registry.update({ deviceId: devId, status: cd.status, authentication: auth(cd), ...child })
      if (cd !== null) st.regBase = fp(cd)
      rec.applied = Object.fromEntries(c.fields.map((f) => [f, cd === null ? null : 'cloud']))
    } else {
      if (ld === undefined) { if (cd !== null) await client.request('DELETE', `/devices/${encodeURIComponent(devId)}`, undefined, { 'If-Match': '"*"' }); delete st.regBase } else if (cd === null) await client.createDevice({ deviceId: devId, status: ld.status, authentication: ld.authentication as unknown as JsonObject, ...child })
      else await client.updateDevice({ ...(cd as unknown as JsonObject), status: ld.status, authentication: ld.authentication as unknown as JsonObject, ...child }, cd.etag)
      if (ld !== undefined) st.regBase = fp(ld)
      rec.applied = Object.fromEntries(c.fields.map((f) => [f, ld === undefined ? null : 'local']))
    }
    deps.closeDeviceLink(devId)
    const fresh = deps.devState(devId)
    if (st.regBase === undefined) delete fresh.regBase; else fresh.regBase = st.regBase
    await deps.putDevState(devId, fresh)
  }

  const decide = async (c: SyncConflict, rec: ConflictResolutionRecord): Promise<void> => {
    if (resolving.has(c.deviceId)) throw new HubError('PreconditionFailed', `a decision on ${c.deviceId} is being applied: try again in a moment`)
    resolving.add(c.deviceId)
    try {
      // Persist the decision first: if the hub dies half-way, it is re-applied once online.
      const withPending: SyncConflict = { ...c, pendingResolution: rec }
      if (!jsonEqual(c.pendingResolution as unknown as JsonValue, rec as unknown as JsonValue)) await store.put(C, `conflict:${c.id}`, withPending as unknown as JsonObject)
      try {
        await apply(c, rec)
      } catch (err) {
        // Not applied (link, 412, refused value): the conflict stays open without the decision,
        // so whoever decided can try again (the policy re-decides on its next tick). Only a
        // crash in the middle leaves the decision pending, to be re-applied once online.
        const now = store.get(C, `conflict:${c.id}`) as unknown as SyncConflict | undefined
        if (now !== undefined) { const { pendingResolution: _drop, ...rest } = now; await store.put(C, `conflict:${c.id}`, rest as unknown as JsonObject) }
        throw err
      }
      await end(withPending, 'resolved', rec)
    } finally {
      resolving.delete(c.deviceId)
    }
    deps.afterResolve(c.deviceId)
  }

  let ticking = false
  const tickOnce = async (): Promise<void> => {
    const now = clock.now()
    for (const c of stored()) {
      if (!deps.online()) return
      try {
        if (c.pendingResolution !== undefined) {
          logger.info('sync: re-applying an interrupted conflict decision', { id: c.id, by: c.pendingResolution.by })
          await decide(c, c.pendingResolution)
          continue
        }
        const a = auto(c)
        if (a.autoResolveAt === null || a.autoResolution === null || Date.parse(a.autoResolveAt) > now) continue
        logger.info('sync: conflict policy applied', { id: c.id, keep: a.autoResolution })
        await decide(c, { resolution: a.autoResolution, by: 'policy', at: iso(), applied: {} })
      } catch (err) {
        logger.warn('sync: automatic conflict decision failed (retried)', { id: c.id, error: (err as Error).message })
      }
    }
  }

  return {
    has: (deviceId) => (index.get(deviceId)?.size ?? 0) > 0,
    registryBlocked (deviceId) {
      const k = index.get(deviceId)
      return k !== undefined && (k.has('registry') || k.has('localDeleted'))
    },
    list: () => stored().map(view),
    resolved: () => cloneJson(resolvedLog()),
    async record (c, now) {
      const id = `${c.deviceId}|${c.kind}`
      const prev = store.get(C, `conflict:${id}`) as unknown as SyncConflict | undefined
      const doc: SyncConflict = { ...c, id, detectedAt: prev?.detectedAt ?? iso(), details: details(c, now), autoResolveAt: null, autoResolution: null }
      if (prev?.pendingResolution !== undefined) doc.pendingResolution = prev.pendingResolution
      if (prev !== undefined && jsonEqual(prev as unknown as JsonObject, doc as unknown as JsonObject)) return
      await store.put(C, `conflict:${id}`, doc as unknown as JsonObject)
      index.set(c.deviceId, (index.get(c.deviceId) ?? new Set()).add(c.kind))
      logger.warn('sync conflict', { deviceId: c.deviceId, kind: c.kind, fields: c.fields })
      const a = auto(doc)
      events.emit('sync.conflict', { id, kind: c.kind, deviceId: c.deviceId, fields: c.fields, ...a })
    },
    async clear (deviceId, kind) {
      const c = store.get(C, `conflict:${deviceId}|${kind}`) as unknown as SyncConflict | undefined
      if (c === undefined || c.pendingResolution !== undefined) return // a decision in flight ends it itself
      await end(c, 'converged', null)
    },
    busy: (deviceId) => resolving.has(deviceId),
    async resolve (id, resolution, by = 'hub') {
      const c = store.get(C, `conflict:${id}`) as unknown as SyncConflict | undefined
      if (c === undefined) throw new HubError('SyncConflictNotFound', `no sync conflict '${id}'`)
      const r = validateResolution(c, resolution)
      if (deps.client() === null || !deps.online()) throw new HubError('ServiceUnavailable', 'the upstream link is not online: resolve once it is')
      const rec: ConflictResolutionRecord = { resolution: r, by, at: iso(), applied: {} }
      await decide(c, rec)
      return cloneJson(rec)
    },
    policy,
    async setPolicy (p) { await store.put(C, 'conflictPolicy', validatePolicy(p) as unknown as JsonObject) },
    tick () {
      if (ticking || !deps.online()) return
      ticking = true
      void tickOnce().finally(() => { ticking = false })
    },
    close () { for (const u of unsubs) u() }
  }
}
