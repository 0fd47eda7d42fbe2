// UI handlers for the upstream sync (issue 7, docs/sync.md): the link and its queues, the
// per-device mirror table, conflicts and their resolution, the upstream settings. The service
// connection string is write-only here: only its host and policy name are ever sent back.
import { X509Certificate } from 'node:crypto'
import type {
  JsonObject, JsonValue, MethodInput, MethodName, MethodOutput, SyncConflictView, SyncDeviceCounts, SyncDeviceRow,
  SyncQueueView, SyncResolvedConflictView, SyncSettingsView, SyncStatusView, SyncTestResult
} from '../../../../shared/contract/index.js'
import { HubError } from '../../errors.js'
import type { Hub } from '../../services.js'
import { parseServiceConnectionString, type ServiceConnectionString } from '../../sync/connection-string.js'
import type { ResolvedConflict, SyncConflict, SyncService, SyncStatus, UpstreamSettings } from '../../sync/types.js'
import { createUpstreamClient, LinkError, UpstreamError } from '../../sync/upstream-client.js'
import type { CallContext } from './caller.js'

type SyncMethod = Extract<MethodName, `sync.${string}`>
export type SyncHandlers = { [M in SyncMethod]: (input: MethodInput<M>, ctx: CallContext) => Promise<MethodOutput<M>> | MethodOutput<M> }
/** Who decided, as the hub records it (`ui:{user}`; `ui` without a session, e.g. the desktop before sign-in). */
const uiBy = (ctx: CallContext): string => (ctx.session?.name === undefined ? 'ui' : `ui:${ctx.session.name}`)

const parseCs = (cs: string | undefined): ServiceConnectionString | null => {
  if (cs === undefined) return null
  try { return parseServiceConnectionString(cs) } catch { return null }
}

type SyncSource = Pick<Hub, 'sync' | 'telemetry'>

/** Enqueue time of the oldest telemetry message not yet sent (the lowest seq missing from the done-set). */
async function oldestPending (hub: SyncSource, s: SyncStatus): Promise<string | null> {
  if (s.telemetry.pending === 0) return null
  try {
    const [m] = await hub.telemetry.read(s.telemetry.cursor, 1)
    return m?.enqueuedTime ?? s.telemetry.backlogOldest
  } catch { return s.telemetry.backlogOldest }
}

export async function queueOf (hub: SyncSource, s: SyncStatus): Promise<SyncQueueView> {
  return {
    reportedPendingDevices: s.reported.pendingDevices,
    telemetryPending: s.telemetry.pending,
    backlogOldest: await oldestPending(hub, s),
    sent: s.telemetry.sent,
    expired: s.telemetry.expired,
    dropped: s.telemetry.dropped,
    notForwarded: s.telemetry.notForwarded ?? 0,
    conflicts: s.conflicts
  }
}

export function deviceCounts (sync: SyncService): SyncDeviceCounts {
  const counts: SyncDeviceCounts = { inSync: 0, pending: 0, conflict: 0, notMirrored: 0 }
  for (const d of sync.devices()) counts[d.state]++
  return counts
}

/** The queue part of the status and the device counts, for the `sync.queue` event; null when sync is off. */
export async function syncQueueSnapshot (hub: SyncSource): Promise<{ queue: SyncQueueView; devices: SyncDeviceCounts } | null> {
  if (hub.sync.settings() === null) return null
  return { queue: await queueOf(hub, hub.sync.status()), devices: deviceCounts(hub.sync) }
}

function caInfo (pem: string | undefined): SyncSettingsView['ca'] {
  if (pem === undefined || pem.trim() === '') return null
  try {
    const x = new X509Certificate(pem)
    return { subject: x.subject.replaceAll('\n', ', '), issuer: x.issuer.replaceAll('\n', ', '), validTo: new Date(x.validTo).toISOString() }
  } catch {
    return { subject: '(not a readable certificate)', issuer: '', validTo: '' }
  }
}

function checkedCa (pem: string): string {
  try { new X509Certificate(pem) } catch (err) {
    throw new HubError('ArgumentInvalid', `ca is not a PEM certificate (-----BEGIN CERTIFICATE----- ...): ${(err as Error).message}`)
  }
  return pem
}

