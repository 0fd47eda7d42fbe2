// Domain types shared by every module of the hub core. No runtime code here.
// Shapes follow ../shared/docs/iothub-protocol.md (B.1 twin, C.2 device).

export type JsonPrimitive = string | number | boolean | null
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

/** `deviceId` or `deviceId/moduleId`: the key of an identity in every collection. */
export type IdentityKey = string

export interface Identity {
  deviceId: string
  moduleId?: string
}

export type AuthenticationType = 'sas' | 'selfSigned' | 'certificateAuthority' | 'none'

export interface Authentication {
  type: AuthenticationType
  symmetricKey: { primaryKey: string | null; secondaryKey: string | null }
  x509Thumbprint: { primaryThumbprint: string | null; secondaryThumbprint: string | null }
}

/** A registry entry (device or module identity), as stored. */
export interface DeviceRecord {
  deviceId: string
  moduleId?: string
  generationId: string
  /** Incremented on every registry change; rendered as base64 of its decimal string (C.2). */
  etagCounter: number
  status: 'enabled' | 'disabled'
  statusReason: string | null
  statusUpdatedTime: string
  authentication: Authentication
  capabilities: { iotEdge: boolean }
  deviceScope: string
  parentScopes: string[]
  /** Last time the device did something (connect, publish). Persisted lazily. */
  lastActivityTime: string
  cloudToDeviceMessageCount: number
  modelId: string
  managedBy?: string
  createdTime: string
}

/** $metadata tree: every object and leaf carries $lastUpdated (+ $lastUpdatedVersion under desired). */
export interface MetaNode {
  $lastUpdated: string
  $lastUpdatedVersion?: number
  [key: string]: MetaNode | string | number | undefined
}

/** A twin, as stored. Identity fields (status, connectionState, ...) are joined in from the registry when rendered. */
export interface TwinRecord {
  deviceId: string
  moduleId?: string
  tags: JsonObject
  desired: JsonObject
  desiredVersion: number
  desiredMeta: MetaNode
  reported: JsonObject
  reportedVersion: number
  reportedMeta: MetaNode
  /** Twin `version`: grows on tags and desired changes (swagger). */
  version: number
  /** Grows on every twin change; rendered as base64 of an 8-byte big-endian counter (B.1). */
  etagCounter: number
  /** Hub-wide change-feed sequence number of the last change to this twin. */
  changeSeq: number
  configurations?: Record<string, { status: 'targeted' | 'applied' }>
}

/** What a service sees: `GET /twins/{id}` and `SELECT * FROM devices` rows (B.1). */
export interface TwinDocument {
  deviceId: string
  moduleId?: string
  etag: string
  deviceEtag: string
  status: 'enabled' | 'disabled'
  statusReason: string | null
  statusUpdateTime: string
  connectionState: 'Connected' | 'Disconnected'
  lastActivityTime: string
  cloudToDeviceMessageCount: number
  authenticationType: AuthenticationType
  x509Thumbprint: { primaryThumbprint: string | null; secondaryThumbprint: string | null }
  modelId: string
  version: number
  tags?: JsonObject
  properties: {
    desired: JsonObject & { $metadata: MetaNode; $version: number }
    reported: JsonObject & { $metadata: MetaNode; $version: number }
  }
  capabilities: { iotEdge: boolean }
  deviceScope: string
  parentScopes: string[]
  configurations?: Record<string, { status: 'targeted' | 'applied' }>
}

/** What a service sees for `GET /devices/{id}` (C.2). */
export interface DeviceDocument {
  deviceId: string
  moduleId?: string
  generationId: string
  etag: string
  connectionState: 'Connected' | 'Disconnected'
  status: 'enabled' | 'disabled'
  statusReason: string | null
  connectionStateUpdatedTime: string
  statusUpdatedTime: string
  lastActivityTime: string
  cloudToDeviceMessageCount: number
  authentication: Authentication
  capabilities: { iotEdge: boolean }
  deviceScope: string
  parentScopes: string[]
  modelId?: string
  managedBy?: string
}

export type Permission = 'RegistryRead' | 'RegistryWrite' | 'ServiceConnect' | 'DeviceConnect'

export interface SharedAccessPolicy {
  keyName: string
  primaryKey: string
  secondaryKey: string
  rights: Permission[]
}

/** A device-to-cloud message after decoding (A.5). */
export interface TelemetryMessage {
  deviceId: string
  moduleId?: string
  /** System properties, decoded names: messageId, correlationId, userId, to, contentType, contentEncoding, expiryTimeUtc, interfaceId, componentName, outputName, ... */
  systemProperties: Record<string, string>
  /** Application properties (percent-decoded); a key without value is null. */
  properties: Record<string, string | null>
  body: Buffer
  /** ISO time the hub accepted it. */
  enqueuedTime: string
  transport: 'mqtt' | 'serial' | 'api'
}

/** A message as stored in the telemetry log: the message plus its log position. */
export interface StoredTelemetry extends TelemetryMessage {
  seq: number
}

/** A cloud-to-device message waiting for (or delivered to) a device (A.6). */
export interface C2dMessage {
  messageId: string
  deviceId: string
  moduleId?: string
  correlationId?: string
  contentType?: string
  contentEncoding?: string
  expiryTimeUtc?: string
  ack?: 'none' | 'positive' | 'negative' | 'full'
  properties: Record<string, string>
  /** base64 body, so that it stores as JSON */
  body: string
  enqueuedTime: string
}

/** Which device-side features a connection has subscribed to (the hub's own session record). */
export interface SessionSubscriptions {
  methods: boolean
  desired: boolean
  twinResponses: boolean
  c2d: boolean
  /** module input subscriptions: `devices/{d}/modules/{m}/inputs/#` */
  inputs: boolean
}

