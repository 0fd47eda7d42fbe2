// Upstream sync: public types (hub.sync).
import type { JsonObject } from '../types.js'

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
}

export type ConflictKind = 'registry' | 'desired' | 'tags' | 'localDeleted'

export interface SyncConflict {
  id: string
  kind: ConflictKind
  deviceId: string
  detectedAt: string
  /** Field-level values: base (last agreed), local, cloud. Keys never include secrets. */
  base: JsonObject | null
  local: JsonObject | null
  cloud: JsonObject | null
  /** Paths (dotted) that differ between local and cloud. */
  fields: string[]
}

export interface DeviceSyncStatus {
  deviceId: string
  state: 'inSync' | 'pending' | 'conflict' | 'notMirrored'
  pendingReported: boolean
  /** Reported updates ($version steps) made at the site since the last one the cloud acknowledged; they go up as one coalesced patch. */
  pendingChanges: number
  upstreamConnected: boolean
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
  reported: { pendingDevices: number; patchesSent: number; cursor: number }
  desired: { applied: number; localEditsSent: number }
  telemetry: TelemetrySyncCounters & { pending: number; backlogOldest: string | null; cursor: number }
  conflicts: number
}

export interface SyncService {
  /** Set (persist) the upstream and (re)start the link. null disables sync. */
  configure(settings: UpstreamSettings | null): Promise<void>
  settings(): UpstreamSettings | null
  status(): SyncStatus
  devices(): DeviceSyncStatus[]
  conflicts(): SyncConflict[]
  /** A technician's decision: keep the cloud's values or the site's for the conflicting fields (needs the link). */
  resolveConflict(id: string, keep: 'cloud' | 'local'): Promise<void>
  /** Resolves once everything pending has been pushed and pulled (tests, CLI); false on timeout. */
  waitIdle(timeoutMs: number): Promise<boolean>
  close(): Promise<void>
}
