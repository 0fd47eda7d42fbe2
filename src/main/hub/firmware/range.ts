// HTTP Range for resumable downloads (RFC 9110 14.2): one byte range per request is enough for
// a device resuming an interrupted transfer; multi-range requests get the whole image (200).

export type RangeResult =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' }

/** Parses a Range header against an entity of `size` bytes. `end` is inclusive. */
export function parseRange (header: string | undefined, size: number): RangeResult {
  if (header === undefined || header.trim() === '') return { kind: 'full' }
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  // Other units, multiple ranges or garbage: ignore the header and send everything (allowed by RFC 9110).
  if (m === null) return { kind: 'full' }
  const [, a = '', b = ''] = m
  if (a === '' && b === '') return { kind: 'full' }
  if (a === '') {
    // bytes=-N: the last N bytes.
    const n = Number(b)
    if (n === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(a)
  if (start >= size) return { kind: 'unsatisfiable' }
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1)
  if (end < start) return { kind: 'full' }
  return { kind: 'partial', start, end }
}
