// IndexedCollection: the rows a query runs over, kept by the owning service (upsert/remove)
// with hash indexes on paths so that selective equality queries (`deviceId = 'x'`,
// `deviceId IN [...]`, `tags.site = 'a' AND properties.reported.fw = '1.2.0'`) touch only
// the matching rows instead of scanning every twin.
//
// Indexes map a primitive value (evaluate.ts primitiveKey, i.e. the same-type equality of
// `=`) to the ids holding it. `deviceId` is indexed from the start; other paths get an
// index the first time a query asks for them (if the policy allows), built by one pass over
// the rows and then maintained on every upsert/remove. Each index also remembers the key it
// filed each id under, so a caller that mutates a document in place and upserts it again
// cannot leave a stale entry behind.
import { primitiveKey } from './evaluate.js'
import { compileGetter, pathKey, type Getter } from './paths.js'

export interface IndexedCollectionOptions {
  /** Paths (as stored, e.g. ['deviceId']) indexed from the start. Default [['deviceId']]. */
  indexes?: ReadonlyArray<readonly string[]>
  /** May `path` get an index on first use? Default: defaultAutoIndex. */
  autoIndex?: (path: readonly string[]) => boolean
  /** Cap on the number of indexes (memory bound); beyond it queries scan. Default 64. */
  maxIndexes?: number
}

export interface IndexedCollection<T extends object> extends Iterable<T> {
  readonly size: number
  /** Insert or replace the document stored under `id` (e.g. the twin key `d1` or `d1/m1`). */
  upsert(id: string, doc: T): void
  /** Remove `id`; false when absent. */
  remove(id: string): boolean
  get(id: string): T | undefined
  has(id: string): boolean
  clear(): void
  /** Documents in collection order (first insertion; a replaced document keeps its place). */
  values(): IterableIterator<T>
  /**
   * How many documents hold one of `keys` (primitiveKey values) at `path`, building the
   * index on first use. Undefined when the path is not (and may not be) indexed.
   */
  count(path: readonly string[], keys: readonly string[]): number | undefined
  /** The stored rows holding one of `keys` at an indexed `path` (empty when not indexed). */
  refs(path: readonly string[], keys: readonly string[]): Iterable<RowRef<T>>
  /** Documents passing `predicate`, in collection order, at most `limit` (a scan without an iterator per row). */
  filter(predicate: (doc: T) => boolean, limit?: number): T[]
  /** Documents of refs, in collection order. */
  rows(refs: Iterable<RowRef<T>>): T[]
  /** Indexed paths, for diagnostics and tests. */
  indexedPaths(): string[][]
}

/**
 * Default auto-index policy: top-level fields (deviceId, moduleId, status, jobId, ...), any
 * `tags.*` path and any `properties.desired.*` / `properties.reported.*` path.
 */
export function defaultAutoIndex (path: readonly string[]): boolean {
  if (path.length === 1) return true
  if (path[0] === 'tags') return path.length >= 2
  return path[0] === 'properties' && (path[1] === 'desired' || path[1] === 'reported') && path.length >= 3
}

/** A stored row: its document and insertion rank. Buckets hold these, so a lookup needs no id -> row map access. */
export interface RowRef<T> { readonly doc: T; readonly ord: number }
interface Entry<T> { doc: T; ord: number }
interface HashIndex<T> {
  path: string[]
  get: Getter
  buckets: Map<string, Set<Entry<T>>>
  /** id -> the key it is filed under. */
  keyOf: Map<string, string>
}

const keyOfValue = (v: unknown): string | undefined =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? primitiveKey(v) : undefined

