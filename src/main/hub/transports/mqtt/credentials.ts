// What a CONNECT packet says about who is connecting (protocol A.2, A.3). Pure functions.
import type { Identity } from '../../types.js'
import { decodeSegment } from './topics.js'

/** [A.2] ClientId is `deviceId` or `deviceId/moduleId`. */
export function parseClientId (clientId: string): Identity | null {
  const parts = clientId.split('/')
  const [deviceId, moduleId] = parts
  if (deviceId === undefined || deviceId === '' || parts.length > 2) return null
  if (moduleId === undefined) return { deviceId }
  return moduleId === '' ? null : { deviceId, moduleId }
}

export interface UsernameInfo {
  host: string
  deviceId: string
  moduleId: string | undefined
  /** `model-id` (PnP), when present. */
  modelId: string | undefined
  /** All query parameters (api-version, DeviceClientType...), informational. */
  params: Record<string, string>
}

/**
 * [A.2] `host/deviceId[/moduleId]/?api-version=...[&model-id=...]&DeviceClientType=...`,
 * split at the first `/?`. Old SDKs omit the `?` (`host/dev/api-version=...`): a last
 * segment holding `=` is then taken as the query.
 */
export function parseUsername (username: string): UsernameInfo | null {
  let path: string
  let query: string
  const q = username.indexOf('/?')
  if (q >= 0) {
    path = username.slice(0, q)
    query = username.slice(q + 2)
  } else {
    const last = username.lastIndexOf('/')
    const tail = last < 0 ? '' : username.slice(last + 1)
    if (tail.includes('=')) {
      path = username.slice(0, last)
      query = tail
    } else {
      path = username.endsWith('/') ? username.slice(0, -1) : username
      query = ''
    }
  }
  const seg = path.split('/')
  if (seg.length < 2 || seg.length > 3 || seg.some((s) => s === '')) return null
  const params: Record<string, string> = {}
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    params[eq < 0 ? pair : pair.slice(0, eq)] = eq < 0 ? '' : decodeSegment(pair.slice(eq + 1))
  }
  const modelId = params['model-id']
  return {
    host: seg[0] ?? '',
    deviceId: decodeSegment(seg[1] ?? ''),
    moduleId: seg[2] === undefined ? undefined : decodeSegment(seg[2]),
    modelId: modelId === undefined || modelId === '' ? undefined : modelId,
    params
  }
}

/** [A.3] The `se` (expiry, seconds since the epoch) of a SAS token, or null. */
export function sasExpiry (token: string): number | null {
  const space = token.indexOf(' ')
  for (const pair of token.slice(space + 1).split('&')) {
    if (pair.startsWith('se=')) {
      const se = Number(pair.slice(3))
      return Number.isFinite(se) ? se : null
    }
  }
  return null
}
