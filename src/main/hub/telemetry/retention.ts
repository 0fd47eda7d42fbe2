// Retention: whole oldest segments go, by age (newest message older than maxAgeMs) or by total
// size (over maxBytes). Counts are exact because a segment's summary knows how many messages
// of each device it holds; drops.json is written before the file is deleted (see drops.ts).
import { unlink } from 'node:fs/promises'
import type { Clock, HubEvents, Logger } from '../types.js'
import { writeDrops } from './drops.js'
import type { DropCounters } from './drops.js'
import type { Segment } from './segment.js'

type Reason = 'size' | 'age'

export interface RetentionDeps {
  dir: string
  fsync: boolean
  clock: Clock
  /** Shared with the log (its stats() reads them); updated in place. */
  drops: DropCounters
  /** The log's segment list, oldest first; retention removes from its head. */
  segments: Segment[]
  maxBytes: number
  maxAgeMs: number
  isActive(seg: Segment): boolean
  /** Stop appending to `seg` (an expired active segment). */
  seal(seg: Segment): void
  onDropped(seg: Segment): void
  onDrop?: (drop: HubEvents['telemetry.dropped']) => void
  /** Awaited before a segment's messages are counted and deleted (the sync attributes unsent ones per device). */
  beforeDrop?: (range: { firstSeq: number; lastSeq: number }) => Promise<void>
  logger?: Logger
}

export interface Retention {
  /** Runs retention (coalesced: a call during a run schedules one more run). */
  run(): Promise<void>
  idle(): Promise<void>
}

export function createRetention (deps: RetentionDeps): Retention {
  let running: Promise<void> | null = null
  let again = false

  function pick (): { seg: Segment; reason: Reason | null } | null {
    const seg = deps.segments[0]
    if (seg === undefined) return null
    if (seg.count === 0) return deps.isActive(seg) || deps.segments.length === 1 ? null : { seg, reason: null }
    if (seg.newestMs < deps.clock.now() - deps.maxAgeMs) return { seg, reason: 'age' }
    const total = deps.segments.reduce((n, s) => n + s.bytes, 0)
    if (total > deps.maxBytes && !deps.isActive(seg)) return { seg, reason: 'size' }
    return null
  }

  async function once (): Promise<void> {
    const dropped: Record<Reason, { count: number; perDevice: Record<string, number> }> = {
      size: { count: 0, perDevice: {} }, age: { count: 0, perDevice: {} }
    }
    for (let next = pick(); next !== null; next = pick()) {
      const { seg, reason } = next
      if (deps.isActive(seg)) deps.seal(seg)
      if (reason !== null && deps.beforeDrop !== undefined && seg.count > 0) {
        try { await deps.beforeDrop({ firstSeq: seg.firstSeq, lastSeq: seg.lastSeq }) } catch (err) {
          deps.logger?.warn('telemetry: drop observer failed', { error: (err as Error).message })
        }
      }
      if (reason !== null) {
        // Persist the counters first; only then may the messages disappear.
        const counters: DropCounters = { ...deps.drops, droppedPerDevice: { ...deps.drops.droppedPerDevice } }
        counters[reason === 'size' ? 'droppedBySize' : 'droppedByAge'] += seg.count
        for (const [key, n] of seg.perDevice) {
          counters.droppedPerDevice[key] = (counters.droppedPerDevice[key] ?? 0) + n
          dropped[reason].perDevice[key] = (dropped[reason].perDevice[key] ?? 0) + n
        }
        counters.droppedThroughSeq = Math.max(counters.droppedThroughSeq, seg.lastSeq)
        await writeDrops(deps.dir, counters, deps.fsync)
        Object.assign(deps.drops, counters)
        dropped[reason].count += seg.count
      }
      seg.deleted = true
      deps.segments.shift()
      deps.onDropped(seg)
      await unlink(seg.path).catch(() => {})
      if (seg.reader !== null) { const r = seg.reader; seg.reader = null; await (await r).close().catch(() => {}) }
      deps.logger?.info('telemetry: segment dropped', { reason, messages: seg.count, firstSeq: seg.firstSeq, lastSeq: seg.lastSeq })
    }
    for (const reason of ['age', 'size'] as const) {
      const d = dropped[reason]
      if (d.count > 0) deps.onDrop?.({ reason, count: d.count, perDevice: d.perDevice })
    }
  }

  function run (): Promise<void> {
    if (running !== null) { again = true; return running }
    running = (async () => {
      try {
        do { again = false; await once() } while (again)
      } catch (err) {
        deps.logger?.error('telemetry: retention failed', { error: String(err) })
      } finally {
        running = null
      }
    })()
    return running
  }

  return { run, idle: async () => { if (running !== null) await running } }
}