export function createIndexedCollection<T extends object> (options: IndexedCollectionOptions = {}): IndexedCollection<T> {
  const entries = new Map<string, Entry<T>>()
  const indexes = new Map<string, HashIndex<T>>()
  const autoIndex = options.autoIndex ?? defaultAutoIndex
  const maxIndexes = options.maxIndexes ?? 64
  let nextOrd = 0

  const file = (ix: HashIndex<T>, id: string, e: Entry<T>): void => {
    const key = keyOfValue(ix.get(e.doc))
    const old = ix.keyOf.get(id)
    if (key === old) return
    if (old !== undefined) unfile(ix, id, e)
    if (key !== undefined) {
      let b = ix.buckets.get(key)
      if (b === undefined) { b = new Set(); ix.buckets.set(key, b) }
      b.add(e)
      ix.keyOf.set(id, key)
    }
  }

  const unfile = (ix: HashIndex<T>, id: string, e: Entry<T>): void => {
    const old = ix.keyOf.get(id)
    if (old === undefined) return
    const b = ix.buckets.get(old)
    b?.delete(e)
    if (b?.size === 0) ix.buckets.delete(old)
    ix.keyOf.delete(id)
  }

  const build = (path: readonly string[]): HashIndex<T> => {
    const ix: HashIndex<T> = { path: [...path], get: compileGetter(path), buckets: new Map(), keyOf: new Map() }
    for (const [id, e] of entries) file(ix, id, e)
    indexes.set(pathKey(path), ix)
    return ix
  }

  const indexFor = (path: readonly string[]): HashIndex<T> | undefined => {
    const existing = indexes.get(pathKey(path))
    if (existing !== undefined) return existing
    if (indexes.size >= maxIndexes || !autoIndex(path)) return undefined
    return build(path)
  }

  for (const p of options.indexes ?? [['deviceId']]) build(p)

  return {
    get size () { return entries.size },
    upsert (id, doc) {
      let e = entries.get(id)
      if (e === undefined) { e = { doc, ord: nextOrd++ }; entries.set(id, e) } else e.doc = doc
      for (const ix of indexes.values()) file(ix, id, e)
    },
    remove (id) {
      const e = entries.get(id)
      if (e === undefined) return false
      entries.delete(id)
      for (const ix of indexes.values()) unfile(ix, id, e)
      return true
    },
    get: (id) => entries.get(id)?.doc,
    has: (id) => entries.has(id),
    clear () {
      entries.clear()
      for (const ix of indexes.values()) { ix.buckets.clear(); ix.keyOf.clear() }
    },
    * values () { for (const e of entries.values()) yield e.doc },
    [Symbol.iterator] () { return this.values() },
    count (path, keys) {
      const ix = indexFor(path)
      if (ix === undefined) return undefined
      let n = 0
      for (const k of new Set(keys)) n += ix.buckets.get(k)?.size ?? 0
      return n
    },
    refs (path, keys) {
      const ix = indexes.get(pathKey(path))
      if (ix === undefined) return []
      // One key (the common `path = literal`): hand out the bucket itself, no copying.
      if (keys.length === 1) return ix.buckets.get(keys[0] as string) ?? []
      const out: Array<Entry<T>> = []
      for (const k of new Set(keys)) {
        const b = ix.buckets.get(k)
        if (b !== undefined) for (const e of b) out.push(e)
      }
      return out
    },
    filter (predicate, limit = Infinity) {
      const out: T[] = []
      if (limit <= 0) return out
      for (const e of entries.values()) {
        if (predicate(e.doc) && out.push(e.doc) >= limit) break
      }
      return out
    },
    rows (refs) {
      const found: Array<RowRef<T>> = []
      let sorted = true
      let last = -1
      for (const e of refs) {
        if (e.ord < last) sorted = false
        last = e.ord
        found.push(e)
      }
      // Collection order whatever the plan, so paging and results match a full scan. Buckets
      // are usually already in order (filled by a scan, appended by new inserts).
      if (!sorted) found.sort((a, b) => a.ord - b.ord)
      const docs: T[] = new Array(found.length)
      for (let i = 0; i < found.length; i++) docs[i] = (found[i] as RowRef<T>).doc
      return docs
    },
    indexedPaths: () => [...indexes.values()].map((ix) => [...ix.path])
  }
}
