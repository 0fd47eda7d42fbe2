// The call half of the contract: every method's input validator, and its output type.
// Main (IPC) and the UI server (WebSocket) both validate with these before the hub sees a call.
import type {
  ConfigurationView, DeviceRow, JsonValue, DevicesPage, DeviceView, FirmwareImageView, FleetSummary, HubStatus, JobDeviceResult, JobView, MethodResult, QueryResult, TelemetryItem, TwinView
} from './model.js'
import {
  SYNC_DEVICE_STATES, type SyncConflictView, type SyncDevicesPage, type SyncResolvedConflictView, type SyncResolution, type SyncSettingsView, type SyncStatusView, type SyncTestResult
} from './sync.js'
import { authMethodInputs, type AuthMethodOutputs } from './auth-methods.js'
import { bool, int, json, jsonObject, none, object, oneOf, optional, str, type Infer, type Validator } from './validate.js'

/** IoT Hub device ids: up to 128 of these characters (C.2). */
export const DEVICE_ID = /^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/
const deviceId = str({ pattern: DEVICE_ID, patternHint: "must be 1-128 letters, digits or - . + % _ # * ? ! ( ) , : = @ $ '" })
const etag = optional(str({ min: 1, max: 128 }))
const dev = object({ deviceId })

/** 'cloud' | 'local' | {fields: {path: 'cloud' | 'local' | {value}}} (sync.ts SyncResolution). */
const syncResolution: Validator<SyncResolution> = (v, p = 'resolution') => {
  if (v === 'cloud' || v === 'local') return { ok: true, value: v }
  const o = object({ fields: jsonObject })(v, p)
  if (!o.ok) return { ok: false, message: `${p} must be 'cloud', 'local' or {fields: {path: 'cloud' | 'local' | {value}}}` }
  const fields = o.value.fields
  if (Object.keys(fields).length === 0) return { ok: false, message: `${p}.fields must choose at least one field` }
  for (const [k, c] of Object.entries(fields)) {
    if (c === 'cloud' || c === 'local') continue
    const ok = c !== null && typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length === 1 && Object.hasOwn(c, 'value')
    if (!ok) return { ok: false, message: `${p}.fields.${k} must be 'cloud', 'local' or {value}` }
  }
  return { ok: true, value: { fields: fields as Extract<SyncResolution, { fields: unknown }>['fields'] } }
}
/** Upstream settings as the UI writes them; the connection string is write-only (never read back). */
const syncSettingsShape = {
  /** Service connection string of the cloud hub; omitted = keep the stored one. */
  connectionString: optional(str({ min: 1, max: 4096 })),
  /** PEM of the CA that signed the cloud's certificate; '' = trust the system CAs; omitted = keep. */
  ca: optional(str({ max: 65_536 })),
  edgeDeviceId: optional(deviceId)
}

export const methodInputs = {
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
  'jobs.create': object({
    jobId: optional(str({ min: 1, max: 128, pattern: /^[A-Za-z0-9\-._]+$/, patternHint: 'must be letters, digits, - . _' })),
    queryCondition: str({ min: 1, max: 8192 }),
    methodName: optional(str({ min: 1, max: 128 })),
    payload: optional(json),
    desired: optional(jsonObject),
    tags: optional(jsonObject),
    /** Default: now. */
    startTime: optional(str({ max: 64 })),
    dryRun: optional(bool)
  }),
  'jobs.cancel': object({ jobId: str({ min: 1, max: 128 }) }),
  'jobs.devices': object({ jobId: str({ min: 1, max: 128 }) }),
  'firmware.list': none,
  /** Invokes `firmwareUpdate` on the device with the library's payload for this image (docs/firmware.md). */
  'devices.firmwareUpdate': object({ deviceId, name: str({ min: 1, max: 128 }), version: str({ min: 1, max: 64 }) }),
  'configurations.list': none,
  /** An automatic device configuration (C.7, F): `content` maps 'properties.desired.<path>' to values. */
  'configurations.create': object({
    id: str({ min: 1, max: 128, pattern: /^[a-z0-9\-:.+%_#*?!(),=@;$']+$/, patternHint: "must be lower-case letters, digits or - : . + % _ # * ? ! ( ) , = @ ; $ '" }),
    targetCondition: str({ max: 8192 }),
    priority: optional(int({ min: 0, max: 1_000_000 })),
    content: jsonObject,
    metrics: optional(jsonObject)
  }),
  'configurations.remove': object({ id: str({ min: 1, max: 128 }) }),
  'sync.status': none,
  'sync.devices': optional(object({
    offset: optional(int({ min: 0 })),
    limit: optional(int({ min: 1, max: 20_000 })),
    state: optional(oneOf(SYNC_DEVICE_STATES)),
    /** Substring of the device id (case-insensitive). */
    search: optional(str({ max: 128 }))
  })),
  'sync.conflicts': optional(object({ deviceId: optional(deviceId) })),
  'sync.resolve': object({ id: str({ min: 1, max: 300 }), resolution: syncResolution }),
  'sync.settings.get': none,
  /** Conflicts that ended (newest first, the last 200): who decided what, and when. */
  'sync.conflicts.resolved': optional(object({ deviceId: optional(deviceId) })),
  /**
   * Saves the upstream (the link restarts with it; an empty input reconnects with the stored one),
   * and/or the default conflict policy; `enabled: false` turns sync off and forgets the upstream.
   */
  'sync.settings.set': object({
    ...syncSettingsShape,
    enabled: optional(bool),
    conflictPolicy: optional(object({ mode: oneOf(['manual', 'cloud-wins', 'local-wins'] as const), afterMinutes: int({ min: 0, max: 525_600 }) }))
  }),
  /** Tries the given (or stored) upstream once: reach, TLS trust, the policy's rights. Changes nothing. */
  'sync.settings.test': optional(object(syncSettingsShape)),
  ...authMethodInputs
} as const satisfies Record<string, Validator<unknown>>

export interface MethodOutputs extends AuthMethodOutputs {
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
  'jobs.create': JobView
  'jobs.cancel': JobView
  'jobs.devices': JobDeviceResult[]
  'firmware.list': FirmwareImageView[]
  'devices.firmwareUpdate': MethodResult
  'configurations.list': ConfigurationView[]
  'configurations.create': ConfigurationView
  'configurations.remove': { id: string }
  'sync.status': SyncStatusView
  'sync.devices': SyncDevicesPage
  'sync.conflicts': SyncConflictView[]
  'sync.conflicts.resolved': SyncResolvedConflictView[]
  'sync.resolve': { id: string; by: string; applied: Record<string, JsonValue> }
  'sync.settings.get': SyncSettingsView
  'sync.settings.set': SyncSettingsView
  'sync.settings.test': SyncTestResult
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
