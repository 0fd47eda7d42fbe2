// Every IoT Hub MQTT topic the hub builds or parses (protocol A.4). No other file spells a topic.
import type { Identity, SessionSubscriptions } from '../../types.js'

/** What a device PUBLISH topic means, once parsed. Ids are percent-decoded (A.9). */
export type InboundTopic =
  | { kind: 'telemetry'; deviceId: string; moduleId: string | undefined; bag: string }
  | { kind: 'twinGet'; rid: string }
  | { kind: 'twinReported'; rid: string }
  | { kind: 'methodResponse'; status: number; rid: string }
  | { kind: 'unknown' }

const UNKNOWN: InboundTopic = { kind: 'unknown' }

/** Decodes a percent-encoded topic segment; malformed escapes stay as they are. */
export function decodeSegment (s: string): string {
  if (s.indexOf('%') < 0) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * The identity's own telemetry prefix, as the Node SDK sends it (ids not encoded) [A.4].
 * The transport compares every PUBLISH with it first: the hot path needs no split.
 */
export function telemetryPrefix (identity: Identity): string {
  return identity.moduleId === undefined
    ? `devices/${identity.deviceId}/messages/events/`
    : `devices/${identity.deviceId}/modules/${identity.moduleId}/messages/events/`
}

/** The property bag after a telemetry prefix; module output events end in `/` [A.4]. */
export function bagAfter (topic: string, prefixLength: number): string {
  const end = topic.charCodeAt(topic.length - 1) === 47 /* / */ ? topic.length - 1 : topic.length
  return end <= prefixLength ? '' : topic.slice(prefixLength, end)
}

/** The value of `name` in a `?a=b&c=d` query, raw (echoed verbatim, A.7). */
function queryParam (query: string, name: string): string | undefined {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=')
    if (eq < 0 ? pair === name : pair.slice(0, eq) === name) return eq < 0 ? '' : pair.slice(eq + 1)
  }
  return undefined
}

function parseIothub (topic: string): InboundTopic {
  const q = topic.indexOf('?')
  let path = q < 0 ? topic : topic.slice(0, q)
  if (path.endsWith('/')) path = path.slice(0, -1)
  const rid = q < 0 ? undefined : queryParam(topic.slice(q + 1), '$rid')
  // [A.7] twin GET / reported PATCH; [A.8] method response. A request id is mandatory.
  if (rid === undefined) return UNKNOWN
  if (path === '$iothub/twin/GET') return { kind: 'twinGet', rid }
  if (path === '$iothub/twin/PATCH/properties/reported') return { kind: 'twinReported', rid }
  const res = '$iothub/methods/res/'
  if (path.startsWith(res)) {
    const s = path.slice(res.length)
    const status = Number(s)
    if (s.length > 0 && s.indexOf('/') < 0 && Number.isInteger(status)) return { kind: 'methodResponse', status, rid }
  }
  return UNKNOWN
}

function parseDevices (topic: string): InboundTopic {
  const seg = topic.split('/')
  const deviceId = decodeSegment(seg[1] ?? '')
  if (deviceId === '') return UNKNOWN
  // [A.4] devices/{d}/messages/events/{bag} and devices/{d}/modules/{m}/messages/events/{bag}
  let moduleId: string | undefined
  let i = 2
  if (seg[2] === 'modules') {
    moduleId = decodeSegment(seg[3] ?? '')
    if (moduleId === '') return UNKNOWN
    i = 4
  }
  if (seg[i] !== 'messages' || seg[i + 1] !== 'events') return UNKNOWN
  let rest = seg.slice(i + 2)
  if (rest.length > 1 && rest[rest.length - 1] === '') rest = rest.slice(0, -1)
  return { kind: 'telemetry', deviceId, moduleId, bag: rest.join('/') }
}

/** Parses any device PUBLISH topic. Identity checks are the caller's. */
export function parseInbound (topic: string): InboundTopic {
  if (topic.startsWith('$iothub/')) return parseIothub(topic)
  if (topic.startsWith('devices/')) return parseDevices(topic)
  return UNKNOWN
}

/**
 * The feature a SUBSCRIBE filter enables for `identity`, or null when the filter is not one
 * of the documented ones for that very identity [A.4] (`#`, `$iothub/#`, other devices...).
 */
export function classifySubscription (filter: string, identity: Identity): keyof SessionSubscriptions | null {
  switch (filter) {
    case '$iothub/methods/POST/#': return 'methods'
    case '$iothub/twin/res/#': return 'twinResponses'
    case '$iothub/twin/PATCH/properties/desired/#': return 'desired'
  }
  if (!filter.startsWith('devices/')) return null
  const seg = filter.split('/')
  if (decodeSegment(seg[1] ?? '') !== identity.deviceId) return null
  if (identity.moduleId === undefined) {
    return seg.length === 5 && seg[2] === 'messages' && seg[3] === 'devicebound' && seg[4] === '#' ? 'c2d' : null
  }
  return seg.length === 6 && seg[2] === 'modules' && decodeSegment(seg[3] ?? '') === identity.moduleId &&
    seg[4] === 'inputs' && seg[5] === '#'
    ? 'inputs'
    : null
}

// ---- hub -> device -------------------------------------------------------------------------

/** [A.7] `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]` */
export function twinResponseTopic (status: number, rid: string, version?: number): string {
  return version === undefined
    ? `$iothub/twin/res/${status}/?$rid=${rid}`
    : `$iothub/twin/res/${status}/?$rid=${rid}&$version=${version}`
}

/** [A.7] `$iothub/twin/PATCH/properties/desired/?$version={v}` */
export function desiredPatchTopic (version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`
}

/** [A.8] `$iothub/methods/POST/{method}/?$rid={rid}` (the documented form, with the slash). */
export function methodRequestTopic (methodName: string, rid: string): string {
  return `$iothub/methods/POST/${methodName}/?$rid=${rid}`
}

/** [A.6] `devices/{d}/messages/devicebound/{bag}`; the bag must hold no raw `/`. */
export function c2dTopic (deviceId: string, bag: string): string {
  return `devices/${deviceId}/messages/devicebound/${bag}`
}
