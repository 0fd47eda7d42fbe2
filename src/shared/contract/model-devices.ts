// View shapes of the Devices and Device detail screens' tools: saved views, bulk tags, the
// offline command queue and the streamed telemetry. Plain JSON, like model.ts.
import type { HubErrorInfo } from './result.js'
import type { JsonValue, TelemetryItem } from './model.js'

/** Columns the devices table sorts by (DeviceRow fields). */
export const DEVICE_SORT_KEYS = ['deviceId', 'connectionState', 'status', 'firmware', 'state', 'lastActivityTime'] as const
export type DeviceSortKey = typeof DEVICE_SORT_KEYS[number]
export interface DeviceSort { column: DeviceSortKey; direction: 'asc' | 'desc' }

/** A named search + query (+ sort) of the devices table, kept by the hub for everyone on the site. */
export interface SavedView {
  name: string
  /** Substring of the device id ('' = none). */
  search: string
  /** WHERE condition or full SELECT ('' = all devices). */
  query: string
  sort: DeviceSort | null
  createdTime: string
  updatedTime: string
}

/** One device's outcome of a bulk action. */
export type DeviceOutcome = { deviceId: string; ok: true } | { deviceId: string; ok: false; error: HubErrorInfo }

export interface BulkOutcome {
  results: DeviceOutcome[]
  succeeded: number
  failed: number
}

/** Offline command queue states (docs/commands.md). */
export const COMMAND_STATES = ['queued', 'in_progress', 'succeeded', 'failed', 'timed_out', 'expired', 'cancelled'] as const
export type CommandState = typeof COMMAND_STATES[number]

/** A direct method queued for a device, delivered when it is online (hub.commands). */
export interface CommandView {
  commandId: string
  deviceId: string
  methodName: string
  payload: JsonValue
  status: CommandState
  statusReason: string | null
  responseTimeoutInSeconds: number
  ttlInSeconds: number
  idempotent: boolean
  createdTime: string
  updatedTime: string
  /** A queued command still waiting at this time expires. */
  expiryTime: string
  startTime: string | null
  endTime: string | null
  attempts: number
  /** The device's answer. */
  response: { status: number; payload: JsonValue } | null
  /** Why it ended without (a good) answer: GatewayTimeout, Expired, HubRestarted, ... */
  error: { code: string; message: string } | null
}

export interface TelemetrySince {
  /** Messages with seq > afterSeq, oldest first. */
  items: TelemetryItem[]
  /** More messages arrived than `limit`: the oldest of them are not in `items`. */
  truncated: boolean
}
