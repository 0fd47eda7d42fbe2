// Upstream sync: public types (hub.sync).
import type { JsonObject, JsonValue } from '../types.js'
import type { EdgeDelegationStatus } from './jobs-edge.js'

export type LinkState = 'offline' | 'connecting' | 'online' | 'degraded'

export interface UpstreamSettings {
  /** Service connection string of the cloud hub (a policy with RegistryRead, RegistryWrite, ServiceConnect). */
  connectionString: string
  /** PEM of the CA that signed the cloud's certificate (omit to use the system CAs). */
  ca?: string
  /** The edge's own device id upstream; default `sitehub-edge-{hostName}`. */
  edgeDeviceId?: string
}

export interface TelemetrySyncCounters {
  /** Accepted by the cloud (PUBACK), exactly once each. */
  sent: number
  /** Older than the TTL when their turn came: counted, never sent. */
  expired: number
  /** Removed by the local log's retention before they could be sent. */
  dropped: number
  sentPerDevice: Record<string, number>
  expiredPerDevice: Record<string, number>
  /** Removed by the local log's retention before they could be sent, per device ('(unknown)' only after a crash at the wrong moment). */
  droppedPerDevice: Record<string, number>
  /** Module and X.509 device messages: kept in the local log, never forwarded (docs/sync.md). Keys `deviceId` or `deviceId/moduleId`. */
  notForwarded: number
  notForwardedPerDevice: Record<string, number>
}

export type ConflictKind = 'registry' | 'desired' | 'tags' | 'localDeleted'

/** Which side's value a resolution keeps. */
export type ConflictSide = 'cloud' | 'local'

/** One field's resolution: a side's value, or a value written by hand (null removes the field). */
export type FieldResolution = ConflictSide | { value: JsonValue }

/**
 * A technician's (or the policy's) decision: keep one side for every conflicting field, or
 * decide field by field. `fields` is keyed by `ConflictFieldDetail.path` and must name every
 * conflicting field; a hand-written `value` is only possible for desired/tags conflicts.
 */
export type ConflictResolution = ConflictSide | { fields: Record<string, FieldResolution> }

/**
 * One conflicting field. `path` is dotted from the section root (`config.limits.max`; twin
 * keys cannot contain dots). A value of null means "absent" (IoT Hub never stores nulls in
 * twins: writing null deletes the property). Arrays are leaves, as in IoT Hub.
 */
export interface ConflictFieldDetail {
  path: string
  base: JsonValue | null
  local: JsonValue | null
  cloud: JsonValue | null
  /**
   * Source of the last local change at or under this path: `ui:{user}` (or `ui` when the UI
   * did not say who), `rest:{policy}`, `job:{jobId}`, `configuration:{id}`, `device`,
   * `hub` (a hub API call without an actor); null when unknown (e.g. changed before sync was configured).
   */
  localChangedBy: string | null
  /** ISO time of that local change (the local twin's $metadata $lastUpdated for desired). */
  localChangedAt: string | null
  /** Always 'cloud': the service API does not say which back end wrote a twin. */
  cloudChangedBy: 'cloud'
  /** The cloud twin's $metadata $lastUpdated for the field (desired only; IoT Hub keeps none for tags or identities). */
  cloudChangedAt: string | null
}

/** How a conflict ended (also carried by `sync.conflictCleared`). */
export interface ConflictResolutionRecord {
  /** The decision applied: per field in `applied`, whatever form it was given in. */
  resolution: ConflictResolution
  /** Who decided: `ui:{user}`, `rest:{policy}`, `policy` (the default policy), `hub` (API without actor). */
  by: string
  /** When it was decided (ISO). */
  at: string
  /** Per-field outcome, for the record: the value each field ended with (null: absent). */
  applied: Record<string, JsonValue | null>
}

export interface SyncConflict {
  id: string
  kind: ConflictKind
  deviceId: string
  detectedAt: string
  /** Field-level values: base (last agreed), local, cloud, as nested objects holding only the conflicting fields. Keys never include secrets. */
  base: JsonObject | null
  local: JsonObject | null
  cloud: JsonObject | null
  /** Paths (dotted) that differ between local and cloud. */
  fields: string[]
  /** One entry per path in `fields`, same order. */
  details: ConflictFieldDetail[]
  /** When the default policy resolves it if nobody does (null: it waits for a person). */
  autoResolveAt: string | null
  /** What the policy will keep then. */
  autoResolution: ConflictSide | null
  /** Set while a decision is being applied (it survives a restart and is re-applied once online). */
  pendingResolution?: ConflictResolutionRecord
}

/** A conflict that ended, kept for the record (newest first, the last 200). */
export interface ResolvedConflict extends Omit<SyncConflict, 'pendingResolution'> {
  clearedAt: string
  /** 'resolved': someone (or the policy) decided; 'converged': both sides came to agree by themselves. */
  outcome: 'resolved' | 'converged'
  resolution: ConflictResolutionRecord | null
}

