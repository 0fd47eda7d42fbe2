// Exact drop accounting that survives restarts. drops.json is rewritten atomically BEFORE a
// segment is deleted and records the last seq it covers: a crash between the two leaves a
// segment that open() recognises as already counted (lastSeq <= droppedThroughSeq) and just
// deletes, so nothing is counted twice or missed.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isCode, writeFileAtomic } from '../store/fs-util.js'

export interface DropCounters {
  droppedBySize: number
  droppedByAge: number
  droppedPerDevice: Record<string, number>
  /** Highest seq ever dropped; also keeps seqs from being reused when every segment is gone. */
  droppedThroughSeq: number
}

export const emptyDrops = (): DropCounters => ({ droppedBySize: 0, droppedByAge: 0, droppedPerDevice: {}, droppedThroughSeq: 0 })

export const dropsPath = (dir: string): string => join(dir, 'drops.json')

export async function readDrops (dir: string): Promise<{ drops: DropCounters; problem: string | null }> {
  try {
    const raw = JSON.parse(await readFile(dropsPath(dir), 'utf8')) as Partial<DropCounters>
    const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0)
    const perDevice: Record<string, number> = {}
    for (const [k, v] of Object.entries(raw.droppedPerDevice ?? {})) perDevice[k] = num(v)
    return {
      drops: { droppedBySize: num(raw.droppedBySize), droppedByAge: num(raw.droppedByAge), droppedPerDevice: perDevice, droppedThroughSeq: num(raw.droppedThroughSeq) },
      problem: null
    }
  } catch (err) {
    if (isCode(err, 'ENOENT')) return { drops: emptyDrops(), problem: null }
    return { drops: emptyDrops(), problem: `telemetry drops.json unreadable (${(err as Error).message}); drop counters restart at 0` }
  }
}

export async function writeDrops (dir: string, drops: DropCounters, fsync: boolean): Promise<void> {
  await writeFileAtomic(dropsPath(dir), JSON.stringify(drops), fsync)
}
