// Schema migrations: pure functions over the plain snapshot object, one step per version
// (vN -> vN+1), each tested. Journal records carry the schema version of their file header;
// a step may also rewrite a journal op written under the old version.
import type { CollectionName, StoreOp } from './types.js'

export const SCHEMA_VERSION = 1

export const COLLECTIONS: readonly CollectionName[] = ['devices', 'twins', 'policies', 'settings', 'sessions', 'c2d', 'meta', 'jobs', 'firmware', 'deviceJobs', 'commands', 'configurations', 'configurationTwins', 'serialPorts', 'sync', 'accounts', 'audit', 'uiViews']

/** The current (v1) snapshot layout. */
export interface SnapshotData {
  schemaVersion: number
  /** Last journal sequence number contained in this snapshot. */
  journalSeq: number
  /** Journal files with a generation below this are fully contained in this snapshot. */
  journalGen: number
  collections: Record<string, Record<string, unknown>>
}

export interface Migration {
  from: number
  snapshot(data: Record<string, unknown>): Record<string, unknown>
  op(op: StoreOp): StoreOp
}

/**
 * v0 -> v1. v0 was the pre-release file: `{ devices: {...}, twins: {...}, ... }` at top level,
 * no schemaVersion, no journal. v1 wraps the collections and adds the journal cursor.
 */
export function v0ToV1 (data: Record<string, unknown>): Record<string, unknown> {
  const collections: Record<string, unknown> = {}
  for (const name of COLLECTIONS) collections[name] = isObject(data[name]) ? data[name] : {}
  return { schemaVersion: 1, journalSeq: 0, journalGen: 0, collections }
}

export const MIGRATIONS: readonly Migration[] = [
  { from: 0, snapshot: v0ToV1, op: (op) => op }
]

/** Schema version of a plain snapshot object (a missing field means the v0 layout). */
export function versionOf (data: Record<string, unknown>): number {
  const v = data['schemaVersion']
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0
}

export function tooNewMessage (found: number, where: string): string {
  return `${where} was written with store schema v${found}, but this Sitehub only knows up to v${SCHEMA_VERSION}: ` +
    'upgrade Sitehub (or point it at another data dir); the files were left untouched'
}

/** Runs every step from the data's version to the current one. Throws on a newer version. */
export function migrateSnapshot (data: Record<string, unknown>, where = 'the data dir'): SnapshotData {
  let v = versionOf(data)
  if (v > SCHEMA_VERSION) throw new Error(tooNewMessage(v, where))
  let cur = data
  for (const step of MIGRATIONS) {
    if (step.from === v) { cur = step.snapshot(cur); v = versionOf(cur) }
  }
  if (v !== SCHEMA_VERSION) throw new Error(`no migration path from store schema v${versionOf(data)} to v${SCHEMA_VERSION}`)
  return normalize(cur)
}

/** Brings a journal op written under `version` up to the current schema. */
export function migrateOp (op: StoreOp, version: number): StoreOp {
  let cur = op
  for (const step of MIGRATIONS) if (step.from >= version) cur = step.op(cur)
  return cur
}

function normalize (data: Record<string, unknown>): SnapshotData {
  const cols = isObject(data['collections']) ? data['collections'] as Record<string, unknown> : {}
  const collections: Record<string, Record<string, unknown>> = {}
  for (const name of COLLECTIONS) {
    const c = cols[name]
    collections[name] = isObject(c) ? c as Record<string, unknown> : {}
  }
  const num = (k: string): number => (typeof data[k] === 'number' ? data[k] as number : 0)
  return { schemaVersion: SCHEMA_VERSION, journalSeq: num('journalSeq'), journalGen: num('journalGen'), collections }
}

function isObject (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}