export function createSyncHandlers (hub: Hub): SyncHandlers {
  const sync = hub.sync

  function settingsView (): SyncSettingsView {
    const s = sync.settings()
    const cs = parseCs(s?.connectionString)
    return {
      configured: s !== null,
      upstreamHost: cs?.hostName ?? null,
      policyName: cs?.keyName ?? null,
      edgeDeviceId: sync.status().edgeDeviceId ?? s?.edgeDeviceId ?? null,
      ca: caInfo(s?.ca),
      conflictPolicy: sync.conflictPolicy()
    }
  }

  /** The settings the input describes on top of the stored ones (validated; never logged). */
  function merged (input: { connectionString?: string | undefined; ca?: string | undefined; edgeDeviceId?: string | undefined } | undefined): UpstreamSettings {
    const cur = sync.settings()
    const connectionString = input?.connectionString ?? cur?.connectionString
    if (connectionString === undefined) throw new HubError('ArgumentInvalid', 'connectionString is required: this hub has no upstream yet')
    try { parseServiceConnectionString(connectionString) } catch (err) {
      throw new HubError('ArgumentInvalid', `connectionString: ${(err as Error).message}`)
    }
    const ca = input?.ca === undefined ? cur?.ca : input.ca.trim() === '' ? undefined : checkedCa(input.ca)
    const edgeDeviceId = input?.edgeDeviceId ?? cur?.edgeDeviceId
    return { connectionString, ...(ca === undefined ? {} : { ca }), ...(edgeDeviceId === undefined ? {} : { edgeDeviceId }) }
  }

  function conflictView (c: SyncConflict): SyncConflictView {
    const changes: SyncConflictView['changes'] = {}
    for (const d of c.details ?? []) {
      changes[d.path] = { local: { at: d.localChangedAt, by: d.localChangedBy }, cloud: { at: d.cloudChangedAt, by: d.cloudChangedBy } }
    }
    // The per-path values (registry conflicts keep key fingerprints under pk/sk; details name them by path).
    const details = c.details ?? []
    const side = (k: 'base' | 'local' | 'cloud'): JsonObject | null =>
      details.length === 0 ? c[k] : Object.fromEntries(details.flatMap(d => (d[k] === null ? [] : [[d.path, d[k]]])))
    return {
      id: c.id, kind: c.kind, deviceId: c.deviceId, detectedAt: c.detectedAt,
      base: side('base'), local: side('local'), cloud: side('cloud'), fields: c.fields, changes,
      perField: c.kind === 'desired' || c.kind === 'tags',
      autoResolveAt: c.autoResolveAt ?? null, autoResolution: c.autoResolution ?? null,
      resolving: c.pendingResolution !== undefined
    }
  }

  function resolvedView (r: ResolvedConflict): SyncResolvedConflictView {
    const res = r.resolution
    return {
      id: r.id, kind: r.kind, deviceId: r.deviceId, detectedAt: r.detectedAt, clearedAt: r.clearedAt, fields: r.fields, outcome: r.outcome,
      by: res?.by ?? null,
      applied: Object.fromEntries(Object.entries(res?.applied ?? {}).map(([k, v]) => [k, v ?? null])),
      decision: res === null ? null : typeof res.resolution === 'string' ? res.resolution : 'per field'
    }
  }

  async function statusView (): Promise<SyncStatusView> {
    const s = sync.status()
    const cs = parseCs(sync.settings()?.connectionString)
    return {
      configured: s.configured,
      upstreamHost: s.upstreamHost ?? cs?.hostName ?? null,
      policyName: cs?.keyName ?? null,
      edgeDeviceId: s.edgeDeviceId ?? sync.settings()?.edgeDeviceId ?? null,
      state: s.state,
      since: s.since,
      lastError: s.lastError,
      lastSuccessfulSync: s.lastSuccessfulSync,
      reconnectAttempts: s.reconnectAttempts,
      sasRenewals: s.sasRenewals,
      registry: s.registry,
      reported: { pendingDevices: s.reported.pendingDevices, patchesSent: s.reported.patchesSent },
      desired: s.desired,
      queue: await queueOf(hub, s),
      devices: deviceCounts(sync),
      modules: { mirrored: s.modules?.mirrored ?? 0, conflicts: (s.modules?.conflicts ?? []).map(c => ({ ...c, fields: [...c.fields] })) }
    }
  }

  return {
    'sync.status': statusView,
    'sync.devices': (input) => {
      const tel = sync.status().telemetry
      const kinds = new Map<string, string[]>()
      for (const c of sync.conflicts()) kinds.set(c.deviceId, [...(kinds.get(c.deviceId) ?? []), c.kind])
      const counts: SyncDeviceCounts = { inSync: 0, pending: 0, conflict: 0, notMirrored: 0 }
      const search = input?.search?.trim().toLowerCase() ?? ''
      const rows: SyncDeviceRow[] = []
      for (const d of sync.devices()) {
        counts[d.state]++
        if (input?.state !== undefined && d.state !== input.state) continue
        if (search !== '' && !d.deviceId.toLowerCase().includes(search)) continue
        rows.push({
          deviceId: d.deviceId, state: d.state, pendingChanges: d.pendingChanges, upstreamConnected: d.upstreamConnected,
          telemetrySent: tel.sentPerDevice[d.deviceId] ?? 0, telemetryExpired: tel.expiredPerDevice[d.deviceId] ?? 0,
          telemetryDropped: tel.droppedPerDevice?.[d.deviceId] ?? 0,
          conflicts: kinds.get(d.deviceId) ?? [],
          identityOnly: d.identityOnly === true
        })
      }
      rows.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0))
      const offset = input?.offset ?? 0
      return { items: rows.slice(offset, offset + (input?.limit ?? 1000)), total: rows.length, offset, counts }
    },
    'sync.conflicts': (input) => sync.conflicts()
      .filter(c => input?.deviceId === undefined || c.deviceId === input.deviceId)
      .sort((a, b) => (a.detectedAt < b.detectedAt ? -1 : a.detectedAt > b.detectedAt ? 1 : a.id < b.id ? -1 : 1))
      .map(conflictView),
    'sync.conflicts.resolved': (input) => sync.resolvedConflicts()
      .filter(r => input?.deviceId === undefined || r.deviceId === input.deviceId)
      .map(resolvedView),
    'sync.resolve': async ({ id, resolution }, ctx) => {
      const c = sync.conflicts().find(x => x.id === id)
      if (c === undefined) throw new HubError('ArgumentInvalid', `There is no open sync conflict '${id}' (it may have been resolved already)`)
      const st = sync.status().state
      if (st !== 'online' && st !== 'degraded') {
        throw new HubError('ServiceUnavailable', `The link to the cloud is ${st}: a conflict can be resolved only while the cloud is reachable (both sides are written)`)
      }
      if (typeof resolution !== 'string') {
        if (c.kind !== 'desired' && c.kind !== 'tags') throw new HubError('ArgumentInvalid', `A ${c.kind} conflict is resolved as a whole: keep the cloud's or the site's`)
        const unknown = Object.keys(resolution.fields).filter(f => !c.fields.includes(f))
        if (unknown.length > 0) throw new HubError('ArgumentInvalid', `Not a conflicting field of ${id}: ${unknown.join(', ')}`)
        const missing = c.fields.filter(f => resolution.fields[f] === undefined)
        if (missing.length > 0) throw new HubError('ArgumentInvalid', `Every conflicting field needs a choice; missing: ${missing.join(', ')}`)
      }
      const rec = await sync.resolveConflict(id, resolution, uiBy(ctx))
      return { id, by: rec.by, applied: Object.fromEntries(Object.entries(rec.applied).map(([k, v]) => [k, v ?? null])) }
    },
    'sync.settings.get': settingsView,
    'sync.settings.set': async (input) => {
      if (input.enabled === false) {
        await sync.configure(null)
        return settingsView()
      }
      const upstream = input.connectionString !== undefined || input.ca !== undefined || input.edgeDeviceId !== undefined
      // validate everything before changing anything
      const next = upstream || input.conflictPolicy === undefined ? merged(input) : undefined
      if (input.conflictPolicy !== undefined) await sync.updateSettings({ conflictPolicy: input.conflictPolicy })
      if (next !== undefined) await sync.configure(next)
      return settingsView()
    },
    'sync.settings.test': async (input) => {
      let s: UpstreamSettings
      try { s = merged(input) } catch (err) { return { ok: false, step: 'settings', message: (err as Error).message, latencyMs: null } }
      return await testUpstream(s)
    }
  }
}

