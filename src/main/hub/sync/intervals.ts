// A set of integers kept as sorted, disjoint, non-adjacent half-open ranges [start, end).
// The telemetry sync's "done" set: everything sent, expired or counted as dropped.
export type Ranges = Array<[number, number]>

export function addRange (ranges: Ranges, start: number, end: number): Ranges {
  if (end <= start) return ranges
  const out: Ranges = []
  let s = start
  let e = end
  let placed = false
  for (const [a, b] of ranges) {
    if (b < s) { out.push([a, b]); continue }
    if (a > e) {
      if (!placed) { out.push([s, e]); placed = true }
      out.push([a, b])
      continue
    }
    s = Math.min(s, a)
    e = Math.max(e, b)
  }
  if (!placed) out.push([s, e])
  return out.sort((x, y) => x[0] - y[0])
}

export function addAll (ranges: Ranges, seqs: number[]): Ranges {
  const sorted = [...seqs].sort((a, b) => a - b)
  let out = ranges
  let i = 0
  while (i < sorted.length) {
    let j = i
    while (j + 1 < sorted.length && (sorted[j + 1] as number) <= (sorted[j] as number) + 1) j++
    out = addRange(out, sorted[i] as number, (sorted[j] as number) + 1)
    i = j + 1
  }
  return out
}

export function has (ranges: Ranges, n: number): boolean {
  for (const [a, b] of ranges) {
    if (n < a) return false
    if (n < b) return true
  }
  return false
}

/** The smallest integer >= from that is not in the set. */
export function firstGap (ranges: Ranges, from: number): number {
  let n = from
  for (const [a, b] of ranges) {
    if (n < a) return n
    if (n < b) n = b
  }
  return n
}

/** How many integers in [from, to) are not in the set. */
export function countMissing (ranges: Ranges, from: number, to: number): number {
  let missing = Math.max(0, to - from)
  for (const [a, b] of ranges) {
    const lo = Math.max(a, from)
    const hi = Math.min(b, to)
    if (hi > lo) missing -= hi - lo
  }
  return missing
}
