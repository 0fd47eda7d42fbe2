// View shapes of the upstream sync (issue 7, docs/sync.md) as the UI sees them: the link,
// its queues, the per-device mirror state, conflicts and the upstream settings. The service
// connection string never crosses this boundary: only its host and policy name do.
import type { JsonObject, JsonValue } from './model.js'

export type SyncLinkState = 'offline' | 'connecting' | 'online' | 'degraded'
/** Per device: in sync, changes waiting to go up, in conflict, or not mirrored (yet, or blocked). */
export type SyncDeviceState = 'inSync' | 'pending' | 'conflict' | 'notMirrored'
export const SYNC_DEVICE_STATES = ['inSync', 'pending', 'conflict', 'notMirrored'] as const

/** What waits to go up, and what went. */
export interface SyncQueueView {
  /** Mirrored devices whose reported state the cloud has not acknowledged yet. */
  reportedPendingDevices: number
  /** Telemetry messages in the local log not yet sent (or expired/dropped). */
  telemetryPending: number
  /** When the oldest telemetry message still waiting was received; null when none waits. */
  backlogOldest: string | null
  /** Telemetry messages accepted by the cloud (exactly once each). */
  sent: number
  /** Older than the time-to-live when their turn came: counted, never sent. */
  expired: number
  /** Removed by the local log's retention before they could be sent. */
  dropped: number
  /** Module and X.509 device messages: kept in the local log, never forwarded. */
  notForwarded: number
  conflicts: number
}

export type SyncDeviceCounts = Record<SyncDeviceState, number>

export interface SyncStatusView {
  configured: boolean
  /** The cloud hub's HostName (from the stored connection string). */
  upstreamHost: string | null
  /** The shared access policy the edge uses upstream. */
  policyName: string | null
  edgeDeviceId: string | null
  state: SyncLinkState
  /** When `state` was entered. */
  since: string
  lastError: string | null
  lastSuccessfulSync: string | null
  /** Reconnect attempts since the link was last online. */
  reconnectAttempts: number
  sasRenewals: number
  registry: { mirrored: number; createdUpstream: number; createdLocally: number; conflicts: number }
  reported: { pendingDevices: number; patchesSent: number }
  desired: { applied: number; localEditsSent: number }
  queue: SyncQueueView
  devices: SyncDeviceCounts
  /** Module identities of mirrored devices; their conflicts are listed here (no resolution: both sides are made equal by hand). */
  modules: { mirrored: number; conflicts: Array<{ id: string; deviceId: string; moduleId: string; kind: string; fields: string[]; detectedAt: string }> }
}

/** One row of the per-device sync table (thousands of them: keep it small). */
export interface SyncDeviceRow {
  deviceId: string
  state: SyncDeviceState
  /** Reported updates made at the site since the last one the cloud acknowledged (they go up as one coalesced patch). */
  pendingChanges: number
  /** This device's upstream link (identity translation) is open. */
  upstreamConnected: boolean
  telemetrySent: number
  telemetryExpired: number
  /** Removed by the local log's retention before they could be sent. */
  telemetryDropped: number
  /** Kinds of this device's open conflicts. */
  conflicts: string[]
  /** Mirrored as an identity only (X.509): no reported, telemetry or methods upstream. */
  identityOnly: boolean
}

export interface SyncDevicesPage {
  items: SyncDeviceRow[]
  /** Rows matching state/search (before offset/limit). */
  total: number
  offset: number
  /** Every device per state (ignores the filters): the tabs' numbers. */
  counts: SyncDeviceCounts
}

export type SyncConflictKind = 'registry' | 'desired' | 'tags' | 'localDeleted'

/**
 * Who changed a conflicting field on one side, and when (null when that side does not know).
 * `by` at the site: `ui:{user}`, `rest:{policy}`, `job:{id}`, `configuration:{id}`, `device`, `hub`; in the cloud: `cloud`.
 */
export interface SyncChange { at: string | null; by: string | null }

/** The default policy for desired/tags conflicts nobody resolves (registry conflicts always wait for a person). */
export interface SyncConflictPolicy {
  mode: 'manual' | 'cloud-wins' | 'local-wins'
  /** Minutes after detection (0 = at once); ignored for 'manual'. */
  afterMinutes: number
}

export interface SyncConflictView {
  id: string
  kind: SyncConflictKind
  deviceId: string
  detectedAt: string
  /** Values per side for the conflicting fields: base (last agreed), local (site), cloud. Never secrets (registry: key fingerprints). */
  base: JsonObject | null
  local: JsonObject | null
  cloud: JsonObject | null
  /** Conflicting paths (dotted), or words for a registry deletion ('deleted upstream', 'deleted locally'). */
  fields: string[]
  /** Per conflicting path: who changed it on each side and when, where known. */
  changes: Record<string, { local: SyncChange; cloud: SyncChange }>
  /** Per-field choices are accepted for this conflict (desired/tags; not registry). */
  perField: boolean
  /** When the default policy decides if nobody does (null: it waits for a person). */
  autoResolveAt: string | null
  autoResolution: 'cloud' | 'local' | null
  /** A decision is being applied (it is re-applied after a restart once the link is online). */
  resolving: boolean
}

/** A conflict that ended: who decided what, and when. */
export interface SyncResolvedConflictView {
  id: string
  kind: SyncConflictKind
  deviceId: string
  detectedAt: string
  clearedAt: string
  fields: string[]
  /** 'resolved': someone (or the policy) decided; 'converged': both sides came to agree by themselves. */
  outcome: 'resolved' | 'converged'
  /** `ui:{user}`, `rest:{policy}`, `policy`, `hub`; null when converged. */
  by: string | null
  /** The value each field ended with (null: absent); empty when converged. */
  applied: Record<string, JsonValue>
  /** 'cloud' / 'local' / 'per field'. */
  decision: string | null
}

/** A technician's decision: keep one side for every conflicting field, or choose per field. */
export type SyncFieldChoice = 'cloud' | 'local' | { value: JsonValue }
export type SyncResolution = 'cloud' | 'local' | { fields: Record<string, SyncFieldChoice> }

export interface SyncSettingsView {
  configured: boolean
  upstreamHost: string | null
  policyName: string | null
  edgeDeviceId: string | null
  /** The CA the edge trusts for the cloud (PEM subject and expiry); null = system CAs. */
  ca: { subject: string; issuer: string; validTo: string } | null
  conflictPolicy: SyncConflictPolicy
}

/** The outcome of a connection test, in plain words (never an error result for a failed test). */
export interface SyncTestResult {
  ok: boolean
  /** Where it stopped: the connection string, reaching the host, TLS trust, the policy's rights. */
  step: 'settings' | 'network' | 'tls' | 'auth' | 'done'
  message: string
  latencyMs: number | null
}