/** One probe of an upstream: reach it, trust its certificate, and read with the policy. */
export async function testUpstream (s: UpstreamSettings, timeoutMs = 5000): Promise<SyncTestResult> {
  const cs = parseServiceConnectionString(s.connectionString)
  const client = createUpstreamClient({ cs, ...(s.ca === undefined ? {} : { ca: s.ca }), requestTimeoutMs: timeoutMs })
  const started = Date.now()
  try {
    await client.ping()
    await client.request('GET', '/devices?top=1')
    return { ok: true, step: 'done', message: `Connected to ${cs.hostName} with policy ${cs.keyName}: the cloud answered and accepted the key`, latencyMs: Date.now() - started }
  } catch (err) {
    return { ok: false, ...explain(err, cs, timeoutMs), latencyMs: null }
  } finally {
    client.close()
  }
}

function explain (err: unknown, cs: ServiceConnectionString, timeoutMs: number): { step: SyncTestResult['step']; message: string } {
  const m = (err as Error).message
  const where = `${cs.host}:${cs.httpsPort}`
  if (err instanceof UpstreamError) {
    if (err.status === 401) return { step: 'auth', message: `The cloud refused the key of policy ${cs.keyName} (401): check SharedAccessKeyName and SharedAccessKey` }
    if (err.status === 403) return { step: 'auth', message: `Policy ${cs.keyName} lacks rights (403): it needs RegistryRead, RegistryWrite and ServiceConnect` }
    return { step: 'auth', message: `The cloud answered with an error: ${m}` }
  }
  if (err instanceof LinkError) {
    if (/certificate|self[- ]signed|CERT_|altname|unable to verify|issuer/i.test(m)) {
      return { step: 'tls', message: `The cloud's certificate is not trusted (${m.replace(/^\S+ \S+: /, '')}): add the CA that signed it (PEM)` }
    }
    if (/ECONNREFUSED/.test(m)) return { step: 'network', message: `Nothing accepts connections at ${where}: check the host name and port, and that the cloud is running` }
    if (/ENOTFOUND|EAI_AGAIN/.test(m)) return { step: 'network', message: `The name ${cs.host} does not resolve: check the host name and the site's DNS` }
    if (/no answer within|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/.test(m)) return { step: 'network', message: `No answer from ${where} within ${Math.round(timeoutMs / 1000)} s: check the network path (firewall, proxy)` }
    return { step: 'network', message: `Could not reach ${where}: ${m}` }
  }
  return { step: 'network', message: m }
}
