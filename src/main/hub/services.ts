// The typed service API of the hub core. Transports, the REST API, the UI and the CLI use
// only these interfaces. Every method that changes state resolves after the change is durable.
import type { HubEventBus } from './events.js'
import type { CommandService } from './commands/types.js'
import type { ConfigurationService } from './configurations/types.js'
import type { FirmwareLibrary } from './firmware/types.js'
import type { ReportService } from './reports/index.js'
import type { IoJobService } from './registry/io-jobs.js'
import type { JobService } from './jobs/types.js'
import type { QueryService } from './query/twin-query.js'
import type { HubStore } from './store/types.js'
import type { SerialService } from './serial/service.js'
import type { SettingsService } from './settings/service.js'
import type { SyncService } from './sync/types.js'
import type { CloudDelegation } from './sync/cloud-delegation.js'
import type {
  C2dMessage, ConnectionInfo, DeviceConnection, DeviceDocument, DeviceRecord, Identity,
  JsonObject, JsonValue, Logger, Clock, SessionSubscriptions, SharedAccessPolicy, StoredTelemetry,
  TelemetryMessage, TwinDocument, Permission
} from './types.js'

export interface DeviceCreateInput {
  deviceId: string
  moduleId?: string
  status?: 'enabled' | 'disabled'
  statusReason?: string | null
  authentication?: {
    type?: 'sas' | 'selfSigned' | 'certificateAuthority' | 'none'
    symmetricKey?: { primaryKey?: string | null; secondaryKey?: string | null }
    x509Thumbprint?: { primaryThumbprint?: string | null; secondaryThumbprint?: string | null }
  }
  capabilities?: { iotEdge?: boolean }
  deviceScope?: string
  parentScopes?: string[]
  managedBy?: string
}

export interface DeviceUpdateInput extends DeviceCreateInput {
  /** If-Match value (unquoted); '*' or undefined matches anything. */
  etag?: string
}

/** What the MQTT/serial CONNECT presents. */
export interface DeviceCredentials {
  deviceId: string
  moduleId?: string
  /** SAS token (password), if any. */
  sasToken?: string
  /** Client certificate thumbprints (hex, upper-case), if a certificate was presented. */
  certThumbprints?: { sha1: string; sha256: string }
  /** The host the client used in its token `sr` may include :port (A.3). */
  modelId?: string
}

export interface AuthResult {
  ok: boolean
  /** Why it failed, in plain words (for logs and the authFailed event). */
  reason?: string
}

export interface Registry {
  create(input: DeviceCreateInput): Promise<DeviceDocument>
  get(identity: Identity): DeviceDocument | undefined
  /** Throws HubError DeviceNotFound / ModuleNotFound. */
  mustGet(identity: Identity): DeviceDocument
  record(identity: Identity): DeviceRecord | undefined
  list(opts?: { top?: number; withModules?: boolean }): DeviceDocument[]
  listModules(deviceId: string): DeviceDocument[]
  update(input: DeviceUpdateInput): Promise<DeviceDocument>
  /** Deletes the identity, its twin, its modules, its queued C2D messages; closes its connection. */
  remove(identity: Identity, etag?: string): Promise<void>
  setStatus(identity: Identity, status: 'enabled' | 'disabled', statusReason?: string | null): Promise<DeviceDocument>
  regenerateKey(identity: Identity, which: 'primary' | 'secondary' | 'both'): Promise<DeviceDocument>
  count(): { total: number; enabled: number; disabled: number }
  /** Device CONNECT authentication (A.2, A.3): SAS with device keys or a DeviceConnect policy, or X.509 thumbprint. */
  authenticateDevice(creds: DeviceCredentials): AuthResult
  /** Service SAS (policy token, sr = host name). Returns the policy when valid and carrying `need`. */
  authenticateService(token: string, need: Permission): { ok: true; policy: SharedAccessPolicy } | { ok: false; reason: string }
  /** Touch lastActivityTime (in memory; persisted lazily). */
  touch(identity: Identity, at?: number): void
  policies: PolicyService
  deviceConnectionString(identity: Identity, which?: 'primary' | 'secondary'): string
}

export interface PolicyService {
  list(): SharedAccessPolicy[]
  get(name: string): SharedAccessPolicy | undefined
  add(name: string, rights: Permission[]): Promise<SharedAccessPolicy>
  remove(name: string): Promise<void>
  regenerate(name: string, which: 'primary' | 'secondary' | 'both'): Promise<SharedAccessPolicy>
  connectionString(name: string): string
}

/** Who is writing (carried on twin.desiredChanged / twin.tagsChanged; sync records it for conflicts). */
export interface TwinWriteOptions {
  /** `ui:{user}`, `rest:{policy}`, `job:{jobId}`, `configuration:{id}`, `sync` (the cloud's value applied by the edge). */
  by?: string
}

export interface TwinService {
  /** Full twin document (B.1). Throws DeviceNotFound. */
  get(identity: Identity): TwinDocument
  /** MQTT twin GET body (A.7): {desired:{..., $version}, reported:{..., $version}} without $metadata. */
  getForDevice(identity: Identity): { desired: JsonObject; reported: JsonObject }
  /** Device reported PATCH (B.3). Returns the new reported $version. Throws ArgumentInvalid on limits. */
  patchReported(identity: Identity, patch: JsonValue): Promise<number>
  /** Service PATCH /twins/{id} (tags, properties.desired). etag is the If-Match value. */
  patch(identity: Identity, patch: JsonValue, etag?: string, opts?: TwinWriteOptions): Promise<TwinDocument>
  /** Service PUT /twins/{id}: replaces tags and desired. */
  replace(identity: Identity, twin: JsonValue, etag?: string, opts?: TwinWriteOptions): Promise<TwinDocument>
  /** Patch only desired (UI, jobs, configurations). */
  patchDesired(identity: Identity, desired: JsonValue, etag?: string, opts?: TwinWriteOptions): Promise<TwinDocument>
  /** Patch only tags. */
  patchTags(identity: Identity, tags: JsonValue, etag?: string, opts?: TwinWriteOptions): Promise<TwinDocument>
  /** Every twin (for the query engine). */
  all(): IterableIterator<TwinDocument>
}