/** A method request for a device (A.8). */
export interface MethodRequest {
  methodName: string
  requestId: string
  /** JSON text; 'null' when the caller sent no payload. */
  payloadJson: string
}

/**
 * A live device connection, implemented by a transport (MQTT, serial) and registered with
 * the core's connection manager. The core reaches devices only through this.
 */
export interface DeviceConnection {
  readonly identity: Identity
  readonly key: IdentityKey
  readonly transport: 'mqtt' | 'serial'
  /** Remote address or port path, for display. */
  readonly remote: string
  readonly connectedAt: string
  sendMethodRequest(req: MethodRequest): void
  /** Desired-property notification body: the effective change with explicit nulls, plus $version. */
  sendDesiredPatch(patch: JsonObject, version: number): void
  /** Resolves when the device acknowledged (MQTT PUBACK); rejects if the connection closed first. */
  sendC2d(msg: C2dMessage): Promise<void>
  close(reason: string): void
  /** Optional transport details for connection lists (serial: port, last activity, error counters). */
  details?(): Record<string, JsonValue>
}

export interface ConnectionInfo {
  key: IdentityKey
  deviceId: string
  moduleId?: string
  transport: 'mqtt' | 'serial'
  remote: string
  connectedAt: string
  subscriptions: SessionSubscriptions
  /** DeviceConnection.details(), where the transport has any. */
  details?: Record<string, JsonValue>
}

/** Every state change of the core, on one typed event stream (UI and upstream sync consume it). */
export interface HubEvents {
  'device.created': { deviceId: string; moduleId?: string }
  'device.updated': { deviceId: string; moduleId?: string; status: 'enabled' | 'disabled' }
  'device.deleted': { deviceId: string; moduleId?: string }
  'device.connected': { deviceId: string; moduleId?: string; transport: 'mqtt' | 'serial'; remote: string; at: string }
  'device.disconnected': { deviceId: string; moduleId?: string; reason: string; at: string }
  'device.authFailed': { clientId: string; reason: string; remote: string; at: string }
  'twin.reportedChanged': { deviceId: string; moduleId?: string; patch: JsonObject; version: number; changeSeq: number }
  /** `by`: who wrote it when the caller said (TwinWriteOptions.by; docs/sync.md "who changed what"). */
  'twin.desiredChanged': { deviceId: string; moduleId?: string; patch: JsonObject; version: number; changeSeq: number; by?: string }
  /** `tags` is the whole new tags section; `patch` the effective change (null = removed). */
  'twin.tagsChanged': { deviceId: string; moduleId?: string; tags: JsonObject; changeSeq: number; patch?: JsonObject; by?: string }
  'telemetry.received': { deviceId: string; moduleId?: string; seq: number; size: number; at: string }
  'telemetry.dropped': { reason: 'size' | 'age'; count: number; perDevice: Record<string, number> }
  'c2d.enqueued': { deviceId: string; messageId: string }
  'c2d.completed': { deviceId: string; messageId: string }
  'method.invoked': { deviceId: string; moduleId?: string; methodName: string; status: number | null; error?: string; durationMs: number }
  /** The twin's `configurations` map changed (automatic configurations, F). */
  'twin.configurationsChanged': { deviceId: string; moduleId?: string; configurations: Record<string, { status: 'targeted' | 'applied' }>; changeSeq: number }
  /** A queued command changed state (offline command queue, docs/commands.md). */
  'command.stateChanged': { commandId: string; deviceId: string; moduleId?: string; methodName: string; status: string; previousStatus: string | null }
  /** A configuration was created, updated or deleted (F). */
  'configuration.changed': { id: string; change: 'created' | 'updated' | 'deleted' }
  /** A configuration's targeted/applied counts or custom metric results changed after an evaluation run. */
  'configuration.metricsChanged': { id: string; targetedCount: number; appliedCount: number; metrics: Record<string, number> }
  /** A jobs v2 job changed status (docs/jobs.md); `previous` is null when it was just created. */
  'job.statusChanged': { jobId: string; type: string; status: string; previous: string | null; at: string }
  /** One device's record of a job changed status (`devices.jobs`); `previous` is null for a new record. */
  'job.deviceChanged': { jobId: string; deviceId: string; moduleId?: string; status: string; previous: string | null }
  /** The upstream link changed state (docs/sync.md). */
  'sync.linkChanged': { state: 'offline' | 'connecting' | 'online' | 'degraded'; previous: 'offline' | 'connecting' | 'online' | 'degraded'; reason: string; at: string }
  /** Sync found a clash it will not resolve on its own (registry, desired, tags). */
  'sync.conflict': { id: string; kind: string; deviceId: string; fields: string[]; autoResolveAt: string | null; autoResolution: 'cloud' | 'local' | null }
  /** A conflict ended: decided (`resolution` says by whom: a user, REST, or `policy`) or converged by itself. */
  'sync.conflictCleared': { id: string; deviceId: string; kind: string; outcome: 'resolved' | 'converged'; resolution: import('./sync/types.js').ConflictResolutionRecord | null }
  /** A saved view of the devices table was saved, renamed or removed (hub/views). */
  'view.changed': { name: string; change: 'saved' | 'renamed' | 'removed' }
  /** The hub's settings changed (hub.settings). */
  'settings.changed': { settings: import('./settings/service.js').HubSettings }
  /** An image was added to or removed from the firmware library. */
  'firmware.changed': { name: string; version: string; change: 'added' | 'removed' }
}

export type HubEventName = keyof HubEvents

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void
  info(msg: string, data?: Record<string, unknown>): void
  warn(msg: string, data?: Record<string, unknown>): void
  error(msg: string, data?: Record<string, unknown>): void
}

export interface Clock {
  now(): number
}
