// Property bags in topic names (protocol A.5 device->hub, A.6 hub->device).
import type { C2dMessage } from '../../types.js'

/** [A.5] system keys, after percent-decoding (`%24.mid` is `$.mid`). */
const SYSTEM_KEYS: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  '$.mid': 'messageId',
  '$.cid': 'correlationId',
  '$.uid': 'userId',
  '$.to': 'to',
  '$.ct': 'contentType',
  '$.ce': 'contentEncoding',
  '$.exp': 'expiryTimeUtc',
  '$.ifid': 'interfaceId',
  '$.sub': 'componentName',
  '$.on': 'outputName'
})

export interface DecodedBag {
  systemProperties: Record<string, string>
  properties: Record<string, string | null>
}

function decode (s: string): string {
  if (s.indexOf('%') < 0) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s // a malformed escape is kept verbatim rather than dropping the message
  }
}

/**
 * [A.5] `pctenc(key)[=pctenc(value)]` pairs joined by `&`. Keys and values are decoded
 * before classifying (Node escapes `$` as `%24` in system keys); a key alone is null.
 */
export function decodeBag (bag: string): DecodedBag {
  const systemProperties: Record<string, string> = {}
  const properties: Record<string, string | null> = {}
  let start = 0
  const n = bag.length
  while (start < n) {
    let end = bag.indexOf('&', start)
    if (end < 0) end = n
    if (end > start) {
      const eq = bag.indexOf('=', start)
      const hasValue = eq >= 0 && eq < end
      const key = decode(bag.slice(start, hasValue ? eq : end))
      const value = hasValue ? decode(bag.slice(eq + 1, end)) : null
      // '$' '.' starts a system key; anything else (also unknown `$.x`) is an application property
      const sys = key.charCodeAt(0) === 36 && key.charCodeAt(1) === 46 ? SYSTEM_KEYS[key] : undefined
      if (sys !== undefined) {
        if (value !== null) systemProperties[sys] = value
      } else if (key !== '' && key !== '__proto__') {
        properties[key] = value
      }
    }
    start = end + 1
  }
  return { systemProperties, properties }
}

const enc = encodeURIComponent

/**
 * [A.6] The C2D bag, fully percent-encoded (Node reads it from topic segment 4, so no raw `/`):
 * `%24.mid=..&%24.to=%2Fdevices%2F{d}%2Fmessages%2FdeviceBound&%24.cid=..&%24.ct=..&%24.ce=..&%24.exp=..&iothub-ack=..&{app}`.
 */
export function encodeC2dBag (msg: C2dMessage): string {
  let out = `%24.mid=${enc(msg.messageId)}&%24.to=${enc(`/devices/${msg.deviceId}/messages/deviceBound`)}`
  if (msg.correlationId !== undefined) out += `&%24.cid=${enc(msg.correlationId)}`
  if (msg.contentType !== undefined) out += `&%24.ct=${enc(msg.contentType)}`
  if (msg.contentEncoding !== undefined) out += `&%24.ce=${enc(msg.contentEncoding)}`
  if (msg.expiryTimeUtc !== undefined) out += `&%24.exp=${enc(msg.expiryTimeUtc)}`
  out += `&iothub-ack=${enc(msg.ack ?? 'none')}`
  for (const [k, v] of Object.entries(msg.properties)) out += `&${enc(k)}=${enc(v)}`
  return out
}