export interface InvokeOptions {
  methodName: string
  payload?: JsonValue
  /** seconds, default 30, 5..300 */
  responseTimeoutInSeconds?: number
  /** seconds, default 0 (the device must already be online), max 300 */
  connectTimeoutInSeconds?: number
}

export interface MethodService {
  /** Direct method (C.5). Resolves {status, payload}; throws HubError DeviceNotFound, DeviceNotOnline (404103), GatewayTimeout (504101). */
  invoke(identity: Identity, opts: InvokeOptions): Promise<{ status: number; payload: JsonValue }>
  /** A transport delivers a device's method response here. Unknown request ids are ignored (false). */
  handleResponse(identity: Identity, requestId: string, status: number, payload: JsonValue): boolean
  pendingCount(): number
}

export interface TelemetryStats {
  messages: number
  bytes: number
  oldestSeq: number | null
  newestSeq: number | null
  droppedBySize: number
  droppedByAge: number
  droppedPerDevice: Record<string, number>
}

export interface TelemetryService {
  /** Durable append; resolve = safe to PUBACK. */
  accept(msg: TelemetryMessage): Promise<number>
  /** Most recent messages of one device, newest last. */
  history(identity: Identity, limit?: number): Promise<StoredTelemetry[]>
  /** Resume-from-cursor reader (for the upstream sync): messages with seq >= fromSeq. */
  read(fromSeq: number, limit: number): Promise<StoredTelemetry[]>
  /** One device's messages with seq >= fromSeq, oldest first (GET /devices/{id}/messages). */
  readDevice(identity: Identity, fromSeq: number, limit: number): Promise<StoredTelemetry[]>
  /** How many messages of the device the log holds now. */
  deviceCount(identity: Identity): number
  /** Called (and awaited) before retention deletes the messages with seqs firstSeq..lastSeq; returns an unsubscribe. */
  onBeforeDrop(fn: (range: { firstSeq: number; lastSeq: number }) => Promise<void>): () => void
  stats(): TelemetryStats
}

export interface C2dService {
  /** Queue a message (max 50 pending per device, 403004). Delivered at once when connected and subscribed. */
  send(identity: Identity, msg: { body: Buffer | string; messageId?: string; correlationId?: string; contentType?: string; contentEncoding?: string; expiryTimeUtc?: string; ack?: C2dMessage['ack']; properties?: Record<string, string> }): Promise<C2dMessage>
  pending(identity: Identity): C2dMessage[]
}

export interface ConnectionManager {
  /** A transport registers an authenticated connection; an older connection of the same identity is closed (400027). */
  attach(conn: DeviceConnection, opts: { cleanSession: boolean }): void
  /** The transport reports its connection closed. Ignored if `conn` is no longer the current one. */
  detach(conn: DeviceConnection, reason: string): void
  /** Record a subscription change (persisted so clean=false sessions survive a hub restart). */
  subscribe(conn: DeviceConnection, feature: keyof SessionSubscriptions, on: boolean): void
  get(identity: Identity): DeviceConnection | undefined
  subscriptions(identity: Identity): SessionSubscriptions
  isConnected(identity: Identity): boolean
  list(): ConnectionInfo[]
  count(): number
  /** Resolves when the identity is connected with `feature` subscribed, or false after timeoutMs. */
  waitFor(identity: Identity, feature: keyof SessionSubscriptions, timeoutMs: number): Promise<boolean>
}

export interface HubConfig {
  dataDir: string
  hostName: string
  bind: string
  mqttsPort: number
  httpsPort: number
  mqttPort: number | null
  role: 'edge' | 'cloud'
}

export interface Hub {
  readonly config: HubConfig
  readonly store: HubStore
  readonly events: HubEventBus
  readonly registry: Registry
  readonly twins: TwinService
  readonly methods: MethodService
  readonly telemetry: TelemetryService
  readonly c2d: C2dService
  readonly connections: ConnectionManager
  /** Registry import/export jobs (C.2). */
  readonly ioJobs: IoJobService
  /** The IoT Hub query language over the hub's twins (D). */
  readonly query: QueryService
  /** Serial port configuration, Modbus profiles and serial runtime status. */
  readonly serial: SerialService
  /** Jobs v2: scheduled methods and twin updates with windows, rates and thresholds (C.6, E; docs/jobs.md). */
  readonly jobs: JobService
  /** Firmware images served to devices over HTTPS (docs/firmware.md). */
  readonly firmware: FirmwareLibrary
  /** Ready-made queries over the device management layout (reports/layout.ts). */
  readonly reports: ReportService
  /** Offline command queue: direct methods queued with a TTL (docs/commands.md). */
  readonly commands: CommandService
  /** Automatic device configurations (C.7, F; docs/configurations.md). */
  readonly configurations: ConfigurationService
  /** Upstream cloud sync: link, registry, twins, telemetry (docs/sync.md). */
  readonly sync: SyncService
  /** Edges that take over their devices' part of jobs and queued commands (cloud side, docs/sync.md). */
  readonly delegation: CloudDelegation
  /** The hub's operating settings (alert thresholds, store quota, UI theme) and data dir usage. */
  readonly settings: SettingsService
  readonly logger: Logger
  readonly clock: Clock
  close(): Promise<void>
}
