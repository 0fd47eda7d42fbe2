// IndexedCollection: the rows a query runs over, kept by the owning service (upsert/remove)
// with hash indexes on paths so that selective equality queries (`deviceId = 'x'`,
// `deviceId IN [...]`, `tags.site = 'a' AND properties.reported.fw = '1.2.0'`) touch only
// the matching rows instead of scanning every twin.
//
// Indexes map a primitive value (the same-type equality of `=`; the API names values by
// evaluate.ts primitiveKey) to the rows holding it. `deviceId` is indexed from the start; other paths get an
// index the first time a query asks for them (if the policy allows), built by one pass over
// the rows and then maintained on every upsert/remove. Each row also remembers the key it was
// filed under in each index, so a caller that mutates a document in place and upserts it
// again cannot leave a stale entry behind.
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
interface Entry<T> {
  doc: T
  ord: number
  /** Per index (by slot): the bucket key this row is filed under; undefined = not filed. */
  filed: unknown[]
}
/** One row (the common case for unique fields such as deviceId: no Set per value) or several. */
type Bucket<T> = Entry<T> | Set<Entry<T>>
interface HashIndex<T> {
  path: string[]
  get: Getter
  slot: number
  /**
   * Bucket key -> rows. The key is the primitive value itself, -0 folded into 0, so Map's
   * SameValueZero is primitiveKey's equality (the same-type equality of `=`) without building
   * a key string per row.
   */
  buckets: Map<unknown, Bucket<T>>
}

/** The bucket key of a value; undefined for values `=` never matches (undefined, objects, arrays). */
function bucketKey (v: unknown): unknown {
  if (typeof v === 'number') return v === 0 ? 0 : v
  return v === null || typeof v === 'string' || typeof v === 'boolean' ? v : undefined
}

/** The bucket key of a primitiveKey string (the IndexedCollection API speaks primitiveKey). */
function keyValue (k: string): unknown {
  switch (k[0]) {
    case 's': return k.slice(1)
    case 'n': return bucketKey(Number(k.slice(1)))
    case 'b': return k === 'bt'
    case 'z': return null
    default: return undefined
  }
}

const bucketSize = <T>(b: Bucket<T> | undefined): number => (b === undefined ? 0 : b instanceof Set ? b.size : 1)

export function createIndexedCollection<T extends object> (options: IndexedCollectionOptions = {}): IndexedCollection<T> {
  const entries = new Map<string, Entry<T>>()
  const indexes = new Map<string, HashIndex<T>>()
  const autoIndex = options.autoIndex ?? defaultAutoIndex
  const maxIndexes = options.maxIndexes ?? 64
  let nextOrd = 0

  const file = (ix: HashIndex<T>, e: Entry<T>): void => {
    const key = bucketKey(ix.get(e.doc))
    const old = e.filed[ix.slot]
    // Object.is: NaN is filed under NaN (SameValueZero), and -0 never occurs (folded).
    if (Object.is(key, old)) return
    if (old !== undefined) unfile(ix, e)
    if (key === undefined) return
    const b = ix.buckets.get(key)
    if (b === undefined) ix.buckets.set(key, e)
    else if (b instanceof Set) b.add(e)
    else ix.buckets.set(key, new Set([b, e]))
    e.filed[ix.slot] = key
  }

  const unfile = (ix: HashIndex<T>, e: Entry<T>): void => {
    const old = e.filed[ix.slot]
    if (old === undefined) return
    e.filed[ix.slot] = undefined
    const b = ix.buckets.get(old)
    if (b === e) ix.buckets.delete(old)
    else if (b instanceof Set) {
      b.delete(e)
      if (b.size === 1) ix.buckets.set(old, b.values().next().value as Entry<T>)
    }
  }

  const build = (path: readonly string[]): HashIndex<T> => {
    const ix: HashIndex<T> = { path: [...path], get: compileGetter(path), slot: indexes.size, buckets: new Map() }
    for (const e of entries.values()) file(ix, e)
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
      if (e === undefined) { e = { doc, ord: nextOrd++, filed: [] }; entries.set(id, e) } else e.doc = doc
      for (const ix of indexes.values()) file(ix, e)
    },
    remove (id) {
      const e = entries.get(id)
      if (e === undefined) return false
      entries.delete(id)
      for (const ix of indexes.values()) unfile(ix, e)
      return true
    },
    get: (id) => entries.get(id)?.doc,
    has: (id) => entries.has(id),
    clear () {
      entries.clear()
      for (const ix of indexes.values()) ix.buckets.clear()
    },
    * values () { for (const e of entries.values()) yield e.doc },
    [Symbol.iterator] () { return this.values() },
    count (path, keys) {
      const ix = indexFor(path)
      if (ix === undefined) return undefined
      let n = 0
      for (const k of new Set(keys)) n += bucketSize(ix.buckets.get(keyValue(k)))
      return n
    },
    refs (path, keys) {
      const ix = indexes.get(pathKey(path))
      if (ix === undefined) return []
      // One key (the common `path = literal`): hand out the bucket itself, no copying.
      if (keys.length === 1) {
        const b = ix.buckets.get(keyValue(keys[0] as string))
        return b === undefined ? [] : b instanceof Set ? b : [b]
      }
      const out: Array<Entry<T>> = []
      for (const k of new Set(keys)) {
        const b = ix.buckets.get(keyValue(k))
        if (b instanceof Set) for (const e of b) out.push(e)
        else if (b !== undefined) out.push(b)
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
