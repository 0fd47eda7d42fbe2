// Module identities (deviceId/moduleId) of mirrored devices, mirrored upstream: identities
// both ways (three-way on key fingerprints, like devices), module twins (desired/tags
// three-way, reported up on the module's own link) and module telemetry (sent as the module).
// State per module in the store: `sync/mod:{deviceId}/{moduleId}`. docs/sync.md "Modules".
import type { HubEventBus } from '../events.js'
import type { Registry, TwinService } from '../services.js'
import type { HubStore } from '../store/types.js'
import { cloneJson, jsonEqual } from '../twins/json.js'
import { isEmpty } from '../twins/merge-patch.js'
import type { DeviceDocument, JsonObject, Logger, TwinDocument } from '../types.js'
import type { DeviceLink } from './device-link.js'
import { merge3 } from './merge.js'
import { pushReported as pushReportedOnce, unconfirmed, type ReportedCounters } from './reported-up.js'
import { authOf, fp, sameFp, stripMeta, type DeviceState } from './state.js'
import type { UpstreamClient } from './upstream-client.js'

const C = 'sync'

export interface ModuleConflict { id: string; deviceId: string; moduleId: string; kind: 'registry' | 'desired' | 'tags'; fields: string[]; detectedAt: string }
interface ModuleState extends DeviceState { conflicts?: ModuleConflict[] }

export interface ModuleMirrorDeps {
  store: HubStore
  events: HubEventBus
  registry: Registry
  twins: TwinService
  logger: Logger
  iso(): string
  /** The engine's reported counters (module patches count with the devices'). */
  reportedCounters: ReportedCounters
  /** Opens a link as the module (shares the engine's handshake limit, CA and timings). */
  openLink(deviceId: string, moduleId: string, key: string, onDesired: () => void, onClose: () => void): Promise<DeviceLink>
  /** Something changed: run the control loop. */
  kick(): void
}

export interface ModuleMirror {
  /** One pass over the modules of the mirrored devices (identities, twins, reported up). */
  sync(c: UpstreamClient, devices: Set<string>): Promise<void>
  /** Work is waiting (a change event or a desired notification since the last pass). */
  dirty(): boolean
  /** Mark everything for the next pass (every resync and reconnect). */
  markAll(): void
  /** Telemetry of the module: send it, wait (identity not up yet, or in conflict), or never (gone locally). */
  telemetry(deviceId: string, moduleId: string): 'send' | 'wait' | 'never'
  link(deviceId: string, moduleId: string): Promise<DeviceLink>
  /** Mirrored modules whose reported $version is not the synced one. */
  pendingReported(): number
  status(): { mirrored: number; createdUpstream: number; createdLocally: number; conflicts: ModuleConflict[] }
  closeLinks(): Promise<void>
  close(): void
}