/**
 * The default policy for desired/tags conflicts nobody resolved within `afterMinutes` of their
 * detection. Registry and deletion conflicts always wait for a person (keys decide whether
 * devices can connect). Default: `{ mode: 'cloud-wins', afterMinutes: 1440 }` (docs/sync.md).
 */
export interface ConflictPolicy {
  /** 'manual': never automatic; 'cloud-wins' / 'local-wins': keep that side for every conflicting field. */
  mode: 'manual' | 'cloud-wins' | 'local-wins'
  /** Minutes after detection (0 = at once). Ignored for 'manual'. */
  afterMinutes: number
}

export const DEFAULT_CONFLICT_POLICY: ConflictPolicy = { mode: 'cloud-wins', afterMinutes: 24 * 60 }

/** Sync settings as shown to a client: the connection string is write-only, never returned. */
export interface SyncSettingsView {
  configured: boolean
  /** HostName from the connection string (no key). */
  upstreamHost: string | null
  /** SharedAccessKeyName from the connection string. */
  keyName: string | null
  ca: string | null
  edgeDeviceId: string | null
  conflictPolicy: ConflictPolicy
}

/**
 * A partial update of the sync settings. Absent fields keep their value; `connectionString:
 * null` turns sync off; `ca: null` / `edgeDeviceId: null` clear them. Changing the upstream
 * restarts the link.
 */
export interface SyncSettingsUpdate {
  connectionString?: string | null
  ca?: string | null
  edgeDeviceId?: string | null
  conflictPolicy?: ConflictPolicy
}

export interface DeviceSyncStatus {
  deviceId: string
  state: 'inSync' | 'pending' | 'conflict' | 'notMirrored'
  pendingReported: boolean
  /** Reported updates ($version steps) made at the site since the last one the cloud acknowledged; they go up as one coalesced patch. */
  pendingChanges: number
  upstreamConnected: boolean
  /** X.509 device: its identity and desired/tags are mirrored, but reported properties, telemetry and methods are not (no key to speak for it). */
  identityOnly?: boolean
}

export interface SyncStatus {
  configured: boolean
  upstreamHost: string | null
  edgeDeviceId: string | null
  state: LinkState
  since: string
  lastError: string | null
  lastSuccessfulSync: string | null
  reconnectAttempts: number
  sasRenewals: number
  registry: { mirrored: number; createdUpstream: number; createdLocally: number; conflicts: number }
  /**
   * Reported patches (devices and modules): sent and acknowledged; after a lost answer (crash,
   * link loss, timeout), found already applied upstream (not sent again) or not applied.
   */
  reported: { pendingDevices: number; patchesSent: number; alreadyApplied: number; notApplied: number; cursor: number }
  desired: { applied: number; localEditsSent: number }
  telemetry: TelemetrySyncCounters & { pending: number; backlogOldest: string | null; cursor: number }
  conflicts: number
  /** Module identities of mirrored devices (docs/sync.md "Modules"); their conflicts are listed here, not in conflicts(). */
  modules: {
    mirrored: number
    createdUpstream: number
    createdLocally: number
    conflicts: Array<{ id: string; deviceId: string; moduleId: string; kind: 'registry' | 'desired' | 'tags'; fields: string[]; detectedAt: string }>
  }
  /** Jobs and queued commands taken over from a Sitehub cloud (docs/sync.md). */
  delegation?: EdgeDelegationStatus
}

export interface SyncService {
  /** Set (persist) the upstream and (re)start the link. null disables sync. */
  configure(settings: UpstreamSettings | null): Promise<void>
  settings(): UpstreamSettings | null
  status(): SyncStatus
  devices(): DeviceSyncStatus[]
  conflicts(): SyncConflict[]
  /** Conflicts that ended, newest first (the last 200; survives restarts). */
  resolvedConflicts(): ResolvedConflict[]
  /**
   * A decision on a conflict (needs the link): keep the cloud's or the site's values for every
   * conflicting field, or decide field by field (incl. a hand-written value). `by` names who
   * decided (`ui:{user}`, `rest:{policy}`; default `hub`). Throws if the id is unknown, the link
   * is not online, or `fields` does not cover exactly the conflicting paths.
   */
  resolveConflict(id: string, resolution: ConflictResolution, by?: string): Promise<ConflictResolutionRecord>
  /** Settings without secrets (the connection string is never returned). */
  settingsView(): SyncSettingsView
  /** Partial update of the settings (persisted); see SyncSettingsUpdate. */
  updateSettings(update: SyncSettingsUpdate): Promise<SyncSettingsView>
  conflictPolicy(): ConflictPolicy
  /** Resolves once everything pending has been pushed and pulled (tests, CLI); false on timeout. */
  waitIdle(timeoutMs: number): Promise<boolean>
  close(): Promise<void>
}
