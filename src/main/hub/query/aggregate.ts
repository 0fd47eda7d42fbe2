// Projection, aggregates and GROUP BY (D.1 selectList, D.2). Grouping happens after WHERE and
// before projection; groups are emitted in order of first appearance (deterministic, and
// what paging needs); a group whose value is undefined omits that key (D.2, UNVERIFIED).
import type { AggregateFn, Collection, PathExpr, Query, SelectItem } from './ast.js'
import { primitiveKey, type Value } from './evaluate.js'
import { canonicalPath, compileGetter, pathKey, type Getter } from './paths.js'
import type { JsonObject, JsonValue } from '../types.js'

export type Projector = (row: object) => JsonValue

/** Fresh copy of a row value, so callers can never mutate a stored document through a result. */
const copy = (v: Value): JsonValue => (typeof v === 'object' && v !== null ? structuredClone(v) as JsonValue : v as JsonValue)

/** Output key of a select item: the alias, else the path's last segment in document casing, else `$n`. */
export function outputNames (from: Collection, items: readonly SelectItem[]): string[] {
  let unnamed = 0
  return items.map((item) => {
    if (item.alias !== undefined) return item.alias
    if (item.kind === 'path') return canonicalPath(from, item.path.segments).at(-1) ?? ''
    // An unaliased aggregate is keyed `$1`, `$2`, ... in select order (D.2 leaves it open;
    // `$1` is the Cosmos DB convention for unnamed expressions).
    return `$${++unnamed}`
  })
}

/** Whether the query aggregates (any aggregate in the list, or GROUP BY). */
export function isAggregate (q: Query): boolean {
  return q.groupBy.length > 0 || (q.select !== '*' && q.select.some((i) => i.kind === 'aggregate'))
}

/** Row projection for non-aggregating queries: `*` -> the whole document; items -> an object without missing values. */
export function compileProjection (q: Query): Projector {
  if (q.select === '*') return (row) => structuredClone(row) as JsonValue
  const names = outputNames(q.from, q.select)
  const getters: Array<[string, Getter]> = q.select.map((item, i) => [names[i] as string, getterOf(q.from, item.kind === 'path' ? item.path : undefined)])
  return (row) => {
    const out: JsonObject = {}
    for (const [name, get] of getters) {
      const v = get(row)
      if (v !== undefined) out[name] = copy(v)
    }
    return out
  }
}

function getterOf (from: Collection, path: PathExpr | undefined): Getter {
  return path === undefined ? () => undefined : compileGetter(canonicalPath(from, path.segments))
}

interface Accumulator { add(v: Value): void; result(): JsonValue | undefined }

/**
 * AVG/SUM consider numbers only and ignore other values (like SQL ignores NULL); SUM of no
 * numbers is 0, AVG of none is omitted. MIN/MAX compare numbers, or strings ordinally when the
 * group has no numbers (so MAX(lastActivityTime) works on ISO timestamps); none -> omitted.
 */
function accumulator (fn: AggregateFn): Accumulator {
  switch (fn) {
    case 'COUNT': { let n = 0; return { add: () => { n++ }, result: () => n } }
    case 'SUM': { let s = 0; return { add: (v) => { if (typeof v === 'number') s += v }, result: () => (Number.isFinite(s) ? s : undefined) } }
    case 'AVG': {
      let s = 0; let n = 0
      return { add: (v) => { if (typeof v === 'number') { s += v; n++ } }, result: () => (n === 0 || !Number.isFinite(s) ? undefined : s / n) }
    }
    default: {
      const sign = fn === 'MIN' ? -1 : 1
      let bestNum: number | undefined
      let bestStr: string | undefined
      return {
        add: (v) => {
          if (typeof v === 'number') { if (bestNum === undefined || Math.sign(v - bestNum) === sign) bestNum = v }
          else if (typeof v === 'string') { if (bestStr === undefined || (sign > 0 ? v > bestStr : v < bestStr)) bestStr = v }
        },
        result: () => bestNum ?? bestStr
      }
    }
  }
}

function groupKeyPart (v: Value): string {
  if (v === undefined) return 'u'
  if (v === null || typeof v !== 'object') return primitiveKey(v as string | number | boolean | null)
  return `j${JSON.stringify(v)}`
}

/** Runs the aggregation over the rows that passed WHERE. Without GROUP BY there is exactly one row, even over no input. */
export function aggregate (q: Query, rows: Iterable<object>): JsonObject[] {
  const items = q.select === '*' ? [] : q.select
  const names = outputNames(q.from, items)
  const groupPaths = q.groupBy.map((g) => canonicalPath(q.from, g.segments))
  const groupGetters = groupPaths.map((p) => compileGetter(p))
  const groupIndex = new Map(groupPaths.map((p, i) => [pathKey(p), i]))
  const aggGetters = items.map((item) => (item.kind === 'aggregate' ? getterOf(q.from, item.path) : undefined))

  interface Group { values: Value[]; accs: Array<Accumulator | undefined> }
  const newGroup = (values: Value[]): Group => ({
    values,
    accs: items.map((item) => (item.kind === 'aggregate' ? accumulator(item.fn) : undefined))
  })
  /** Groups in order of first appearance. */
  const order: Group[] = []
  const add = (group: Group, row: object): void => {
    for (let i = 0; i < items.length; i++) group.accs[i]?.add(aggGetters[i]?.(row))
  }

  if (groupGetters.length === 0) {
    const group = newGroup([])
    order.push(group)
    for (const row of rows) add(group, row)
  } else if (groupGetters.length === 1) {
    // One GROUP BY path (the common case): primitives and undefined are grouped by the value
    // itself (Map's SameValueZero is primitiveKey's equality: 0 and -0 together, '1' apart from
    // 1), objects and arrays by their JSON text, as groupKeyPart does. No key string per row.
    const get = groupGetters[0] as Getter
    const byValue = new Map<Value, Group>()
    const byJson = new Map<string, Group>()
    for (const row of rows) {
      const v = get(row)
      let group: Group | undefined
      if (typeof v === 'object' && v !== null) {
        const key = JSON.stringify(v)
        group = byJson.get(key)
        if (group === undefined) { group = newGroup([v]); byJson.set(key, group); order.push(group) }
      } else {
        group = byValue.get(v)
        if (group === undefined) { group = newGroup([v]); byValue.set(v, group); order.push(group) }
      }
      add(group, row)
    }
  } else {
    const groups = new Map<string, Group>()
    for (const row of rows) {
      const values = groupGetters.map((g) => g(row))
      const key = values.map(groupKeyPart).join('\u0000')
      let group = groups.get(key)
      if (group === undefined) { group = newGroup(values); groups.set(key, group); order.push(group) }
      add(group, row)
    }
  }

  const out: JsonObject[] = []
  for (const group of order) {
    const row: JsonObject = {}
    items.forEach((item, i) => {
      const name = names[i] as string
      const v = item.kind === 'aggregate'
        ? group.accs[i]?.result()
        : group.values[groupIndex.get(pathKey(canonicalPath(q.from, item.path.segments))) ?? -1]
      if (v !== undefined) row[name] = copy(v)
    })
    out.push(row)
  }
  return out
}
