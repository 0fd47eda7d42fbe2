// SAS tokens (protocol A.3): `SharedAccessSignature sr=..&sig=..&se=..[&skn=..]`.
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface SasToken {
  sr: string
  sig: string
  se: number
  skn?: string
}

/** encodeURIComponent plus ! ' ( ) *, as the SDKs do (A.3). */
export function urlEncode (s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/** Parse a token; returns an Error instead of throwing (aedes style). */
export function parseSasToken (token: string): SasToken | Error {
  const trimmed = token.trim()
  const space = trimmed.search(/\s/)
  if (space < 0 || trimmed.slice(0, space) !== 'SharedAccessSignature') {
    return new Error('not a SharedAccessSignature token')
  }
  const fields: Record<string, string> = {}
  for (const pair of trimmed.slice(space).trim().split('&')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) return new Error(`malformed token field "${pair}"`)
    fields[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  const { sr, sig, se, skn } = fields
  if (sr === undefined || sig === undefined || se === undefined) return new Error('token lacks sr, sig or se')
  if (!/^\d+$/.test(se)) return new Error('token expiry (se) is not an integer')
  const parsed: SasToken = { sr, sig, se: Number(se) }
  if (skn !== undefined) parsed.skn = skn
  return parsed
}

/** base64(HMAC-SHA256(base64decode(key), sr + "\n" + se)), not yet URL-encoded. */
export function signature (key: string, sr: string, se: number | string): string {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64')
}

/** Builds a token the way the SDKs do; `resource` is the unencoded resource URI. */
export function createSasToken (opts: { resource: string; key: string; expiry: number; keyName?: string; encodeResource?: boolean }): string {
  const sr = opts.encodeResource === false ? opts.resource : urlEncode(opts.resource)
  let token = `SharedAccessSignature sr=${sr}&sig=${urlEncode(signature(opts.key, sr, opts.expiry))}&se=${opts.expiry}`
  if (opts.keyName !== undefined) token += `&skn=${opts.keyName}`
  return token
}

/** Constant-time check of the token's signature against one key: the HMAC covers the raw sr as transmitted. */
export function verifySignature (token: SasToken, key: string | null | undefined): boolean {
  if (!key) return false
  let given: Buffer
  try {
    given = Buffer.from(decodeURIComponent(token.sig), 'base64')
  } catch {
    return false
  }
  const expected = Buffer.from(signature(key, token.sr, token.se), 'base64')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Decoded resource as host + path segments, host lower-cased. */
export function parseResource (sr: string): { host: string; segments: string[] } | Error {
  let decoded: string
  try {
    decoded = decodeURIComponent(sr)
  } catch {
    return new Error('token resource (sr) is not valid URL encoding')
  }
  const parts = decoded.replace(/^https?:\/\//i, '').split('/').filter((p, i) => i === 0 || p !== '')
  const host = (parts.shift() ?? '').toLowerCase()
  return { host, segments: parts }
}

/** Segment-prefix coverage: `/a/b` covers `/a/b/c`, not `/a/bc` (A.3). */
export function covers (granted: string[], target: string[]): boolean {
  if (granted.length > target.length) return false
  return granted.every((seg, i) => seg === target[i])
}
