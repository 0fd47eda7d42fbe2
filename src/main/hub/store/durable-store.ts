// The durable HubStore: Maps in memory, an append-only journal in front of a lowdb snapshot.
// A write is applied to memory at call time, framed into the journal at once (so journal order
// is call order), and resolves after the group commit that carries it is fdatasync'ed.
import { mkdir, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { openAppendFile } from './append-file.js'
import type { AppendFile } from './append-file.js'
import { fsyncDir } from './fs-util.js'
import { encodeHeader, encodeRecord, journalPath, listJournals } from './journal.js'
import { acquireLock } from './lock.js'
import { COLLECTIONS, SCHEMA_VERSION } from './migrations.js'
import { recover } from './recover.js'
import { createSnapshotWriter } from './snapshot.js'
import type { Capture } from './snapshot.js'
import type { CollectionName, Collections, HubStore, StoreOp, StoreStats } from './types.js'
import type { Clock, Logger } from '../types.js'

export interface OpenStoreOptions {
  /** The hub data dir; the store lives in `<dir>/store/`. */
  dir: string
  /** fdatasync every group commit (default true). */
  fsync?: boolean
  /** Compact (new snapshot, fresh journal) when the journal grows past this (default 64 MiB). */
  compactAfterBytes?: number
  logger?: Logger
  clock?: Clock
}

export interface DurableStoreStats extends StoreStats {
  /** Group commits (write + fdatasync rounds); `commits` counts records. */
  fsyncs: number
  journalSeq: number
}

export interface DurableHubStore extends HubStore {
  stats(): DurableStoreStats
  /** Write a snapshot now and retire covered journals (also runs by size and on close). */
  compact(): Promise<void>
}

const DEFAULT_COMPACT_AFTER = 64 * 1024 * 1024

export async function openStore (opts: OpenStoreOptions): Promise<DurableHubStore> {
  const root = join(opts.dir, 'store')
  await mkdir(root, { recursive: true })
  const lock = await acquireLock(join(root, 'LOCK'))
  try {
    return await start(root, opts, lock.release)
  } catch (err) {
    await lock.release()
    throw err
  }
}

async function start (root: string, opts: OpenStoreOptions, releaseLock: () => Promise<void>): Promise<DurableHubStore> {
  const fsync = opts.fsync ?? true
  const compactAfter = opts.compactAfterBytes ?? DEFAULT_COMPACT_AFTER
  const now = (): number => opts.clock?.now() ?? Date.now()
  const paths = { root, db: join(root, 'db.json'), prev: join(root, 'db.prev.json') }
  await removeTempFiles(root)
  const rec = await recover(paths, now(), opts.logger)
  if (rec.report.problems.length > 0) opts.logger?.warn('store: recovered with problems', { problems: rec.report.problems })
  const { maps, report } = rec
  const map = (c: CollectionName): Map<string, unknown> => {
    const m = maps.get(c)
    if (m === undefined) throw new Error(`unknown collection '${String(c)}'`)
    return m
  }

  let seq = rec.lastSeq
  let gen = Math.max(rec.maxGen + 1, rec.snapshotGen)
  let snapshotGen = rec.snapshotGen
  let snapshotSeq = rec.report.replayed === 0 ? rec.lastSeq : -1
  let snapshotBytes = rec.snapshotBytes
  let journalBytes = rec.journalBytes
  let records = 0
  let retiredFsyncs = 0
  let compactions = 0
  let compacting: Promise<void> | null = null
  /** The previous journal finishing its last group commits after a cut (flush waits for it). */
  let retiring: Promise<void> = Promise.resolve()
  let closed = false
  const newJournal = (g: number): AppendFile =>
    openAppendFile({ path: journalPath(root, g), header: encodeHeader(g, SCHEMA_VERSION, now()), fsync })
  let journal = newJournal(gen)
  let journalRecords = 0
  journalBytes += journal.size
  const snapshots = createSnapshotWriter(paths.db, paths.prev, fsync)

  function write (ops: StoreOp[]): Promise<void> {
    if (closed) return Promise.reject(new Error('store is closed'))
    let frame: Buffer
    try {
      for (const op of ops) map(op.c)
      // Encode before applying: a doc JSON cannot represent must not reach memory either.
      frame = encodeRecord(seq + 1, ops)
    } catch (err) {
      return Promise.reject(err)
    }
    seq++
    for (const op of ops) {
      if (op.op === 'put') map(op.c).set(op.id, op.doc)
      else map(op.c).delete(op.id)
    }
    records++
    journalRecords++
    journalBytes += frame.length
    // If this rejects (I/O error) the change stays in memory but is not durable: the caller
    // got the error and must not acknowledge; a restart shows the durable state.
    const p = journal.append(frame)
    if (journalBytes > compactAfter && compacting === null) {
      compact(false).catch((err: unknown) => opts.logger?.error('store: compaction failed', { error: String(err) }))
    }
    return p
  }

  /**
   * Rotate, snapshot, retire. The cut is synchronous: from then on writes go to the new journal
   * (seq > cut) while the snapshot of everything <= cut is written in the background, so
   * writers never wait for a compaction. Crash at any point: the old journals are deleted only
   * once the snapshot that contains them is fsynced, and replay skips seq <= snapshot.journalSeq.
   */
  function compact (final: boolean): Promise<void> {
    if (compacting !== null) return final ? compacting.then(async () => await compact(true)) : compacting
    const run = (async () => {
      const cutSeq = seq
      const old = journal
      const capture: Capture = {}
      for (const name of COLLECTIONS) capture[name] = Array.from(map(name))
      const nextGen = gen + 1
      if (!final) { journal = newJournal(nextGen); journalBytes = journal.size; journalRecords = 0 }
      gen = nextGen
      retiring = old.close()
      await retiring
      retiredFsyncs += old.commits
      snapshotBytes = await snapshots.write(capture, cutSeq, nextGen)
      // db.prev.json (the snapshot just replaced) still needs the journals from its own gen on.
      const keepFrom = snapshotGen
      snapshotGen = nextGen
      snapshotSeq = cutSeq
      for (const j of await listJournals(root)) if (j.gen < keepFrom) await unlink(j.path)
      if (fsync) await fsyncDir(root)
      compactions++
      opts.logger?.debug('store: compacted', { journalSeq: cutSeq, snapshotBytes })
    })()
    compacting = run.finally(() => { compacting = null })
    return compacting
  }

  if (rec.needsCompaction) {
    // A failure here (disk full...) must not stop the hub: the journals still hold everything.
    await compact(false).catch((err: unknown) => {
      report.problems.push(`could not write a fresh snapshot after recovery: ${String(err)}`)
      opts.logger?.error('store: compaction after recovery failed', { error: String(err) })
    })
  }

  const store: DurableHubStore = {
    get: <C extends CollectionName>(c: C, id: string) => map(c).get(id) as Collections[C] | undefined,
    has: (c, id) => map(c).has(id),
    entries: <C extends CollectionName>(c: C) => map(c).entries() as IterableIterator<[string, Collections[C]]>,
    size: (c) => map(c).size,
    put: (c, id, doc) => write([{ op: 'put', c, id, doc } as StoreOp]),
    del: (c, id) => write([{ op: 'del', c, id }]),
    batch: (ops) => (ops.length === 0 ? Promise.resolve() : write(ops)),
    flush: async () => { await Promise.all([retiring, journal.drain()]) },
    recovery: report,
    stats: () => ({
      journalBytes,
      snapshotBytes,
      commits: records,
      fsyncs: retiredFsyncs + journal.commits,
      journalSeq: seq,
      compactions,
      docs: Object.fromEntries(COLLECTIONS.map((n) => [n, map(n).size])) as Record<CollectionName, number>
    }),
    compact: async () => { await compact(false) },
    async close () {
      if (closed) return
      closed = true
      try {
        if (compacting !== null) await compacting.catch(() => {})
        await journal.drain().catch(() => {})
        // Nothing new since the last snapshot: keep it (and skip rewriting 100k twins).
        if (seq !== snapshotSeq) {
          await compact(true)
        } else {
          await journal.close()
          // Opened and closed without a write: do not leave an empty journal per restart.
          if (journalRecords === 0) await unlink(journal.path).catch(() => {})
        }
      } finally {
        await releaseLock()
      }
    }
  }
  return store
}

/** Temp files (steno's .db.json.tmp, our db.prev.json.tmp) left by a crash are garbage: their rename never happened. */
async function removeTempFiles (root: string): Promise<void> {
  for (const name of await readdir(root)) {
    if (name.endsWith('.tmp')) await unlink(join(root, name)).catch(() => {})
  }
}
