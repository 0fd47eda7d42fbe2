// Opening a data dir: snapshot (or the previous one if it is unreadable), migrations, then
// the journals in order, dropping torn tails. Never refuses a recoverable dir; everything it
// could not recover is written into the report. Only a newer schema is refused.
import { readFile, truncate, unlink, writeFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { listJournals, scanJournal } from './journal.js'
import { COLLECTIONS, SCHEMA_VERSION, migrateOp, migrateSnapshot, tooNewMessage, versionOf } from './migrations.js'
import { readSnapshot, setAside } from './snapshot.js'
import type { SnapshotData } from './migrations.js'
import type { CollectionName, RecoveryReport, StoreOp } from './types.js'
import type { Logger } from '../types.js'

export interface Recovered {
  maps: Map<CollectionName, Map<string, unknown>>
  report: RecoveryReport
  lastSeq: number
  /** journalGen of the snapshot loaded (journals below it are contained in it). */
  snapshotGen: number
  snapshotBytes: number
  /** Highest journal generation on disk (-1 if none). */
  maxGen: number
  /** Journal bytes not yet contained in the snapshot. */
  journalBytes: number
  /** True when a fresh snapshot should be written at once (migrated or damaged files). */
  needsCompaction: boolean
}

export interface RecoverPaths { root: string; db: string; prev: string }

export async function recover (paths: RecoverPaths, now: number, logger?: Logger): Promise<Recovered> {
  const problems: string[] = []
  const { data, fromVersion, bytes, damaged } = await loadSnapshot(paths, now, problems)
  const maps = new Map<CollectionName, Map<string, unknown>>()
  for (const name of COLLECTIONS) maps.set(name, new Map(Object.entries(data.collections[name] ?? {})))

  let lastSeq = data.journalSeq
  let replayed = 0
  let droppedBytes = 0
  let journalBytes = 0
  let oldJournal = false
  const journals = await listJournals(paths.root)
  for (const [i, j] of journals.entries()) {
    const buf = await readFile(j.path)
    const scan = scanJournal(buf, (seq, ops, version) => {
      if (version > SCHEMA_VERSION) throw new Error(tooNewMessage(version, basename(j.path)))
      if (seq <= lastSeq) return // already in the snapshot
      if (seq !== lastSeq + 1) problems.push(`journal records ${lastSeq + 1}..${seq - 1} are missing; those writes are lost`)
      for (const op of ops) apply(maps, version < SCHEMA_VERSION ? migrateOp(op, version) : op)
      if (version < SCHEMA_VERSION) oldJournal = true
      lastSeq = seq
      replayed++
    })
    if (j.gen >= data.journalGen) journalBytes += scan.validBytes
    if (scan.droppedBytes === 0) continue
    droppedBytes += scan.droppedBytes
    const isTail = i === journals.length - 1
    if (scan.validBytes === 0) {
      // Torn while being created (header not fully written): it never held an acknowledged write.
      await unlink(j.path)
      if (buf.length > 64) problems.push(`${basename(j.path)}: unreadable header, ${buf.length} bytes dropped`)
      continue
    }
    if (!isTail || scan.dropReason !== 'torn') {
      // Not a plain torn tail: keep the dropped bytes for forensics before cutting them off.
      const aside = `${j.path}.dropped-${now}`
      await writeFile(aside, buf.subarray(scan.validBytes))
      problems.push(`${basename(j.path)}: ${scan.droppedBytes} bytes after offset ${scan.validBytes} dropped (${scan.dropReason ?? 'unknown'}); saved to ${basename(aside)}`)
    }
    logger?.warn('store: dropped torn journal tail', { file: j.path, bytes: scan.droppedBytes, reason: scan.dropReason })
    await truncate(j.path, scan.validBytes)
  }

  const maxGen = journals.length > 0 ? (journals[journals.length - 1] as { gen: number }).gen : -1
  const hadData = bytes > 0 || journals.length > 0
  return {
    maps,
    report: { fromSchemaVersion: fromVersion, schemaVersion: SCHEMA_VERSION, replayed, droppedBytes, problems },
    lastSeq,
    snapshotGen: data.journalGen,
    snapshotBytes: bytes,
    maxGen,
    journalBytes,
    needsCompaction: hadData && (fromVersion < SCHEMA_VERSION || oldJournal || damaged)
  }
}

function apply (maps: Map<CollectionName, Map<string, unknown>>, op: StoreOp): void {
  const m = maps.get(op.c)
  if (m === undefined) return // a collection this version no longer has
  if (op.op === 'put') m.set(op.id, op.doc)
  else m.delete(op.id)
}

interface Loaded { data: SnapshotData; fromVersion: number; bytes: number; damaged: boolean }

async function loadSnapshot (paths: RecoverPaths, now: number, problems: string[]): Promise<Loaded> {
  const empty = (): Loaded => ({ data: migrateSnapshot({ schemaVersion: SCHEMA_VERSION }), fromVersion: 0, bytes: 0, damaged: false })
  const first = await readSnapshot(paths.db)
  if (first.kind === 'ok') return fromRaw(first.data, first.bytes, basename(paths.db), false)
  let damaged = false
  if (first.kind === 'corrupt') {
    const aside = await setAside(paths.db, now)
    problems.push(`snapshot ${basename(paths.db)} is unreadable (${first.reason}); kept as ${basename(aside)}`)
    damaged = true
  }
  const prev = await readSnapshot(paths.prev)
  if (prev.kind === 'ok') {
    if (damaged) problems.push(`recovered from the previous snapshot ${basename(paths.prev)} plus the journals`)
    return fromRaw(prev.data, prev.bytes, basename(paths.prev), true)
  }
  if (prev.kind === 'corrupt') {
    const aside = await setAside(paths.prev, now)
    problems.push(`previous snapshot is unreadable too (${prev.reason}); kept as ${basename(aside)}`)
    damaged = true
  }
  if (damaged) problems.push('no readable snapshot: starting from the journals alone; documents not in them are lost')
  return { ...empty(), damaged }
}

function fromRaw (raw: Record<string, unknown>, bytes: number, where: string, damaged: boolean): Loaded {
  // Throws (refuses to open) when the snapshot comes from a newer schema.
  return { data: migrateSnapshot(raw, where), fromVersion: versionOf(raw), bytes, damaged }
}
