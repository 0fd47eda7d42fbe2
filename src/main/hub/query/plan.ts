// Index planning: finds, in a WHERE clause, equality constraints an IndexedCollection can
// answer, so only candidate rows are evaluated. The plan only narrows the candidates: the
// full compiled predicate still runs on each of them, so a plan can never change a result.
//
//   path = literal, literal = path       -> one bucket
//   path IN [literals]                   -> union of buckets
//   a AND b AND ...                      -> the most selective plannable operand
//   a OR b OR ...                        -> union, only if every operand is plannable
// Anything else (ranges, NIN, functions, case-insensitive configuration status) scans.
import type { Collection, Expr, Literal } from './ast.js'
import type { IndexedCollection, RowRef } from './collection.js'
import { primitiveKey } from './evaluate.js'
import { canonicalPath, isCaseInsensitiveValue } from './paths.js'

export type IndexPlan =
  | { kind: 'lookup'; path: string[]; keys: string[]; estimate: number }
  | { kind: 'union'; plans: IndexPlan[]; estimate: number }

const keysOf = (items: readonly Literal[]): string[] =>
  items.flatMap((v) => (v === undefined ? [] : [primitiveKey(v)]))

export function planIndex (from: Collection, e: Expr | undefined, index: IndexedCollection<object>): IndexPlan | undefined {
  if (e === undefined) return undefined
  const lookup = (pathExpr: Expr, items: readonly Literal[]): IndexPlan | undefined => {
    if (pathExpr.kind !== 'path') return undefined
    const path = canonicalPath(from, pathExpr.segments)
    if (isCaseInsensitiveValue(from, path)) return undefined
    const keys = keysOf(items)
    const estimate = index.count(path, keys)
    return estimate === undefined ? undefined : { kind: 'lookup', path, keys, estimate }
  }
  switch (e.kind) {
    case 'compare':
      if (e.op !== '=') return undefined
      if (e.right.kind === 'literal') return lookup(e.left, [e.right.value])
      if (e.left.kind === 'literal') return lookup(e.right, [e.left.value])
      return undefined
    case 'in':
      return e.negated ? undefined : lookup(e.operand, e.items)
    case 'and': {
      let best: IndexPlan | undefined
      for (const op of e.operands) {
        const p = planIndex(from, op, index)
        if (p !== undefined && (best === undefined || p.estimate < best.estimate)) best = p
        if (best?.estimate === 0) break
      }
      return best
    }
    case 'or': {
      const plans: IndexPlan[] = []
      for (const op of e.operands) {
        const p = planIndex(from, op, index)
        if (p === undefined) return undefined
        plans.push(p)
      }
      return { kind: 'union', plans, estimate: plans.reduce((s, p) => s + p.estimate, 0) }
    }
    default:
      return undefined
  }
}

/** Candidate rows of a plan (a superset of the matching rows). */
export function planRefs<T extends object> (plan: IndexPlan, index: IndexedCollection<T>): Iterable<RowRef<T>> {
  if (plan.kind === 'lookup') return index.refs(plan.path, plan.keys)
  const refs = new Set<RowRef<T>>()
  for (const p of plan.plans) for (const r of planRefs(p, index)) refs.add(r)
  return refs
}
