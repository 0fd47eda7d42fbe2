// The query engine: parses and compiles a query once (cached by text), picks the rows
// (an index plan over an IndexedCollection, else a scan of the compiled predicate), and
// projects, aggregates and pages (C.4, D). Everything is synchronous and in memory.
import type { Collection, Condition, Query } from './ast.js'
import { aggregate, compileProjection, isAggregate, type Projector } from './aggregate.js'
import type { IndexedCollection } from './collection.js'
import { compileRowPredicate, rowKindOf, type Predicate } from './compile.js'
import { decodeContinuation, DEFAULT_PAGE_SIZE, encodeContinuation, MAX_PAGE_SIZE, resolvePageSize } from './page.js'
import { parseCondition, parseQuery } from './parse.js'
import { planIndex, planRefs } from './plan.js'
import type { JsonValue, TwinDocument } from '../types.js'

/** Rows as a plain iterable (scanned on every query) or an IndexedCollection (index plans). */
export type RowSource<T extends object> = (() => Iterable<T>) | IndexedCollection<T>

/** A per-device job record (E.3), the rows of `devices.jobs`. */
export interface DeviceJobRecord {
  deviceId: string
  moduleId?: string
  jobId: string
  jobType: string
  status: string
  startTimeUtc?: string
  endTimeUtc?: string
  createdDateTimeUtc?: string
  lastUpdatedDateTimeUtc?: string
  outcome?: { deviceMethodResponse: { status: number; payload: JsonValue } | null }
  error?: { code: string; description: string }
}

export interface QueryEngineDeps {
  /** Device and module twins as rendered (B.1); module twins carry `moduleId`. */
  twins: RowSource<TwinDocument>
  /** Per-device job records for `devices.jobs` (E.3); none when absent. */
  jobs?: RowSource<object>
  /** Default 100 (C.4). */
  defaultPageSize?: number
  /** Larger page requests are clamped to this. Default 100 (C.4 current docs). */
  maxPageSize?: number
}

export interface QueryOptions {
  /** x-ms-max-item-count. */
  pageSize?: number
  /** x-ms-continuation from the previous page. */
  continuation?: string
}

export interface QueryPage {
  items: JsonValue[]
  /** Present only when more rows follow; never empty (C.4: an empty header loops the Node SDK). */
  continuation?: string
}

/** x-ms-item-type of a result (C.4 swagger enum). */
export type QueryItemType = 'twin' | 'deviceJob' | 'raw'

export interface QueryEngine {
  /** One page of a query (C.4). Throws QueryError (400 ArgumentInvalid) for bad text, page size or token. */
  query(text: string, options?: QueryOptions): QueryPage
  /** The whole result, unpaged (UI, exports). */
  run(text: string): JsonValue[]
  /** Number of rows the query returns (configuration metrics, F: results[name] = row count). */
  count(text: string): number
  /**
   * Twins matching a job queryCondition / configuration targetCondition (C.6, F): `*`,
   * `tags.a = 1`, `FROM devices.modules WHERE ...`. Returns the source's documents: do not mutate.
   */
  select(condition: string | Condition): TwinDocument[]
  /** x-ms-item-type for a query's rows; throws QueryError like query(). */
  itemType(text: string): QueryItemType
}

interface Compiled {
  query: Query
  /** WHERE plus the collection's row filter (devices vs devices.modules share the twin source). */
  predicate: Predicate
  project: Projector | undefined
}

const CACHE_SIZE = 256

