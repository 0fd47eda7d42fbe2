// One telemetry segment file (seg-<firstSeq>.log) and its in-memory summary: enough to drop
// it with exact per-device counts and to seek into it without scanning from the start.
import { open, readFile } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { AppendFile } from '../store/append-file.js'
import { decodeFrameAt } from '../store/frame.js'
import { decodeMeta, decodeSegmentHeader } from './codec.js'
import type { RecordMeta } from './codec.js'

/** A read checkpoint every CHECKPOINT records: read(fromSeq) seeks to the one below. */
export const CHECKPOINT = 256

export interface Segment {
  path: string
  firstSeq: number
  /** firstSeq - 1 while empty. */
  lastSeq: number
  count: number
  /** File size, header included. */
  bytes: number
  /** enqueuedTime (ms) of the newest message; age retention drops a segment once this is old. */
  newestMs: number
  perDevice: Map<string, number>
  /** Byte offset of record firstSeq + k * CHECKPOINT. */
  checkpoints: number[]
  /** Set while this is the segment being appended to. */
  file: AppendFile | null
  reader: Promise<FileHandle> | null
  deleted: boolean
}

export const segmentPath = (dir: string, firstSeq: number): string => join(dir, `seg-${String(firstSeq).padStart(16, '0')}.log`)
export const SEGMENT_RE = /^seg-(\d+)\.log$/

export function newSegment (path: string, firstSeq: number): Segment {
  return { path, firstSeq, lastSeq: firstSeq - 1, count: 0, bytes: 0, newestMs: 0, perDevice: new Map(), checkpoints: [], file: null, reader: null, deleted: false }
}

/** Bytes a reader may look at: only what is known to be on disk. */
export const durableBytes = (seg: Segment): number => (seg.file === null ? seg.bytes : seg.file.durableSize)

export function noteRecord (seg: Segment, meta: RecordMeta, offset: number, length: number): void {
  if ((meta.seq - seg.firstSeq) % CHECKPOINT === 0) seg.checkpoints.push(offset)
  seg.lastSeq = meta.seq
  seg.count++
  seg.bytes = offset + length
  if (meta.atMs > seg.newestMs) seg.newestMs = meta.atMs
  seg.perDevice.set(meta.deviceKey, (seg.perDevice.get(meta.deviceKey) ?? 0) + 1)
}

export interface ScannedSegment {
  segment: Segment | null
  validBytes: number
  droppedBytes: number
  dropReason: string | null
}

/** Rebuilds a segment summary from its file; `onRecord` feeds the per-device index. */
export async function scanSegment (path: string, onRecord: (meta: RecordMeta, seg: Segment, offset: number, length: number) => void): Promise<ScannedSegment> {
  const buf = await readFile(path)
  const first = decodeFrameAt(buf, 0)
  const header = first.kind === 'frame' ? decodeSegmentHeader(first.frame.payload) : null
  if (first.kind !== 'frame' || header === null) return { segment: null, validBytes: 0, droppedBytes: buf.length, dropReason: 'bad header' }
  const seg = newSegment(path, header.firstSeq)
  let offset = first.frame.end
  seg.bytes = offset
  let dropReason: string | null = null
  for (;;) {
    const r = decodeFrameAt(buf, offset)
    if (r.kind === 'end') break
    if (r.kind !== 'frame') { dropReason = r.kind === 'partial' ? 'torn' : r.reason; break }
    let meta: RecordMeta
    try { meta = decodeMeta(r.frame.payload) } catch { dropReason = 'unparseable record'; break }
    if (meta.seq !== seg.lastSeq + 1) { dropReason = `out-of-order seq ${meta.seq}`; break }
    noteRecord(seg, meta, offset, r.frame.end - offset)
    onRecord(meta, seg, offset, r.frame.end - offset)
    offset = r.frame.end
  }
  return { segment: seg, validBytes: offset, droppedBytes: buf.length - offset, dropReason }
}

export async function readAt (seg: Segment, offset: number, length: number): Promise<Buffer> {
  seg.reader ??= open(seg.path, 'r')
  const buf = Buffer.allocUnsafe(length)
  const { bytesRead } = await (await seg.reader).read(buf, 0, length, offset)
  return bytesRead === length ? buf : buf.subarray(0, bytesRead)
}
