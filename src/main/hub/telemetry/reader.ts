// Reading stored telemetry back: sequential reads from a checkpoint (the upstream sync's
// cursor) and single records by position (device history).
import { FRAME_HEADER_BYTES, decodeFrameAt, frameLengthAt } from '../store/frame.js'
import type { StoredTelemetry } from '../types.js'
import { decodeRecord } from './codec.js'
import { CHECKPOINT, durableBytes, readAt } from './segment.js'
import type { Segment } from './segment.js'

const CHUNK = 1024 * 1024

/** Appends to `out` the records of `seg` with seq >= fromSeq (and `keep` true) until `limit`. */
export async function readSegment (seg: Segment, fromSeq: number, limit: number, out: StoredTelemetry[], keep?: (r: StoredTelemetry) => boolean): Promise<void> {
  const end = durableBytes(seg)
  const k = Math.max(0, Math.floor((fromSeq - seg.firstSeq) / CHECKPOINT))
  let offset = seg.checkpoints[Math.min(k, seg.checkpoints.length - 1)] ?? end
  while (offset < end && out.length < limit && !seg.deleted) {
    let chunk = await readAt(seg, offset, Math.min(CHUNK, end - offset))
    if (chunk.length >= FRAME_HEADER_BYTES) {
      const need = FRAME_HEADER_BYTES + frameLengthAt(chunk, 0)
      // A single frame bigger than the chunk: read it whole.
      if (need > chunk.length && need <= end - offset) chunk = await readAt(seg, offset, need)
    }
    let pos = 0
    for (;;) {
      const r = decodeFrameAt(chunk, pos)
      if (r.kind !== 'frame') {
        if (r.kind === 'corrupt' || (pos === 0 && r.kind === 'partial')) throw new Error(`telemetry segment ${seg.path} unreadable at ${offset + pos}`)
        break
      }
      pos = r.frame.end
      const rec = decodeRecord(r.frame.payload)
      if (rec.seq >= fromSeq && (keep === undefined || keep(rec))) {
        out.push(rec)
        if (out.length >= limit) return
      }
    }
    offset += pos
  }
}

/** One record by position (a device history entry). */
export async function readOne (seg: Segment, offset: number, length: number): Promise<StoredTelemetry> {
  const buf = await readAt(seg, offset, length)
  const r = decodeFrameAt(buf, 0)
  if (r.kind !== 'frame') throw new Error(`telemetry segment ${seg.path} unreadable at ${offset}`)
  return decodeRecord(r.frame.payload)
}
