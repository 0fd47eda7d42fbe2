// The durable telemetry log: segment files of binary frames, group-committed like the store
// journal. A queue the upstream sync resumes from a cursor (read), a per-device history
// (history), and retention by size and age with exact drop counts (retention.ts).
import { mkdir, readdir, truncate, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { openAppendFile } from '../store/append-file.js'
import type { TelemetryStats } from '../services.js'
import type { Clock, HubEvents, Logger, StoredTelemetry, TelemetryMessage } from '../types.js'
import { deviceKeyOf, encodeRecord, encodeSegmentHeader } from './codec.js'
import { readDrops } from './drops.js'
import { readOne, readSegment } from './reader.js'
import { createRetention } from './retention.js'
import { SEGMENT_RE, durableBytes, newSegment, noteRecord, scanSegment, segmentPath } from './segment.js'
import type { Segment } from './segment.js'

export interface TelemetryLogOptions {
  /** The log's own directory (the hub passes `<dataDir>/telemetry`). */
  dir: string
  /** Total size kept (default 1 GiB); the oldest segments go first. */
  maxBytes?: number
  /** Age kept (default 7 days), by enqueuedTime. */
  maxAgeMs?: number
  /** Segment size (default min(64 MiB, maxBytes / 8)): the unit of deletion. */
  segmentBytes?: number
  fsync?: boolean
  clock?: Clock
  logger?: Logger
  /** Called after messages were dropped by retention (the core emits 'telemetry.dropped'). */
  onDrop?: (drop: HubEvents['telemetry.dropped']) => void
  /** Awaited before retention deletes a segment (see retention.ts). */
  beforeDrop?: (range: { firstSeq: number; lastSeq: number }) => Promise<void>
  /** How often age retention runs (default 60 s; 0 disables the timer, call retain()). */
  retentionIntervalMs?: number
}

export interface TelemetryRecovery { segments: number; messages: number; droppedBytes: number; problems: string[] }

export interface TelemetryLog {
  /** Durable append; resolves with the message's seq once it is fsynced (safe to PUBACK). */
  append(msg: TelemetryMessage): Promise<number>
  /** Messages with seq >= fromSeq, oldest first, at most `limit`. */
  read(fromSeq: number, limit: number): Promise<StoredTelemetry[]>
  /** The device's most recent messages (deviceKey `d` or `d/m`), newest last. */
  history(deviceKey: string, limit: number): Promise<StoredTelemetry[]>
  /** One device's messages with seq >= fromSeq, oldest first, at most `limit` (segments without the device are skipped). */
  readDevice(deviceKey: string, fromSeq: number, limit: number): Promise<StoredTelemetry[]>
  /** How many messages of the device the log holds now. */
  deviceCount(deviceKey: string): number
  stats(): TelemetryStats
  /** Apply retention now (also runs after each segment roll and on a timer). */
  retain(): Promise<void>
  readonly recovery: TelemetryRecovery
  close(): Promise<void>
}

/** Positions of each device's latest messages, so history() never scans the log. */
const INDEX_DEPTH = 100
/** Retention defaults: 1 GiB, 7 days (the settings screen shows what a hub runs with). */
export const DEFAULT_RETENTION = { maxBytes: 1024 ** 3, maxAgeMs: 7 * 24 * 3600 * 1000 } as const
interface IndexEntry { seq: number; seg: Segment; offset: number; length: number }

export async function openTelemetryLog (opts: TelemetryLogOptions): Promise<TelemetryLog> {
  const { dir } = opts
  const fsync = opts.fsync ?? true
  const clock = opts.clock ?? { now: () => Date.now() }
  const maxBytes = opts.maxBytes ?? DEFAULT_RETENTION.maxBytes
  const segmentBytes = Math.max(4096, Math.min(opts.segmentBytes ?? 64 * 1024 * 1024, Math.floor(maxBytes / 8)))
  await mkdir(dir, { recursive: true })

  const problems: string[] = []
  const { drops, problem } = await readDrops(dir)
  if (problem !== null) problems.push(problem)
  const index = new Map<string, IndexEntry[]>()
  const remember = (key: string, e: IndexEntry): void => {
    let list = index.get(key)
    if (list === undefined) { list = []; index.set(key, list) }
    list.push(e)
    if (list.length > INDEX_DEPTH) list.shift()
  }

  // Rebuild from the files: summaries, per-device index, torn tails.
  const segments: Segment[] = []
  let droppedBytes = 0
  const names = (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort()
  for (const [i, name] of names.entries()) {
    const path = join(dir, name)
    const scan = await scanSegment(path, (meta, seg, offset, length) => remember(meta.deviceKey, { seq: meta.seq, seg, offset, length }))
    const seg = scan.segment
    if (seg !== null && seg.count > 0 && seg.lastSeq <= drops.droppedThroughSeq) {
      seg.deleted = true
      await unlink(path) // its drop was counted; the crash came before the delete
      continue
    }
    if (scan.droppedBytes > 0) {
      droppedBytes += scan.droppedBytes
      if (i !== names.length - 1 || scan.dropReason !== 'torn') problems.push(`${name}: ${scan.droppedBytes} bytes after offset ${scan.validBytes} dropped (${scan.dropReason ?? '?'})`)
      if (seg === null) { await unlink(path); continue }
      await truncate(path, scan.validBytes)
    }
    if (seg !== null) segments.push(seg)
  }
  const last = segments[segments.length - 1]
  let nextSeq = Math.max(drops.droppedThroughSeq, ...segments.map((s) => s.lastSeq)) + 1
  let active: Segment | null = null
  if (last !== undefined && last.bytes < segmentBytes && last.lastSeq + 1 === nextSeq) {
    last.file = openAppendFile({ path: last.path, existingSize: last.bytes, fsync })
    active = last
  }
  let totalBytes = segments.reduce((n, s) => n + s.bytes, 0)
  let totalMessages = segments.reduce((n, s) => n + s.count, 0)

  const retention = createRetention({
    dir, fsync, clock, drops, segments, maxBytes, maxAgeMs: opts.maxAgeMs ?? DEFAULT_RETENTION.maxAgeMs,
    isActive: (s) => s === active,
    seal: (s) => { if (s === active) roll() },
    onDropped: (seg) => { totalBytes -= seg.bytes; totalMessages -= seg.count },
    ...(opts.onDrop === undefined ? {} : { onDrop: opts.onDrop }),
    ...(opts.beforeDrop === undefined ? {} : { beforeDrop: opts.beforeDrop }),
    ...(opts.logger === undefined ? {} : { logger: opts.logger })
  })

  /** Seal the active segment; the next append starts a new one. */
  function roll (): void {
    const seg = active
    if (seg === null) return
    active = null
    const file = seg.file
    file?.close().then(() => { seg.file = null }, (err: unknown) => opts.logger?.error('telemetry: closing segment failed', { error: String(err) }))
  }

  let closed = false
  let failed: Error | null = null
  const timerMs = opts.retentionIntervalMs ?? 60_000
  const timer = timerMs > 0 ? setInterval(() => { void retention.run() }, timerMs) : null
  timer?.unref()
  await retention.run()

  return {
    recovery: { segments: segments.length, messages: totalMessages, droppedBytes, problems },
    append (msg) {
      if (closed) return Promise.reject(new Error('telemetry log is closed'))
      if (failed !== null) return Promise.reject(failed)
      const seq = nextSeq
      const frame = encodeRecord(seq, msg)
      nextSeq++
      let seg = active
      if (seg === null) {
        seg = newSegment(segmentPath(dir, seq), seq)
        seg.file = openAppendFile({ path: seg.path, header: encodeSegmentHeader(seq, clock.now()), fsync })
        seg.bytes = seg.file.size
        totalBytes += seg.bytes
        segments.push(seg)
        active = seg
      }
      const file = seg.file as NonNullable<Segment['file']>
      const offset = file.size
      const p = file.append(frame)
      const key = deviceKeyOf(msg)
      const at = Date.parse(msg.enqueuedTime)
      noteRecord(seg, { seq, deviceKey: key, atMs: Number.isNaN(at) ? clock.now() : at }, offset, frame.length)
      remember(key, { seq, seg, offset, length: frame.length })
      totalBytes += frame.length
      totalMessages++
      if (seg.bytes >= segmentBytes) {
        roll()
        void retention.run()
      }
      // After a failed write the in-memory summaries no longer match the file: stop appending
      // (reject, so nothing is acknowledged) until a restart rebuilds them from disk.
      return p.then(() => seq, (err: Error) => { failed ??= new Error(`telemetry log stopped after a write error: ${err.message}`); throw err })
    },
    async read (fromSeq, limit) {
      const out: StoredTelemetry[] = []
      for (const seg of segments.slice()) {
        if (out.length >= limit) break
        if (seg.lastSeq < fromSeq || seg.deleted) continue
        await readSegment(seg, fromSeq, limit, out)
      }
      return out
    },
    async readDevice (deviceKey, fromSeq, limit) {
      const out: StoredTelemetry[] = []
      for (const seg of segments.slice()) {
        if (out.length >= limit) break
        if (seg.lastSeq < fromSeq || seg.deleted || !seg.perDevice.has(deviceKey)) continue
        await readSegment(seg, fromSeq, limit, out, (r) => deviceKeyOf(r) === deviceKey)
      }
      return out
    },
    deviceCount: (deviceKey) => segments.reduce((n, s) => n + (s.deleted ? 0 : s.perDevice.get(deviceKey) ?? 0), 0),
    async history (deviceKey, limit) {
      const list = (index.get(deviceKey) ?? []).filter((e) => !e.seg.deleted && e.offset + e.length <= durableBytes(e.seg))
      if (limit > list.length && list.length >= INDEX_DEPTH) return await scanHistory(segments, deviceKey, limit)
      return await Promise.all(list.slice(-limit).map(async (e) => await readOne(e.seg, e.offset, e.length)))
    },
    stats: () => {
      const nonEmpty = segments.filter((s) => s.count > 0)
      return {
        messages: totalMessages,
        bytes: totalBytes,
        oldestSeq: nonEmpty[0]?.firstSeq ?? null,
        newestSeq: nonEmpty[nonEmpty.length - 1]?.lastSeq ?? null,
        droppedBySize: drops.droppedBySize,
        droppedByAge: drops.droppedByAge,
        droppedPerDevice: { ...drops.droppedPerDevice }
      }
    },
    retain: async () => { await retention.run() },
    async close () {
      if (closed) return
      closed = true
      if (timer !== null) clearInterval(timer)
      await retention.idle()
      for (const seg of segments) {
        const file = seg.file
        if (file !== null) { await file.close(); seg.file = null }
        if (seg.reader !== null) { await (await seg.reader).close(); seg.reader = null }
      }
    }
  }
}


/** Slow path for history deeper than the index: scan every segment. */
async function scanHistory (segments: Segment[], deviceKey: string, limit: number): Promise<StoredTelemetry[]> {
  const out: StoredTelemetry[] = []
  for (const seg of segments.slice()) {
    if (seg.deleted || !seg.perDevice.has(deviceKey)) continue
    await readSegment(seg, seg.firstSeq, Number.MAX_SAFE_INTEGER, out, (r) => deviceKeyOf(r) === deviceKey)
    if (out.length > limit) out.splice(0, out.length - limit)
  }
  return out
}
