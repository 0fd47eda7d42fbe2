// Journal files: journal-<gen>.log, a header frame then one frame per record. A record is
// `{"seq":n,"ops":[...]}`: a put, a del, or a whole batch, so a batch is atomic on replay.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeFrameAt, encodeFrame, encodeFrameParts } from './frame.js'
import type { StoreOp } from './types.js'

export interface JournalFile { gen: number; path: string }

export const journalPath = (root: string, gen: number): string => join(root, `journal-${String(gen).padStart(10, '0')}.log`)

export async function listJournals (root: string): Promise<JournalFile[]> {
  const out: JournalFile[] = []
  for (const name of await readdir(root)) {
    const m = /^journal-(\d+)\.log$/.exec(name)
    if (m?.[1] !== undefined) out.push({ gen: Number(m[1]), path: join(root, name) })
  }
  return out.sort((a, b) => a.gen - b.gen)
}

export function encodeHeader (gen: number, schemaVersion: number, now: number): Buffer {
  return encodeFrame(Buffer.from(JSON.stringify({ type: 'sitehub-journal', schemaVersion, gen, createdAt: new Date(now).toISOString() })))
}

export function encodeRecord (seq: number, ops: readonly StoreOp[]): Buffer {
  return encodeFrameParts(null, `{"seq":${seq},"ops":${JSON.stringify(ops)}}`, null)
}

export interface JournalScan {
  /** Schema version from the header; null when the header itself is unreadable. */
  schemaVersion: number | null
  records: number
  /** Length of the valid prefix; anything after it is dropped. */
  validBytes: number
  droppedBytes: number
  /** Why bytes were dropped: 'torn' (incomplete frame at the end) or a corruption reason. */
  dropReason: string | null
}

/** Decodes a whole journal file, calling `onRecord` for each good record in order. */
export function scanJournal (buf: Buffer, onRecord: (seq: number, ops: StoreOp[], schemaVersion: number) => void): JournalScan {
  const scan: JournalScan = { schemaVersion: null, records: 0, validBytes: 0, droppedBytes: 0, dropReason: null }
  let offset = 0
  for (;;) {
    const r = decodeFrameAt(buf, offset)
    if (r.kind === 'end') break
    if (r.kind !== 'frame') { scan.dropReason = r.kind === 'partial' ? 'torn' : r.reason; break }
    let parsed: { type?: unknown; schemaVersion?: unknown; seq?: unknown; ops?: unknown }
    try {
      parsed = JSON.parse(r.frame.payload.toString('utf8')) as typeof parsed
    } catch {
      scan.dropReason = 'unparseable record'
      break
    }
    if (scan.schemaVersion === null) {
      if (parsed.type !== 'sitehub-journal' || typeof parsed.schemaVersion !== 'number') { scan.dropReason = 'bad header'; break }
      scan.schemaVersion = parsed.schemaVersion
    } else {
      if (typeof parsed.seq !== 'number' || !Array.isArray(parsed.ops)) { scan.dropReason = 'malformed record'; break }
      onRecord(parsed.seq, parsed.ops as StoreOp[], scan.schemaVersion)
      scan.records++
    }
    offset = r.frame.end
  }
  scan.validBytes = offset
  scan.droppedBytes = buf.length - offset
  return scan
}
