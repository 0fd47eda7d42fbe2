// Validation of PUT /jobs/v2/{id} bodies (C.6) and of the plant-floor extension fields. Every
// problem is a 400 ArgumentInvalid naming the field, raised before anything is stored.
import { argumentInvalid } from '../errors.js'
import { parseCondition } from '../query/parse.js'
import type { JsonObject, JsonValue } from '../types.js'
import type { AbortThreshold, CloudToDeviceMethod, InUseGuard, JobType, PlantOptions, UpdateTwin } from './types.js'
import { isTimeZone, parseWindows } from './windows.js'

// [C.5] printable US-ASCII without $ ( ) < > @ , ; : \ " / [ ] ? = { } SP HT
const METHOD_NAME_RE = /^[!#%&'*+\-.0-9A-Z^_`a-z|~]{1,128}$/
const JOB_ID_RE = /^[\x21-\x7e]{1,128}$/
const MAX_PAYLOAD = 128 * 1024
export const DEFAULT_MAX_EXECUTION_SECONDS = 3600

export interface ParsedJob extends PlantOptions {
  type: JobType
  queryCondition: string
  startTimeMs: number | null
  maxExecutionTimeInSeconds: number
  cloudToDeviceMethod: CloudToDeviceMethod | null
  updateTwin: UpdateTwin | null
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function positiveInt (v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw argumentInvalid(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(v)}.`)
  return v
}

export function validateJobId (jobId: string): void {
  if (!JOB_ID_RE.test(jobId)) throw argumentInvalid(`Job id '${jobId}' is not valid: use 1 to 128 printable ASCII characters without spaces.`)
}

function parseMethod (raw: unknown): CloudToDeviceMethod {
  if (!isObject(raw)) throw argumentInvalid('A scheduleDeviceMethod job needs cloudToDeviceMethod: {"methodName": "...", "payload": ..., "responseTimeoutInSeconds": 30}.')
  const name = raw['methodName']
  if (typeof name !== 'string' || !METHOD_NAME_RE.test(name)) {
    throw argumentInvalid(`cloudToDeviceMethod.methodName ${JSON.stringify(name)} is not a valid method name: use printable ASCII without spaces or $ ( ) < > @ , ; : \\ " / [ ] ? = { }.`)
  }
  // [C.6] the legacy key timeoutInSeconds is an alias of responseTimeoutInSeconds.
  const rawTimeout = raw['responseTimeoutInSeconds'] ?? raw['timeoutInSeconds']
  const responseTimeoutInSeconds = rawTimeout === undefined || rawTimeout === null ? 30 : positiveInt(rawTimeout, 'cloudToDeviceMethod.responseTimeoutInSeconds', 5, 300)
  const payload = (raw['payload'] ?? null) as JsonValue
  if (Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD) throw argumentInvalid('cloudToDeviceMethod.payload is larger than 128 KB.')
  const out: CloudToDeviceMethod = { methodName: name, payload, responseTimeoutInSeconds }
  if (raw['connectTimeoutInSeconds'] !== undefined && raw['connectTimeoutInSeconds'] !== null) {
    out.connectTimeoutInSeconds = positiveInt(raw['connectTimeoutInSeconds'], 'cloudToDeviceMethod.connectTimeoutInSeconds', 0, 300)
  }
  return out
}

function parseTwin (raw: unknown): UpdateTwin {
  if (!isObject(raw)) throw argumentInvalid('A scheduleUpdateTwin job needs updateTwin: {"etag": "*", "tags": {...}, "properties": {"desired": {...}}}.')
  const etag = raw['etag'] ?? '*'
  if (typeof etag !== 'string' || etag === '') throw argumentInvalid('updateTwin.etag must be a string ("*" matches any twin).')
  const out: UpdateTwin = { etag: etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1') }
  if (raw['tags'] !== undefined && raw['tags'] !== null) {
    if (!isObject(raw['tags'])) throw argumentInvalid('updateTwin.tags must be an object.')
    out.tags = raw['tags'] as JsonObject
  }
  const props = raw['properties']
  if (props !== undefined && props !== null) {
    if (!isObject(props)) throw argumentInvalid('updateTwin.properties must be an object.')
    if (props['reported'] !== undefined) throw argumentInvalid('updateTwin.properties.reported cannot be written by a job: only devices write reported properties.')
    if (props['desired'] !== undefined && props['desired'] !== null) {
      if (!isObject(props['desired'])) throw argumentInvalid('updateTwin.properties.desired must be an object.')
      out.properties = { desired: props['desired'] as JsonObject }
    }
  }
  if (out.tags === undefined && out.properties === undefined) throw argumentInvalid('updateTwin changes nothing: give tags and/or properties.desired.')
  return out
}

function parseGuard (raw: unknown): InUseGuard {
  if (!isObject(raw)) throw argumentInvalid('inUseGuard must be an object like {"path": "properties.reported.state", "values": ["busy"]}.')
  const path = raw['path']
  if (typeof path !== 'string' || !/^(tags|properties\.(reported|desired))(\.[^.]+)+$/.test(path)) {
    throw argumentInvalid(`inUseGuard.path ${JSON.stringify(path)} must be a twin path under tags, properties.reported or properties.desired.`)
  }
  let values: JsonValue[]
  if (raw['values'] !== undefined) {
    if (!Array.isArray(raw['values']) || raw['values'].length === 0) throw argumentInvalid('inUseGuard.values must be a non-empty list.')
    values = raw['values'] as JsonValue[]
  } else if (raw['value'] !== undefined) {
    values = [raw['value'] as JsonValue]
  } else {
    throw argumentInvalid('inUseGuard needs value or values: what the property holds while the device is busy.')
  }
  const retry = raw['retryAfterSeconds'] === undefined ? 60 : positiveInt(raw['retryAfterSeconds'], 'inUseGuard.retryAfterSeconds', 1, 86_400)
  return { path, values, retryAfterSeconds: retry }
}

function parseThreshold (raw: unknown): AbortThreshold {
  if (!isObject(raw)) throw argumentInvalid('abortThreshold must be an object like {"failurePercent": 20, "minDevices": 10}.')
  const pct = raw['failurePercent']
  if (typeof pct !== 'number' || !(pct > 0 && pct <= 100)) throw argumentInvalid('abortThreshold.failurePercent must be a number above 0 and at most 100.')
  const min = raw['minDevices'] === undefined ? 10 : positiveInt(raw['minDevices'], 'abortThreshold.minDevices', 1, 1_000_000)
  return { failurePercent: pct, minDevices: min }
}

/** Parses a job body; `nowMs` resolves a past start time to "now" (C.6). */
export function parseJobBody (jobId: string, body: unknown): ParsedJob {
  validateJobId(jobId)
  if (!isObject(body)) throw argumentInvalid('The job request must be a JSON object.')
  if (body['jobId'] !== undefined && body['jobId'] !== jobId) throw argumentInvalid(`The body's jobId '${String(body['jobId'])}' does not match the job id in the path, '${jobId}'.`)
  const type = body['type']
  if (type !== 'scheduleDeviceMethod' && type !== 'scheduleUpdateTwin') {
    throw argumentInvalid(`Job type must be 'scheduleDeviceMethod' or 'scheduleUpdateTwin', not ${JSON.stringify(type)} (import and export jobs use POST /jobs/create).`)
  }
  const cond = body['queryCondition']
  if (typeof cond !== 'string' || cond.trim() === '') throw argumentInvalid("queryCondition is required: a WHERE-clause body such as \"deviceId IN ['a','b']\" or '*' for every device.")
  parseCondition(cond) // a bad condition is a 400 now rather than a failed job later
  let startTimeMs: number | null = null
  const st = body['startTime']
  if (st !== undefined && st !== null) {
    const ms = typeof st === 'string' ? Date.parse(st) : NaN
    if (Number.isNaN(ms)) throw argumentInvalid(`startTime ${JSON.stringify(st)} is not an ISO 8601 date-time.`)
    startTimeMs = ms
  }
  const mx = body['maxExecutionTimeInSeconds']
  const maxExecutionTimeInSeconds = mx === undefined || mx === null ? DEFAULT_MAX_EXECUTION_SECONDS : positiveInt(mx, 'maxExecutionTimeInSeconds', 1, 30 * 86_400)
  const parsed: ParsedJob = {
    type,
    queryCondition: cond,
    startTimeMs,
    maxExecutionTimeInSeconds,
    cloudToDeviceMethod: type === 'scheduleDeviceMethod' ? parseMethod(body['cloudToDeviceMethod']) : null,
    updateTwin: type === 'scheduleUpdateTwin' ? parseTwin(body['updateTwin']) : null
  }
  // Plant-floor extensions (docs/jobs.md).
  if (body['devicesPerMinute'] !== undefined && body['devicesPerMinute'] !== null) {
    const r = body['devicesPerMinute']
    if (typeof r !== 'number' || !(r > 0) || r > 1_000_000) throw argumentInvalid('devicesPerMinute must be a number above 0.')
    parsed.devicesPerMinute = r
  }
  if (body['maxConcurrency'] !== undefined && body['maxConcurrency'] !== null) parsed.maxConcurrency = positiveInt(body['maxConcurrency'], 'maxConcurrency', 1, 100_000)
  if (body['abortThreshold'] !== undefined && body['abortThreshold'] !== null) parsed.abortThreshold = parseThreshold(body['abortThreshold'])
  if (body['timeZone'] !== undefined && body['timeZone'] !== null) {
    const tz = body['timeZone']
    if (typeof tz !== 'string' || !isTimeZone(tz)) throw argumentInvalid(`timeZone ${JSON.stringify(tz)} is not a time zone this hub knows (use an IANA name such as 'Europe/Berlin').`)
    parsed.timeZone = tz
  }
  if (body['maintenanceWindow'] !== undefined && body['maintenanceWindow'] !== null) parsed.maintenanceWindow = parseWindows(body['maintenanceWindow'], 'maintenanceWindow')
  if (body['deviceWindowTag'] !== undefined) {
    const t = body['deviceWindowTag']
    if (t !== null && (typeof t !== 'string' || !/^[^.$\s]+(\.[^.$\s]+)*$/.test(t))) throw argumentInvalid('deviceWindowTag must be a tag name (dots for nesting) or null.')
    parsed.deviceWindowTag = t
  }
  if (body['inUseGuard'] !== undefined && body['inUseGuard'] !== null) parsed.inUseGuard = parseGuard(body['inUseGuard'])
  return parsed
}
