// Operations part of the contract: jobs with a plan (schedule, maintenance window, rate,
// abort threshold, in-use guard), configuration labels / metrics / edits, and device export and
// import files. Kept apart from methods.ts so the areas merge without stepping on each other.
import type { ConfigurationView, JobView, JsonValue } from './model.js'
import { arrayOf, bool, int, json, jsonObject, num, object, oneOf, optional, record, str, type Validator } from './validate.js'

/** IoT Hub device ids: up to 128 of these characters (C.2). */
const DEVICE_ID_RE = /^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/
export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const
export type Weekday = typeof WEEKDAYS[number]

/** A recurring weekly window in a time zone (docs/jobs.md `maintenanceWindow`). */
export interface WindowSpec {
  /** IANA zone, e.g. 'Europe/Berlin'; the job's `timeZone` when absent. */
  timeZone?: string
  /** Default: every day. */
  days?: Weekday[]
  /** 'HH:MM' local, 24-hour. An end at or before the start runs past midnight. */
  start: string
  end: string
}

export interface AbortThresholdSpec { failurePercent: number; minDevices: number }
export interface InUseGuardSpec { path: string; values: JsonValue[]; retryAfterSeconds: number }

/** The plant-floor plan a job was created with, as the hub echoes it. Null = not set. */
export interface JobPlan {
  maxExecutionTimeInSeconds: number
  /** Method jobs: how long the hub waits for each device's answer. */
  responseTimeoutInSeconds: number | null
  devicesPerMinute: number | null
  maxConcurrency: number | null
  abortThreshold: AbortThresholdSpec | null
  maintenanceWindow: WindowSpec[] | null
  timeZone: string | null
  /** Twin tag holding a device's own window (it overrides the job's); null: devices' own windows are ignored. */
  deviceWindowTag: string | null
  inUseGuard: InUseGuardSpec | null
}

/**
 * What the list shows: the job's status, sharpened. `waiting` = running but no device can
 * start now because every one left waits for a maintenance window (or the in-use guard);
 * `aborted` = failed by the abort threshold.
 */
export type JobPhase = 'queued' | 'scheduled' | 'waiting' | 'running' | 'completed' | 'aborted' | 'failed' | 'cancelled'

/** A running job's gates right now (null when the job is not running). */
export interface JobWaiting {
  /** Devices waiting for a maintenance window. */
  window: number
  /** Devices the in-use guard skipped, to be retried. */
  inUse: number
  /** Method jobs: devices not online. */
  offline: number
  inFlight: number
  /** When the run next acts by itself (a window opening, a retry, the next rate slot). */
  nextWakeAt: string | null
}

/** A device export file, ready to save. */
export interface ExportFile {
  fileName: string
  mimeType: string
  content: string
  devices: number
  withKeys: boolean
}

/** One bulk-import row's outcome. */
export interface ImportOutcome { deviceId: string; ok: boolean; error?: { code: number; name: string; message: string } }

/** null, or what `v` accepts. */
function nullable<T> (v: Validator<T>): Validator<T | null> {
  return (x, p) => (x === null ? { ok: true, value: null } : v(x, p))
}

const windowSpec = object({
  timeZone: optional(str({ min: 1, max: 64 })),
  days: optional(arrayOf(oneOf(WEEKDAYS), { min: 1, max: 7 })),
  start: str({ pattern: HHMM, patternHint: "must be a 24-hour time 'HH:MM'" }),
  end: str({ pattern: HHMM, patternHint: "must be a 24-hour time 'HH:MM'" })
})

