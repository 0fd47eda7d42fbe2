// Data shapes that cross the boundary between the hub and its UI. Plain JSON only: these are
// what the renderer sees, independent of how the hub stores things.
import type { JobPhase, JobPlan, JobWaiting } from './ops.js'
import type { StoreUsageView } from './site.js'

export type JsonPrimitive = string | number | boolean | null
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

export interface HubEndpoint { name: string; url: string }
export type HubState = 'starting' | 'running' | 'failed'

/** What 'hub.status' answers. A hub that did not start is `state: 'failed'` + `error`, not an error result. */
export interface HubStatus {
  state: HubState
  endpoints: HubEndpoint[]
  /** Registered identities. */
  devices: number
  /** Identities with a live connection. */
  connected: number
  /** Set when state is 'failed': why the hub did not start. */
  error?: string
}

export type DeviceStatus = 'enabled' | 'disabled'
export type ConnectionState = 'Connected' | 'Disconnected'

/** One row of the devices table: small, because the table holds 10,000 of them. */
export interface DeviceRow {
  deviceId: string
  status: DeviceStatus
  connectionState: ConnectionState
  lastActivityTime: string
  /** properties.reported.firmware.current, when the device reports it. */
  firmware: string | null
  /** properties.reported.state (running, rebooting, ...), when reported. */
  state: string | null
}

export interface DevicesPage {
  items: DeviceRow[]
  /** Rows matching search/query (before offset/limit). */
  total: number
  offset: number
}

export interface DeviceView {
  deviceId: string
  status: DeviceStatus
  statusReason: string | null
  statusUpdatedTime: string
  connectionState: ConnectionState
  connectionStateUpdatedTime: string
  lastActivityTime: string
  authenticationType: string
  cloudToDeviceMessageCount: number
  etag: string
  generationId: string
  /** Where the device connects from, while connected. */
  remote: string | null
  transport: string | null
}

/** $metadata nodes as the hub renders them: `$lastUpdated` on every object and leaf. */
export type MetaTree = JsonObject

export interface TwinView {
  deviceId: string
  etag: string
  version: number
  tags: JsonObject
  desired: JsonObject
  desiredVersion: number
  desiredMeta: MetaTree
  reported: JsonObject
  reportedVersion: number
  reportedMeta: MetaTree
}

export interface MethodResult { status: number; payload: JsonValue }

export interface TelemetryItem {
  seq: number
  enqueuedTime: string
  transport: string
  properties: Record<string, string | null>
  systemProperties: Record<string, string>
  /** The body as text when it is UTF-8, else base64. */
  body: string
  bodyEncoding: 'utf8' | 'base64'
}

export interface QueryResult {
  items: JsonValue[]
  /** All rows of the result (items may be cut at `limit`). */
  total: number
}

export interface JobView {
  jobId: string
  type: 'scheduleDeviceMethod' | 'scheduleUpdateTwin'
  status: string
  queryCondition: string
  createdTime: string
  startTime: string
  endTime: string | null
  methodName: string | null
  failureReason: string | null
  stats: { deviceCount: number; failedCount: number; succeededCount: number; runningCount: number; pendingCount: number }
  /** Status sharpened for the list: scheduled, waiting (for a window), running, aborted (threshold)... */
  phase: JobPhase
  /** Schedule, window, rate, threshold and guard the job was created with. */
  plan: JobPlan
  /** What a running job waits on now; null when not running. */
  waiting: JobWaiting | null
}

/** One device's part in a job (the `devices.jobs` record, E.3). */
export interface JobDeviceResult {
  deviceId: string
  /** pending, scheduled, running, completed, failed, canceled */
  status: string
  /** The device's method response status, for method jobs that reached it. */
  methodStatus: number | null
  error: string | null
  endTime: string | null
}

/** An image in the hub's firmware library. */
export interface FirmwareImageView {
  name: string
  version: string
  size: number
  sha256: string
  uploadedAt: string
  description: string | null
  /** Devices running this image: firmware.current is this version and firmware.currentName this name (or not reported). */
  runningOn: number
  /** The WHERE condition behind runningOn, for the devices list. */
  runningQuery: string
  /** Devices installing this image right now (firmware.pending with an unfinished status). */
  installing: number
}

/** An automatic device configuration and its metrics. */
export interface ConfigurationView {
  id: string
  priority: number
  targetCondition: string
  /** deviceContent: 'properties.desired.<path>' -> value. */
  content: JsonObject
  targeted: number
  applied: number
  /** Custom metric name -> device count. */
  metrics: Record<string, number>
  /** Custom metric name -> its query. */
  metricQueries: Record<string, string>
  labels: Record<string, string>
  createdTime: string
  lastUpdatedTime: string
  etag: string
}

export interface Alert {
  kind: 'offline' | 'methodFailed' | 'jobFailed' | 'store'
  severity: 'warning' | 'error'
  deviceId: string | null
  message: string
  at: string
  /** Stable while the condition lasts (fleet.summary sets it; alerts.acknowledge takes it). */
  id?: string
  /** Who acknowledged it (a supervisor or admin), when. */
  acknowledged?: { by: string; at: string } | null
}

export interface FleetSummary {
  devices: { total: number; enabled: number; disabled: number; connected: number; disconnected: number }
  /** From `SELECT properties.reported.firmware.current AS version, COUNT() ... GROUP BY ...`; null = not reported. */
  firmware: Array<{ version: string | null; devices: number }>
  telemetry: { messages: number; bytes: number; dropped: number }
  alerts: Alert[]
  /** Distinct devices named in `alerts`. */
  devicesWithAlerts: number
  /** Automatic configurations with their system metrics (targeted / applied device counts). */
  configurations: Array<{ id: string; priority: number; targeted: number; applied: number }>
  /** Threshold used for the offline alerts, in minutes. */
  offlineMinutes: number
  /** The whole data dir (store, telemetry, firmware, other) against the quota or the disk. */
  store: StoreUsageView
}
