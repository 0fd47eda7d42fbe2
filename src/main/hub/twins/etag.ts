// ETags (protocol B.1, B.3, C.1). They are opaque to clients; we render what the cloud was
// observed to send: the twin etag is base64 of an 8-byte big-endian counter
// (`AAAAAAAAAAE=` = 1), the device etag base64 of a decimal string (`MA==` = "0").
import { HubError } from '../errors.js'

export function twinEtag (counter: number): string {
  const buf = Buffer.alloc(8)
  buf.writeBigUInt64BE(BigInt(counter))
  return buf.toString('base64')
}

export function deviceEtag (counter: number): string {
  return Buffer.from(String(counter), 'utf8').toString('base64')
}

/** An If-Match value as sent (always quoted by azure-iothub, G.4): quotes and a weak `W/` prefix removed. */
export function normalizeIfMatch (ifMatch: string): string {
  let v = ifMatch.trim()
  if (v.startsWith('W/')) v = v.slice(2)
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
  return v
}

/** No If-Match, an empty one, or `*` match anything (B.3); otherwise exact comparison. */
export function etagMatches (ifMatch: string | undefined, current: string): boolean {
  if (ifMatch === undefined) return true
  const v = normalizeIfMatch(ifMatch)
  return v === '' || v === '*' || v === current
}

/** 412 PreconditionFailed when If-Match does not match (the SDK e2e suite expects InvalidEtagError). */
export function checkIfMatch (ifMatch: string | undefined, current: string): HubError | undefined {
  if (etagMatches(ifMatch, current)) return undefined
  return new HubError('PreconditionFailed', `Precondition failed: etag ${JSON.stringify(normalizeIfMatch(ifMatch ?? ''))} does not match the current etag ${JSON.stringify(current)}`)
}