export function createQueryEngine (deps: QueryEngineDeps): QueryEngine {
  const defaultPageSize = deps.defaultPageSize ?? DEFAULT_PAGE_SIZE
  const maxPageSize = deps.maxPageSize ?? MAX_PAGE_SIZE
  const cache = new Map<string, Compiled>()
  const conditions = new Map<string, { cond: Condition; predicate: Predicate }>()

  function compile (text: string): Compiled {
    const hit = cache.get(text)
    if (hit !== undefined) {
      cache.delete(text) // LRU: move to the back
      cache.set(text, hit)
      return hit
    }
    const query = parseQuery(text)
    const compiled: Compiled = {
      query,
      predicate: compileRowPredicate(query.from, query.where, rowKindOf(query.from)),
      project: isAggregate(query) ? undefined : compileProjection(query)
    }
    cache.set(text, compiled)
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string)
    return compiled
  }

  function source (from: Collection): RowSource<object> | undefined {
    return from === 'devices.jobs' ? deps.jobs : deps.twins
  }

  /**
   * Rows passing WHERE, in collection order, at most `limit` of them: index candidates when a
   * selective plan exists, else a scan. A plain array (no generator): a scan touches every row,
   * and the per-row cost must stay that of the predicate.
   */
  function matching (from: Collection, where: Query['where'], predicate: Predicate, limit = Infinity): object[] {
    const src = source(from)
    if (src === undefined || limit <= 0) return []
    let rows: Iterable<object>
    if (typeof src === 'function') rows = src()
    else {
      const plan = planIndex(from, where, src)
      // A plan covering more than half the rows is no better than a scan (it also sorts).
      if (plan === undefined || plan.estimate > src.size / 2) return src.filter(predicate, limit)
      rows = src.rows(planRefs(plan, src))
    }
    const out: object[] = []
    for (const r of rows) {
      if (predicate(r) && out.push(r) >= limit) break
    }
    return out
  }

  /** Result rows from `offset`, at most `limit` of them, plus whether more follow. */
  function slice (c: Compiled, offset: number, limit: number): { items: JsonValue[]; more: boolean } {
    const { query } = c
    const cap = query.top === undefined ? Infinity : query.top
    const end = Math.min(cap, offset + limit)
    const items: JsonValue[] = []
    if (c.project === undefined) {
      const rows = aggregate(query, matching(query.from, query.where, c.predicate))
      const stop = Math.min(end, rows.length)
      for (let i = offset; i < stop; i++) items.push(rows[i] as JsonValue)
      return { items, more: Math.min(cap, rows.length) > stop }
    }
    // One row beyond the page (when TOP allows one) tells whether more follow.
    const rows = matching(query.from, query.where, c.predicate, end < cap ? end + 1 : end)
    const stop = Math.min(end, rows.length)
    for (let i = offset; i < stop; i++) items.push(c.project(rows[i] as object))
    return { items, more: rows.length > end }
  }

  /** Conditions given as text are compiled once too (jobs and configurations re-select often). */
  function conditionPredicate (condition: string | Condition): { cond: Condition; predicate: Predicate } {
    if (typeof condition !== 'string') return { cond: condition, predicate: compileRowPredicate(condition.from, condition.where, rowKindOf(condition.from)) }
    const key = condition
    let hit = conditions.get(key)
    if (hit === undefined) {
      const cond = parseCondition(condition)
      hit = { cond, predicate: compileRowPredicate(cond.from, cond.where, rowKindOf(cond.from)) }
      conditions.set(key, hit)
      if (conditions.size > CACHE_SIZE) conditions.delete(conditions.keys().next().value as string)
    } else {
      conditions.delete(key)
      conditions.set(key, hit)
    }
    return hit
  }

  return {
    query (text, options = {}) {
      const c = compile(text)
      const pageSize = resolvePageSize(options.pageSize, defaultPageSize, maxPageSize)
      const offset = options.continuation === undefined ? 0 : decodeContinuation(text, options.continuation)
      const { items, more } = slice(c, offset, pageSize)
      return more ? { items, continuation: encodeContinuation(text, offset + items.length) } : { items }
    },
    run (text) {
      return slice(compile(text), 0, Infinity).items
    },
    count (text) {
      const c = compile(text)
      const { query } = c
      const cap = query.top ?? Infinity
      if (c.project === undefined) return Math.min(cap, aggregate(query, matching(query.from, query.where, c.predicate)).length)
      return matching(query.from, query.where, c.predicate, cap).length
    },
    select (condition) {
      const { cond, predicate } = conditionPredicate(condition)
      return matching(cond.from, cond.where, predicate) as TwinDocument[]
    },
    itemType (text) {
      const { query } = compile(text)
      if (query.select !== '*') return 'raw'
      return query.from === 'devices.jobs' ? 'deviceJob' : 'twin'
    }
  }
}

/**
 * A condition as a per-row test, for re-checking a single twin when it changes (F: a
 * configuration's target set follows twin changes). Accepts text or a parsed Condition.
 */
export function compileCondition (condition: string | Condition): (twin: TwinDocument) => boolean {
  const cond = typeof condition === 'string' ? parseCondition(condition) : condition
  const predicate = compileRowPredicate(cond.from, cond.where, rowKindOf(cond.from))
  return (twin) => predicate(twin)
}