export function createModuleMirror (deps: ModuleMirrorDeps): ModuleMirror {
  const { store, events, registry, twins, logger } = deps
  const key = (d: string, m: string): string => `${d}/${m}`
  const stateOf = (k: string): ModuleState => cloneJson((store.get(C, `mod:${k}`) as ModuleState | undefined) ?? {})
  // Module keys with a state doc, in memory: status() and waitIdle() ask often and must not walk the registry.
  const tracked = new Set<string>([...store.entries(C)].filter(([k]) => k.startsWith('mod:')).map(([k]) => k.slice(4)))
  const put = async (k: string, st: ModuleState): Promise<void> => { await store.put(C, `mod:${k}`, st as unknown as JsonObject); tracked.add(k) }
  const links = new Map<string, Promise<DeviceLink>>()
  let all = true
  const dirtyReported = new Set<string>()
  const counters = { createdUpstream: 0, createdLocally: 0 }

  const blocked = (st: ModuleState): boolean => (st.conflicts ?? []).some((c) => c.kind === 'registry')
  const isMirrored = (d: string, m: string): boolean => {
    const st = store.get(C, `mod:${key(d, m)}`) as ModuleState | undefined
    return st?.regBase !== undefined && !blocked(st) && registry.get({ deviceId: d, moduleId: m }) !== undefined
  }
  const setConflicts = async (k: string, st: ModuleState, kind: ModuleConflict['kind'], fields: string[], ids: { deviceId: string; moduleId: string }): Promise<void> => {
    const others = (st.conflicts ?? []).filter((c) => c.kind !== kind)
    const prev = (st.conflicts ?? []).find((c) => c.kind === kind)
    st.conflicts = fields.length === 0 ? others : [...others, { id: `${k}|${kind}`, ...ids, kind, fields, detectedAt: prev?.detectedAt ?? deps.iso() }]
    if (fields.length > 0 && (prev === undefined || !jsonEqual(prev.fields, fields))) logger.warn('sync: module conflict', { module: k, kind, fields })
  }

  const getLink = (d: string, m: string): Promise<DeviceLink> => {
    const k = key(d, m)
    let p = links.get(k)
    if (p === undefined) {
      const keyValue = registry.mustGet({ deviceId: d, moduleId: m }).authentication.symmetricKey.primaryKey
      if (keyValue === null) return Promise.reject(new Error(`module ${k} has no SAS key`))
      p = deps.openLink(d, m, keyValue, () => { all = true; deps.kick() }, () => { links.delete(k) })
      links.set(k, p)
      p.catch(() => { links.delete(k) })
    }
    return p
  }

  const offs = [
    events.on('device.created', (e) => { if (e.moduleId !== undefined) { all = true; deps.kick() } }),
    events.on('device.updated', (e) => { if (e.moduleId !== undefined) { all = true; deps.kick() } }),
    events.on('device.deleted', (e) => { if (e.moduleId !== undefined) { all = true; deps.kick() } }),
    events.on('twin.reportedChanged', (e) => { if (e.moduleId !== undefined) { dirtyReported.add(key(e.deviceId, e.moduleId)); deps.kick() } }),
    events.on('twin.desiredChanged', (e) => { if (e.moduleId !== undefined && e.by !== 'sync') { all = true; deps.kick() } }),
    events.on('twin.tagsChanged', (e) => { if (e.moduleId !== undefined && e.by !== 'sync') { all = true; deps.kick() } })
  ]

  const syncIdentities = async (c: UpstreamClient, devices: Set<string>, rows: TwinDocument[]): Promise<void> => {
    const local = new Map(registry.list({ withModules: true }).filter((d) => d.moduleId !== undefined && devices.has(d.deviceId)).map((d) => [key(d.deviceId, d.moduleId as string), d]))
    // Cloud identities with keys: one list per device that has modules on either side.
    const parents = new Set<string>([...local.values()].map((d) => d.deviceId))
    for (const r of rows) if (r.moduleId !== undefined && r.moduleId !== null && devices.has(r.deviceId)) parents.add(r.deviceId)
    for (const k of tracked) { const d = k.split('/')[0] as string; if (devices.has(d)) parents.add(d) }
    const cloud = new Map<string, DeviceDocument>()
    for (const d of parents) {
      const list = await c.request<DeviceDocument[]>('GET', `/devices/${encodeURIComponent(d)}/modules`).catch((err: unknown) => { if ((err as { status?: number }).status === 404) return []; throw err })
      for (const m of list ?? []) if (m.moduleId !== undefined && m.moduleId !== null) cloud.set(key(d, m.moduleId), m)
    }
    const known = [...tracked].filter((k) => devices.has(k.split('/')[0] as string))
    for (const k of new Set([...local.keys(), ...cloud.keys(), ...known])) {
      const L = local.get(k); const Cd = cloud.get(k)
      const [d, m] = k.split('/') as [string, string]
      if (L === undefined && Cd === undefined) { await store.del(C, `mod:${k}`); tracked.delete(k); continue } // gone on both sides: forgotten
      const st = stateOf(k)
      const B = st.regBase
      const ids = { deviceId: d, moduleId: m }
      if (L !== undefined && Cd === undefined) {
        if (B !== undefined) { await setConflicts(k, st, 'registry', ['deleted upstream'], ids); await put(k, st); continue }
        await c.request('PUT', `/devices/${encodeURIComponent(d)}/modules/${encodeURIComponent(m)}`, { deviceId: d, moduleId: m, authentication: authOf(L) as unknown as JsonObject })
        counters.createdUpstream++
        st.regBase = fp(L); dirtyReported.add(k)
      } else if (L === undefined && Cd !== undefined) {
        if (B !== undefined) { await setConflicts(k, st, 'registry', ['deleted locally'], ids); await put(k, st); continue }
        await registry.create({ deviceId: d, moduleId: m, authentication: authOf(Cd) })
        counters.createdLocally++
        st.regBase = fp(Cd)
      } else if (L !== undefined && Cd !== undefined) {
        const fl = fp(L); const fc = fp(Cd)
        if (sameFp(fl, fc)) st.regBase = fl
        else if (B !== undefined && sameFp(fc, B)) {
          await c.request('PUT', `/devices/${encodeURIComponent(d)}/modules/${encodeURIComponent(m)}`, { ...(Cd as unknown as JsonObject), authentication: authOf(L) as unknown as JsonObject }, { 'If-Match': '"*"' })
          st.regBase = fl
        } else if (B !== undefined && sameFp(fl, B)) {
          await registry.update({ deviceId: d, moduleId: m, authentication: authOf(Cd) })
          const open = links.get(k)
          if (open !== undefined) { links.delete(k); void open.then((l) => l.close(), () => {}) }
          st.regBase = fc
        } else {
          const fields = (['pk', 'sk'] as const).filter((f) => fl[f] !== fc[f]).map((f) => (f === 'pk' ? 'authentication.symmetricKey.primaryKey' : 'authentication.symmetricKey.secondaryKey'))
          await setConflicts(k, st, 'registry', fields, ids)
          await put(k, st)
          continue
        }
      } else continue
      await setConflicts(k, st, 'registry', [], ids)
      await put(k, st)
    }
  }

  const syncTwin = async (c: UpstreamClient, row: TwinDocument): Promise<void> => {
    const d = row.deviceId; const m = row.moduleId as string
    const k = key(d, m)
    const st = stateOf(k)
    const lt = twins.get({ deviceId: d, moduleId: m })
    if (st.reportedShadow === undefined) st.reportedShadow = stripMeta(row.properties.reported)
    let etag = row.etag
    for (const [kind, base, loc, cloud] of [
      ['desired', st.baseDesired ?? {}, stripMeta(lt.properties.desired), stripMeta(row.properties.desired)],
      ['tags', st.baseTags ?? {}, (lt.tags ?? {}) as JsonObject, (row.tags ?? {}) as JsonObject]
    ] as const) {
      const r = merge3(base, loc, cloud)
      if (!isEmpty(r.down)) {
        if (kind === 'desired') await twins.patchDesired({ deviceId: d, moduleId: m }, r.down, undefined, { by: 'sync' })
        else await twins.patchTags({ deviceId: d, moduleId: m }, r.down, undefined, { by: 'sync' })
      }
      if (!isEmpty(r.up)) {
        const updated = await c.request<TwinDocument>('PATCH', `/twins/${encodeURIComponent(d)}/modules/${encodeURIComponent(m)}`, kind === 'desired' ? { properties: { desired: r.up } } : { tags: r.up }, { 'If-Match': `"${etag}"` })
        etag = updated.etag
      }
      if (kind === 'desired') st.baseDesired = r.base; else st.baseTags = r.base
      await setConflicts(k, st, kind, r.conflicts, { deviceId: d, moduleId: m })
    }
    await put(k, st)
  }

  const pushReported = async (d: string, m: string): Promise<void> => {
    await pushReportedOnce(store, {
      stateKey: `mod:${key(d, m)}`,
      local: () => twins.get({ deviceId: d, moduleId: m }).properties.reported,
      link: () => getLink(d, m)
    }, deps.reportedCounters)
  }

  const mirroredModules = (): Array<{ deviceId: string; moduleId: string }> =>
    [...tracked].map((k) => { const [deviceId, moduleId] = k.split('/') as [string, string]; return { deviceId, moduleId } }).filter((x) => isMirrored(x.deviceId, x.moduleId))

  return {
    async sync (c, devices) {
      if (all) {
        all = false
        try {
          const rows = (await c.query('SELECT * FROM devices.modules')).filter((r) => r.moduleId !== undefined && r.moduleId !== null && devices.has(r.deviceId))
          await syncIdentities(c, devices, rows)
          for (const r of rows) if (isMirrored(r.deviceId, r.moduleId as string)) await syncTwin(c, r)
          for (const x of mirroredModules()) dirtyReported.add(key(x.deviceId, x.moduleId))
        } catch (err) { all = true; throw err }
      }
      for (const k of [...dirtyReported]) {
        dirtyReported.delete(k)
        const [d, m] = k.split('/') as [string, string]
        if (!devices.has(d) || !isMirrored(d, m)) continue
        try { await pushReported(d, m) } catch (err) { dirtyReported.add(k); throw err }
      }
    },
    dirty: () => all || dirtyReported.size > 0,
    markAll: () => { all = true },
    telemetry (d, m) {
      if (registry.get({ deviceId: d, moduleId: m }) === undefined) return 'never'
      return isMirrored(d, m) ? 'send' : 'wait'
    },
    link: getLink,
    pendingReported () {
      let n = 0
      for (const x of mirroredModules()) {
        const st = store.get(C, `mod:${key(x.deviceId, x.moduleId)}`) as ModuleState | undefined
        try { if (st?.reportedVersion !== twins.get(x).properties.reported.$version || unconfirmed(store, `mod:${key(x.deviceId, x.moduleId)}`)) n++ } catch { /* gone */ }
      }
      return n
    },
    status () {
      const conflicts: ModuleConflict[] = []
      for (const k of tracked) conflicts.push(...(((store.get(C, `mod:${k}`) as ModuleState | undefined)?.conflicts) ?? []))
      return { mirrored: mirroredModules().length, ...counters, conflicts: cloneJson(conflicts) }
    },
    async closeLinks () {
      const open = [...links.values()]
      links.clear()
      await Promise.all(open.map(async (p) => { try { await (await p).close() } catch { /* never opened */ } }))
    },
    close () { for (const o of offs) o() }
  }
}