const configId = str({ min: 1, max: 128, pattern: /^[a-z0-9\-:.+%_#*?!(),=@;$']+$/, patternHint: "must be lower-case letters, digits or - : . + % _ # * ? ! ( ) , = @ ; $ '" })
const labels = record(str({ max: 128 }), { key: /^[A-Za-z0-9\-_.:]{1,128}$/, keyHint: 'must be a label name of letters, digits, - _ . :', max: 64 })
/** Custom metrics: name -> query (`SELECT deviceId FROM devices WHERE ...`); IoT Hub allows 5. */
const metrics = record(str({ min: 1, max: 8192 }), { key: /^[A-Za-z0-9\-_.]{1,128}$/, keyHint: 'must be a metric name of letters, digits, - _ .', max: 5 })

export const opsInputs = {
  /**
   * A job (a method or a twin change) with the fields of a PUT /jobs/v2 body: schedule, window,
   * rate, concurrency, abort threshold, in-use guard. A maintenance window needs a time zone
   * (its own or `timeZone`): the hub would otherwise use its site zone, which the person at the
   * screen may not know.
   */
  'jobs.create': object({
    jobId: optional(str({ min: 1, max: 128, pattern: /^[A-Za-z0-9\-._]+$/, patternHint: 'must be letters, digits, - . _' })),
    queryCondition: str({ min: 1, max: 8192 }),
    methodName: optional(str({ min: 1, max: 128 })),
    payload: optional(json),
    responseTimeoutInSeconds: optional(int({ min: 5, max: 300 })),
    desired: optional(jsonObject),
    tags: optional(jsonObject),
    /** ISO 8601 with a zone (…Z or ±hh:mm). Default: now. */
    startTime: optional(str({ max: 64 })),
    maxExecutionTimeInSeconds: optional(int({ min: 60, max: 30 * 86_400 })),
    devicesPerMinute: optional(num({ above: 0, max: 1_000_000 })),
    maxConcurrency: optional(int({ min: 1, max: 100_000 })),
    abortThreshold: optional(object({ failurePercent: num({ above: 0, max: 100 }), minDevices: optional(int({ min: 1, max: 1_000_000 })) })),
    maintenanceWindow: optional(arrayOf(windowSpec, { min: 1, max: 14 })),
    timeZone: optional(str({ min: 1, max: 64 })),
    /** Default 'maintenanceWindow'; null ignores devices' own windows. */
    deviceWindowTag: optional(nullable(str({ min: 1, max: 256 }))),
    inUseGuard: optional(object({
      path: str({ min: 1, max: 512, pattern: /^(tags|properties\.(reported|desired))(\.[^.\s]+)+$/, patternHint: 'must be a twin path under tags, properties.reported or properties.desired' }),
      values: arrayOf(json, { min: 1, max: 20 }),
      retryAfterSeconds: optional(int({ min: 1, max: 86_400 }))
    })),
    dryRun: optional(bool)
  }),
  /** An automatic device configuration (C.7, F): `content` maps 'properties.desired.<path>' to values. */
  'configurations.create': object({
    id: configId,
    targetCondition: str({ max: 8192 }),
    priority: optional(int({ min: 0, max: 1_000_000 })),
    content: jsonObject,
    labels: optional(labels),
    metrics: optional(metrics)
  }),
  /**
   * Changes what IoT Hub lets change: target, priority, labels, metrics, against the etag the
   * UI showed (412 PreconditionFailed when someone else changed it). Content is immutable:
   * a different `content` is refused by the hub with 400403.
   */
  'configurations.update': object({
    id: configId,
    etag: str({ min: 1, max: 128 }),
    targetCondition: optional(str({ max: 8192 })),
    priority: optional(int({ min: 0, max: 1_000_000 })),
    labels: optional(labels),
    metrics: optional(metrics),
    content: optional(jsonObject)
  }),
  /** Devices as a file in the formats the bulk import (and `sitehub device import`) reads. */
  'devices.export': object({
    format: oneOf(['csv', 'jsonl'] as const),
    /** Must be said explicitly: a file with keys lets anyone holding it connect as the devices. */
    includeKeys: bool,
    /** A WHERE condition or full SELECT over devices; all devices when absent. */
    query: optional(str({ max: 8192 }))
  }),
  /** Creates devices (status, tags, desired, keys); one outcome per row, a bad row never stops the others. */
  'devices.import': object({
    rows: arrayOf(object({
      deviceId: str({ pattern: DEVICE_ID_RE, patternHint: "must be 1-128 letters, digits or - . + % _ # * ? ! ( ) , : = @ $ '" }),
      status: optional(oneOf(['enabled', 'disabled'] as const)),
      statusReason: optional(str({ max: 128 })),
      tags: optional(jsonObject),
      desired: optional(jsonObject),
      primaryKey: optional(str({ min: 16, max: 128 })),
      secondaryKey: optional(str({ min: 16, max: 128 }))
    }), { min: 1, max: 500 })
  })
} as const satisfies Record<string, Validator<unknown>>

export interface OpsOutputs {
  'jobs.create': JobView
  'configurations.create': ConfigurationView
  'configurations.update': ConfigurationView
  'devices.export': ExportFile
  'devices.import': ImportOutcome[]
}
