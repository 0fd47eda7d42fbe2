// Compiles a condition (D.1 expr) into a JS closure once per query, so evaluating a row is a
// chain of direct calls with no AST walking or string work (paths are pre-resolved, literal
// comparisons specialised). Semantics are those of evaluate.ts (D.2): undefined for anything
// not defined, three-valued AND / OR / NOT, a row passes only on boolean true. The engine's
// predicates are generated source (codegen.ts) built on top of these closures: the closures
// remain the reference semantics and serve every sub-expression codegen does not specialise.
import type { Collection, CompareExpr, Expr, InExpr, Literal } from './ast.js'
import { arith, equals, isPrimitive, not, notEquals, order, primitiveKey, type Value } from './evaluate.js'
import { generatePredicate, type RowKind } from './codegen.js'
import { FUNCTIONS } from './functions.js'
import { canonicalPath, compileGetter, isCaseInsensitiveValue, type Getter } from './paths.js'

export type Predicate = (row: object) => boolean

/** `WHERE expr` as a predicate: true only when the expression is boolean true (D.2). */
export function compilePredicate (from: Collection, where: Expr | undefined): Predicate {
  return compileRowPredicate(from, where, 'any')
}

/** The row kinds of a collection: the twin source serves devices (no moduleId) and devices.modules. */
export function rowKindOf (from: Collection): RowKind {
  return from === 'devices' ? 'device' : from === 'devices.modules' ? 'module' : 'any'
}

/**
 * The engine's row filter: row kind (`moduleId` absent / present) and WHERE, as one generated
 * function (codegen.ts) for speed, or the closures below when the condition is too large or
 * code generation is unavailable. Both give the same answer for every row (codegen.test.ts).
 */
export function compileRowPredicate (from: Collection, where: Expr | undefined, kind: RowKind): Predicate {
  return generatePredicate(from, where, kind, (e) => compileExpr(from, e)) ?? compileClosurePredicate(from, where, kind)
}

/** The closure-compiled predicate (the reference the generated code is checked against). */
export function compileClosurePredicate (from: Collection, where: Expr | undefined, kind: RowKind = 'any'): Predicate {
  let p: Predicate
  if (where === undefined) p = () => true
  else {
    const f = compileExpr(from, where)
    p = (row) => f(row) === true
  }
  const inner = p
  if (kind === 'device') return (r) => (r as { moduleId?: unknown }).moduleId === undefined && inner(r)
  if (kind === 'module') return (r) => (r as { moduleId?: unknown }).moduleId !== undefined && inner(r)
  return p
}

export function compileExpr (from: Collection, e: Expr): Getter {
  switch (e.kind) {
    case 'literal': { const v = e.value; return () => v }
    case 'array': { const v = Object.freeze([...e.items]); return () => v }
    case 'path': return compileGetter(canonicalPath(from, e.segments))
    case 'not': { const f = compileExpr(from, e.operand); return (r) => not(f(r)) }
    case 'neg': {
      const f = compileExpr(from, e.operand)
      return (r) => { const v = f(r); return typeof v === 'number' ? (v === 0 ? 0 : -v) : undefined }
    }
    case 'and': return compileAnd(e.operands.map((o) => compileExpr(from, o)))
    case 'or': return compileOr(e.operands.map((o) => compileExpr(from, o)))
    case 'arith': {
      const first = compileExpr(from, e.first)
      const rest = e.rest.map(({ op, operand }) => ({ op, f: compileExpr(from, operand) }))
      return (r) => {
        let acc = first(r)
        for (const { op, f } of rest) {
          acc = arith(op, acc, f(r))
          if (acc === undefined) return undefined
        }
        return acc
      }
    }
    case 'compare': return compileCompare(from, e)
    case 'in': return compileIn(from, e)
    case 'call': {
      const def = FUNCTIONS.get(e.name)
      if (def === undefined) return () => undefined // unreachable: the parser rejects unknown names
      const args = e.args.map((a) => compileExpr(from, a))
      const impl = def.impl
      if (args.length === 1) { const [a] = args as [Getter]; return (r) => impl([a(r)]) }
      if (args.length === 2) { const [a, b] = args as [Getter, Getter]; return (r) => impl([a(r), b(r)]) }
      return (r) => impl(args.map((a) => a(r)))
    }
  }
}

