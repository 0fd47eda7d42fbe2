// The call half of the contract: every method's input validator, and its output type.
// Main (IPC) and the UI server (WebSocket) both validate with these before the hub sees a call.
import type {
  ConfigurationView, DeviceRow, DevicesPage, DeviceView, FirmwareImageView, FleetSummary, HubStatus, JobDeviceResult, JobView, MethodResult, QueryResult, TelemetryItem, TwinView
} from './model.js'
import { siteMethodInputs, type SiteMethodOutputs } from './site.js'
import { syncMethodInputs, type SyncMethodOutputs } from './sync-methods.js'
import { alertMethodInputs, type AlertMethodOutputs } from './alert-methods.js'
import { authMethodInputs, type AuthMethodOutputs } from './auth-methods.js'
import { opsInputs, type OpsOutputs } from './ops.js'
import { COMMAND_STATES, DEVICE_SORT_KEYS, type BulkOutcome, type CommandView, type SavedView, type TelemetrySince } from './model-devices.js'
import { arrayOf, bool, int, json, jsonObject, none, object, oneOf, optional, str, type Infer, type Validator } from './validate.js'

/** IoT Hub device ids: up to 128 of these characters (C.2). */
export const DEVICE_ID = /^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/
const deviceId = str({ pattern: DEVICE_ID, patternHint: "must be 1-128 letters, digits or - . + % _ # * ? ! ( ) , : = @ $ '" })
const etag = optional(str({ min: 1, max: 128 }))
const dev = object({ deviceId })
const methodName = str({ min: 1, max: 128, pattern: /^[^\s/#+$][^\s/#+]*$/, patternHint: 'must have no spaces, / # + or leading $' })
/** Saved view names: shown in lists, compared without regard to case. */
const viewName = str({ min: 1, max: 64, pattern: /^[^\u0000-\u001f\u007f]*$/, patternHint: 'must not contain control characters' })
/** A tag, or a nested one as a dotted path (`location.hall`): up to 5 names without spaces, dots or $. */
export const TAG_PATH = /^[^.\s$\u0000-\u001f\u007f]{1,64}(\.[^.\s$\u0000-\u001f\u007f]{1,64}){0,4}$/
const deviceSort = object({ column: oneOf(DEVICE_SORT_KEYS), direction: oneOf(['asc', 'desc'] as const) })

export const methodInputs = {
  ...opsInputs,
  'hub.status': none,
  'fleet.summary': optional(object({ offlineMinutes: optional(int({ min: 1, max: 10_080 })) })),
  'devices.list': object({
    offset: optional(int({ min: 0 })),
    limit: optional(int({ min: 1, max: 20_000 })),
    /** Substring of the device id (case-insensitive). */
    search: optional(str({ max: 128 })),
    /** A WHERE condition or a full `SELECT * FROM devices WHERE ...` query. */
    query: optional(str({ max: 8192 }))
  }),
  'devices.get': dev,
  'devices.create': object({ deviceId, status: optional(oneOf(['enabled', 'disabled'] as const)), tags: optional(jsonObject) }),
  'devices.remove': dev,
  'devices.setStatus': object({ deviceId, status: oneOf(['enabled', 'disabled'] as const), reason: optional(str({ max: 128 })) }),
  'devices.connectionString': object({ deviceId, which: optional(oneOf(['primary', 'secondary'] as const)) }),
  'devices.regenerateKey': object({ deviceId, which: oneOf(['primary', 'secondary', 'both'] as const) }),
  'twins.get': dev,
  'twins.patchDesired': object({ deviceId, patch: jsonObject, etag }),
  'twins.patchTags': object({ deviceId, patch: jsonObject, etag }),
  'methods.invoke': object({
    deviceId,
    methodName: str({ min: 1, max: 128, pattern: /^[^\s/#+$][^\s/#+]*$/, patternHint: 'must have no spaces, / # + or leading $' }),
    payload: optional(json),
    responseTimeoutInSeconds: optional(int({ min: 5, max: 300 })),
    connectTimeoutInSeconds: optional(int({ min: 0, max: 300 }))
  }),
  'telemetry.history': object({ deviceId, limit: optional(int({ min: 1, max: 500 })) }),
  'query.run': object({ query: str({ min: 1, max: 8192 }), limit: optional(int({ min: 1, max: 1000 })) }),
  'jobs.list': optional(object({ status: optional(str({ max: 32 })) })),
  'jobs.get': object({ jobId: str({ min: 1, max: 128 }) }),
  'jobs.cancel': object({ jobId: str({ min: 1, max: 128 }) }),
  'jobs.devices': object({ jobId: str({ min: 1, max: 128 }) }),
  'firmware.list': none,
  /** Invokes `firmwareUpdate` on the device with the library's payload for this image (docs/firmware.md). */
  'devices.firmwareUpdate': object({ deviceId, name: str({ min: 1, max: 128 }), version: str({ min: 1, max: 64 }) }),
  'configurations.list': none,
  'configurations.remove': object({ id: str({ min: 1, max: 128 }) }),
  // Devices screen tools (docs/ui.md): saved views, bulk tags.
  'views.list': none,
  /** Saves the table's search + query (+ sort) under a name; an existing name is ViewAlreadyExists unless `overwrite`. */
  'views.save': object({
    name: viewName,
    search: optional(str({ max: 128 })),
    query: optional(str({ max: 8192 })),
    sort: optional(deviceSort),
    overwrite: optional(bool)
  }),
  'views.rename': object({ name: viewName, newName: viewName }),
  'views.remove': object({ name: viewName }),
  /** Sets (`value`) or removes (`remove: true`) one tag on each device; one outcome per device. */
  'devices.tag': object({
    deviceIds: arrayOf(deviceId, { min: 1, max: 1000 }),
    tag: str({ min: 1, max: 328, pattern: TAG_PATH, patternHint: 'must be a tag name (or a dotted path like location.hall) without spaces or $' }),
    value: optional(json),
    remove: optional(bool)
  }),
  // Device detail: the offline command queue (docs/commands.md) and streamed telemetry.
  'commands.list': object({ deviceId, status: optional(arrayOf(oneOf(COMMAND_STATES), { min: 1, max: 7 })), top: optional(int({ min: 1, max: 200 })) }),
  'commands.enqueue': object({
    deviceId,
    methodName,
    payload: optional(json),
    /** How long it may wait for the device: 1 s .. 30 days (default 1 day). */
    ttlInSeconds: optional(int({ min: 1, max: 2_592_000 })),
    responseTimeoutInSeconds: optional(int({ min: 5, max: 300 })),
    idempotent: optional(bool)
  }),
  'commands.cancel': object({ commandId: str({ min: 1, max: 128 }), reason: optional(str({ max: 256 })) }),
  /** The device's messages after `afterSeq` (the last one the caller has), oldest first; at most 100 (the log's per-device index). */
  'telemetry.since': object({ deviceId, afterSeq: int({ min: 0 }), limit: optional(int({ min: 1, max: 100 })) }),
  ...authMethodInputs,
  ...siteMethodInputs,
  ...alertMethodInputs,
  ...syncMethodInputs
} as const satisfies Record<string, Validator<unknown>>

export interface MethodOutputs extends AuthMethodOutputs, OpsOutputs, SiteMethodOutputs, AlertMethodOutputs, SyncMethodOutputs {
  'hub.status': HubStatus
  'fleet.summary': FleetSummary
  'devices.list': DevicesPage
  'devices.get': DeviceView
  'devices.create': DeviceRow
  'devices.remove': { deviceId: string }
  'devices.setStatus': DeviceRow
  'devices.connectionString': { connectionString: string }
  'devices.regenerateKey': { connectionString: string }
  'twins.get': TwinView
  'twins.patchDesired': TwinView
  'twins.patchTags': TwinView
  'methods.invoke': MethodResult
  'telemetry.history': TelemetryItem[]
  'query.run': QueryResult
  'jobs.list': JobView[]
  'jobs.get': JobView
  'jobs.cancel': JobView
  'jobs.devices': JobDeviceResult[]
  'firmware.list': FirmwareImageView[]
  'devices.firmwareUpdate': MethodResult
  'configurations.list': ConfigurationView[]
  'configurations.remove': { id: string }
  'views.list': SavedView[]
  'views.save': SavedView
  'views.rename': SavedView
  'views.remove': { name: string }
  'devices.tag': BulkOutcome
  'commands.list': CommandView[]
  'commands.enqueue': CommandView
  'commands.cancel': CommandView
  'telemetry.since': TelemetrySince
}

export type MethodName = keyof typeof methodInputs
export type MethodInput<M extends MethodName> = Infer<(typeof methodInputs)[M]>
export type MethodOutput<M extends MethodName> = MethodOutputs[M]
export const METHOD_NAMES = Object.keys(methodInputs) as MethodName[]

// Every method has an output type and every output type a method (compile-time check).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const methodsMatch: Same<MethodName, keyof MethodOutputs> = true
void methodsMatch

export function isMethodName (name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methodInputs, name)
}
