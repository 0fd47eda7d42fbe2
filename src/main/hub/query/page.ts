// Paging (C.4). A continuation token is opaque to clients: base64url of
// {v, o: offset into the full result, h: hash of the query text}. It is stable (the same
// query and offset always give the same token, across restarts) and bound to its query: a
// token replayed with different query text is refused with 400. Offsets over a changing
// collection may skip or repeat a row between pages; the cloud is eventually consistent
// too (D.2), and rows keep their collection order, so in practice pages line up.
import { createHash } from 'node:crypto'
import { QueryError } from './errors.js'

/** Default page size (C.4). */
export const DEFAULT_PAGE_SIZE = 100
/** Largest page by default: current docs cap x-ms-max-item-count at 100 (C.4); larger requests are clamped, not refused. */
export const MAX_PAGE_SIZE = 100

const queryHash = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 16)

export function encodeContinuation (queryText: string, offset: number): string {
  return Buffer.from(JSON.stringify({ v: 1, o: offset, h: queryHash(queryText) })).toString('base64url')
}

/** The offset a token points at; QueryError (400) when the token is malformed or belongs to another query. */
export function decodeContinuation (queryText: string, token: string): number {
  const bad = (why: string): QueryError => new QueryError(`Invalid continuation token: ${why}`)
  if (typeof token !== 'string' || token.length === 0 || token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad('malformed')
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw bad('malformed')
  }
  if (typeof parsed !== 'object' || parsed === null) throw bad('malformed')
  const { v, o, h } = parsed as Record<string, unknown>
  if (v !== 1 || typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0 || typeof h !== 'string') throw bad('malformed')
  if (h !== queryHash(queryText)) throw bad('it was issued for a different query')
  return o
}

/** Validated page size: default when absent, clamped to the maximum, 400 when not a positive integer. */
export function resolvePageSize (requested: number | undefined, defaultSize: number, maxSize: number): number {
  if (requested === undefined) return Math.min(defaultSize, maxSize)
  if (!Number.isSafeInteger(requested) || requested < 1) {
    throw new QueryError(`Invalid page size ${String(requested)}: expected a positive integer`)
  }
  return Math.min(requested, maxSize)
}