/** Three-valued AND: any false -> false; all true -> true; otherwise undefined (D.2). */
function compileAnd (fs: Getter[]): Getter {
  if (fs.length === 2) {
    const [a, b] = fs as [Getter, Getter]
    return (r) => {
      const x = a(r)
      if (x === false) return false
      const y = b(r)
      if (y === false) return false
      return x === true && y === true ? true : undefined
    }
  }
  return (r) => {
    let unknown = false
    for (const f of fs) {
      const v = f(r)
      if (v === false) return false
      if (v !== true) unknown = true
    }
    return unknown ? undefined : true
  }
}

/** Three-valued OR: any true -> true; all false -> false; otherwise undefined (D.2). */
function compileOr (fs: Getter[]): Getter {
  return (r) => {
    let unknown = false
    for (const f of fs) {
      const v = f(r)
      if (v === true) return true
      if (v !== false) unknown = true
    }
    return unknown ? undefined : false
  }
}

/** For `configurations.[[id]].status` (F): compare strings case-insensitively. */
const lowerIfString = (v: Value): Value => (typeof v === 'string' ? v.toLowerCase() : v)

function ciPath (from: Collection, e: Expr): boolean {
  return e.kind === 'path' && isCaseInsensitiveValue(from, canonicalPath(from, e.segments))
}

function compileCompare (from: Collection, e: CompareExpr): Getter {
  const ci = ciPath(from, e.left) || ciPath(from, e.right)
  let { left, right, op } = e
  // Normalise `literal op path` to `path op' literal` so the fast path below applies.
  if (left.kind === 'literal' && right.kind !== 'literal') {
    [left, right] = [right, left]
    op = op === '<' ? '>' : op === '>' ? '<' : op === '<=' ? '>=' : op === '>=' ? '<=' : op
  }
  let l = compileExpr(from, left)
  if (ci) { const raw = l; l = (r) => lowerIfString(raw(r)) }
  if (right.kind === 'literal') {
    const lit = ci ? lowerIfString(right.value) as Literal : right.value
    return compareWithLiteral(op, l, lit)
  }
  let rf = compileExpr(from, right)
  if (ci) { const raw = rf; rf = (r) => lowerIfString(raw(r)) }
  switch (op) {
    case '=': return (r) => equals(l(r), rf(r))
    case '!=': return (r) => notEquals(l(r), rf(r))
    default: {
      const test = orderTest(op)
      return (r) => { const c = order(l(r), rf(r)); return c === undefined ? undefined : test(c) }
    }
  }
}

function orderTest (op: string): (c: number) => boolean {
  switch (op) {
    case '<': return (c) => c < 0
    case '>': return (c) => c > 0
    case '<=': return (c) => c <= 0
    default: return (c) => c >= 0
  }
}

/** The common case `path op literal`: one typeof check and a native comparison per row. */
function compareWithLiteral (op: string, l: Getter, lit: Literal): Getter {
  if (lit === undefined) return () => undefined
  if (lit === null) {
    // null equals only null; it has no order (evaluate.ts).
    if (op === '=') return (r) => (l(r) === null ? true : undefined)
    if (op === '!=') return (r) => (l(r) === null ? false : undefined)
    return () => undefined
  }
  const t = typeof lit
  switch (op) {
    case '=': return (r) => { const v = l(r); return typeof v === t ? v === lit : undefined }
    case '!=': return (r) => { const v = l(r); return typeof v === t ? v !== lit : undefined }
    case '<': return (r) => { const v = l(r); return typeof v === t ? (v as number) < (lit as number) : undefined }
    case '>': return (r) => { const v = l(r); return typeof v === t ? (v as number) > (lit as number) : undefined }
    case '<=': return (r) => { const v = l(r); return typeof v === t ? (v as number) <= (lit as number) : undefined }
    default: return (r) => { const v = l(r); return typeof v === t ? (v as number) >= (lit as number) : undefined }
  }
}

/**
 * `x IN [..]` / `x NIN [..]` with the equality of `=` (same type only). Chosen semantics
 * (D.2 leaves mixed lists open): for a primitive x, IN is plain membership (true/false) and
 * NIN its negation; for undefined, objects and arrays both are undefined, so a missing
 * property never passes `NIN` either.
 */
function compileIn (from: Collection, e: InExpr): Getter {
  const ci = ciPath(from, e.operand)
  const keys = new Set<string>()
  for (const item of e.items) {
    if (item === undefined) continue
    keys.add(primitiveKey(ci ? lowerIfString(item) as string | number | boolean | null : item))
  }
  const f = compileExpr(from, e.operand)
  const neg = e.negated
  return (r) => {
    let v = f(r)
    if (!isPrimitive(v)) return undefined
    if (ci) v = lowerIfString(v)
    return keys.has(primitiveKey(v as string | number | boolean | null)) !== neg
  }
}
