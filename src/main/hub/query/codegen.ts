// Generated-source WHERE predicates. The closure compiler (compile.ts compileExpr) turns every
// node into a small closure returning a three-valued result, so a row goes through several
// calls, type checks and undefined materialisations. For the common shapes this module emits
// one JavaScript function instead (`new Function`), which V8 optimises like a hand-written
// filter:
//
//   * Three-valued logic without materialising undefined: each node compiles to two boolean
//     JS expressions, "evaluates to true" (T) and "evaluates to false" (F). A row passes on
//     T(where); NOT swaps T and F; T(a AND b) = T(a) && T(b), F(a AND b) = F(a) || F(b), and
//     dually for OR. Anything that is neither (undefined, a number, ...) fails both.
//   * `path op literal`, `path IN [...]`, IS_* and STARTSWITH/ENDSWITH/CONTAINS with literal
//     arguments compile to inline property reads and native comparisons.
//   * Everything else (arithmetic, other functions, path op path, ...) is a call to the
//     closure compiler's getter for that sub-expression, so the semantics stay those of
//     compile.ts / evaluate.ts (D.2) by construction; fuzz-checked in codegen.test.ts.
//
// No query text is ever spliced into the generated source: literals, path segment names, sets
// and fallback closures are passed as arguments of the outer function (`k0`, `k1`, ...), and
// the source contains only fixed tokens, those argument names and numbered temporaries. Path
// reads mirror paths.ts compileGetter: intermediate values must be non-array objects, and a
// path naming an Object.prototype member (`tags.constructor`, `__proto__`) goes through
// compileGetter's own-property walk, so inherited properties never leak.
import type { CallExpr, Collection, CompareExpr, CompareOp, Expr, InExpr, Literal } from './ast.js'
import { canonicalPath, compileGetter, internalize, isCaseInsensitiveValue } from './paths.js'
import type { Getter } from './paths.js'

/** Row kind check folded into the predicate (twin source rows: devices vs modules, by moduleId). */
export type RowKind = 'device' | 'module' | 'any'

export type RowPredicate = (row: object) => boolean

/** Above this many AST nodes the generated source is not worth it (and stays far from parser limits). */
const MAX_NODES = 2000
/** Longer paths use the compileGetter closure (keeps generated nesting shallow). */
const MAX_INLINE_PATH = 8
/**
 * IN lists up to this size compile to a `===` chain, larger ones to a Set lookup: comparing
 * equal-length strings compares characters, while a Set lookup uses the string's cached hash
 * (measured: a 5-string chain is ~15% slower than Set.has over 100,000 device ids).
 */
const MAX_IN_CHAIN = 2

const lowerIfString = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v)
const isPrimitive = (x: unknown): boolean =>
  x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean'

/** Helpers every generated function receives by these names (fixed identifiers, not query text). */
const HELPERS: ReadonlyArray<[string, unknown]> = [
  ['isArray', Array.isArray],
  ['lower', lowerIfString],
  ['isPrim', isPrimitive]
]

interface Cond { t: string; f: string }
const ALWAYS_UNDEFINED: Cond = { t: 'false', f: 'false' }

/** Counts nodes, stopping early past the cap. */
function size (e: Expr, budget: { n: number }): void {
  if (--budget.n < 0) return
  switch (e.kind) {
    case 'not': case 'neg': size(e.operand, budget); break
    case 'and': case 'or': for (const o of e.operands) size(o, budget); break
    case 'arith': size(e.first, budget); for (const r of e.rest) size(r.operand, budget); break
    case 'compare': size(e.left, budget); size(e.right, budget); break
    case 'in': size(e.operand, budget); budget.n -= Math.min(e.items.length, 50); break
    case 'call': for (const a of e.args) size(a, budget); break
    default: break
  }
}

class Generator {
  readonly names: string[] = []
  readonly values: unknown[] = []
  private temps = 0

  constructor (
    private readonly from: Collection,
    /** The closure compiler, for sub-expressions this module does not specialise. */
    private readonly closure: (e: Expr) => Getter
  ) {}

  /** A value passed into the generated code by name (never spliced as source). */
  constant (v: unknown): string {
    const name = `k${this.values.length}`
    this.names.push(name)
    this.values.push(typeof v === 'string' ? internalize(v) : v)
    return name
  }

  temp (): string { return `v${this.temps++}` }

  declarations (): string {
    return this.temps === 0 ? '' : `var ${Array.from({ length: this.temps }, (_, i) => `v${i}`).join(', ')};\n`
  }

  /** JS expression for a value (the closure compiler's Getter result). */
  value (e: Expr): string {
    if (e.kind === 'literal') return e.value === undefined ? 'undefined' : this.constant(e.value)
    if (e.kind === 'path') return this.path(canonicalPath(this.from, e.segments))
    return `${this.constant(this.closure(e))}(row)`
  }

  /** Inline read of a stored path, as paths.ts compileGetter (fallback to it when unusual). */
  path (path: readonly string[]): string {
    if (path.length === 0 || path.length > MAX_INLINE_PATH || path.some((s) => s in Object.prototype)) {
      return `${this.constant(compileGetter(path))}(row)`
    }
    // row[k0] ; then for each further segment: (x = <prev>, object && !array ? x[k] : undefined)
    let code = `row[${this.constant(path[0])}]`
    for (let i = 1; i < path.length; i++) {
      const x = this.temp()
      code = `(${x} = ${code}, typeof ${x} === 'object' && ${x} !== null && !isArray(${x}) ? ${x}[${this.constant(path[i])}] : undefined)`
    }
    return code
  }

  isCi (e: Expr): boolean {
    return e.kind === 'path' && isCaseInsensitiveValue(this.from, canonicalPath(this.from, e.segments))
  }

  /** T and F of an arbitrary value used as a condition: only boolean true / false count. */
  generic (e: Expr): Cond {
    // Each node contributes either its T or its F to the final expression, never both, so
    // the value is read once per evaluation either way.
    const v = this.value(e)
    return { t: `(${v}) === true`, f: `(${v}) === false` }
  }

  cond (e: Expr): Cond {
    switch (e.kind) {
      case 'literal': return { t: e.value === true ? 'true' : 'false', f: e.value === false ? 'true' : 'false' }
      case 'not': { const c = this.cond(e.operand); return { t: c.f, f: c.t } }
      case 'and': {
        const cs = e.operands.map((o) => this.cond(o))
        return { t: cs.map((c) => `(${c.t})`).join(' && '), f: cs.map((c) => `(${c.f})`).join(' || ') }
      }
      case 'or': {
        const cs = e.operands.map((o) => this.cond(o))
        return { t: cs.map((c) => `(${c.t})`).join(' || '), f: cs.map((c) => `(${c.f})`).join(' && ') }
      }
      case 'compare': return this.compare(e)
      case 'in': return this.in(e)
      case 'call': return this.call(e)
      // path, array, neg, arith: values; a path may hold a boolean.
      default: return this.generic(e)
    }
  }

  compare (e: CompareExpr): Cond {
    let { left, right, op } = e
    // `literal op x` -> `x op' literal`, as compile.ts does.
    if (left.kind === 'literal' && right.kind !== 'literal') {
      [left, right] = [right, left]
      op = op === '<' ? '>' : op === '>' ? '<' : op === '<=' ? '>=' : op === '>=' ? '<=' : op
    }
    if (right.kind !== 'literal') return this.generic(e)
    const ci = this.isCi(left) || this.isCi(right)
    let v = this.value(left)
    let lit: Literal = right.value
    if (ci) { v = `lower(${v})`; lit = lowerIfString(lit) as Literal }
    return this.compareLiteral(op, v, lit)
  }

  /** `v op lit`: same-type primitives only (evaluate.ts equals / order). */
  compareLiteral (op: CompareOp, v: string, lit: Literal): Cond {
    if (lit === undefined) return ALWAYS_UNDEFINED
    if (lit === null) {
      // null equals only null and has no order.
      if (op === '=') return { t: `(${v}) === null`, f: 'false' }
      if (op === '!=') return { t: 'false', f: `(${v}) === null` }
      return ALWAYS_UNDEFINED
    }
    const k = this.constant(lit)
    const type = typeof lit // 'string' | 'number' | 'boolean': a fixed token, not query text
    const x = this.temp()
    const typed = `(${x} = ${v}, typeof ${x} === '${type}'`
    const eq: Cond = { t: `(${v}) === ${k}`, f: `${typed} && ${x} !== ${k})` }
    switch (op) {
      case '=': return eq
      case '!=': return { t: eq.f, f: eq.t }
      default:
        // Only these four reach the source (the parser maps '<>' to '!='); anything else aborts
        // generation and the closure compiler takes over.
        if (op !== '<' && op !== '>' && op !== '<=' && op !== '>=') throw new Error(`unexpected operator ${String(op)}`)
        return { t: `${typed} && ${x} ${op} ${k})`, f: `${typed} && !(${x} ${op} ${k}))` }
    }
  }

  /**
   * IN / NIN (compile.ts compileIn): for a primitive value IN is membership and NIN its
   * negation; for undefined, objects and arrays both are undefined.
   */
  in (e: InExpr): Cond {
    const ci = this.isCi(e.operand)
    let v = this.value(e.operand)
    if (ci) v = `lower(${v})`
    const items = [...new Set(e.items.filter((i) => i !== undefined).map((i) => (ci ? lowerIfString(i) : i)))]
    const x = this.temp()
    let member: string
    if (items.length === 0) member = 'false'
    else if (items.length <= MAX_IN_CHAIN) member = items.map((i) => `${x} === ${this.constant(i)}`).join(' || ')
    else member = `${this.constant(new Set(items))}.has(${x})`
    // Membership implies a primitive value: T needs no type check.
    const inT = `(${x} = ${v}, ${member})`
    const inF = `(${x} = ${v}, isPrim(${x}) && !(${member}))`
    return e.negated ? { t: inF, f: inT } : { t: inT, f: inF }
  }

  call (e: CallExpr): Cond {
    const a = e.args[0] as Expr
    const typeTest = (test: (x: string) => string): Cond => {
      const x = this.temp()
      const t = `(${x} = ${this.value(a)}, ${test(x)})`
      return { t, f: `!${t}` }
    }
    switch (e.name) {
      case 'IS_DEFINED': { const v = this.value(a); return { t: `(${v}) !== undefined`, f: `(${v}) === undefined` } }
      case 'IS_NULL': { const v = this.value(a); return { t: `(${v}) === null`, f: `(${v}) !== null` } }
      case 'IS_BOOL': return typeTest((x) => `typeof ${x} === 'boolean'`)
      case 'IS_NUMBER': return typeTest((x) => `typeof ${x} === 'number'`)
      case 'IS_STRING': return typeTest((x) => `typeof ${x} === 'string'`)
      case 'IS_OBJECT': return typeTest((x) => `typeof ${x} === 'object' && ${x} !== null && !isArray(${x})`)
      case 'IS_ARRAY': return typeTest((x) => `isArray(${x})`)
      case 'IS_PRIMITIVE': return typeTest((x) => `isPrim(${x})`)
      case 'STARTSWITH': return this.stringTest(e, 'startsWith')
      case 'ENDSWITH': return this.stringTest(e, 'endsWith')
      case 'CONTAINS': return this.stringTest(e, 'includes')
      default: return this.generic(e)
    }
  }

  /** STARTSWITH / ENDSWITH / CONTAINS (functions.ts strTest) with a literal pattern and flag. */
  stringTest (e: CallExpr, method: 'startsWith' | 'endsWith' | 'includes'): Cond {
    const [s, p, flag] = e.args as [Expr, Expr, Expr | undefined]
    if (p.kind !== 'literal' || (flag !== undefined && flag.kind !== 'literal')) return this.generic(e)
    const ignoreCase = flag === undefined ? undefined : flag.value
    if (typeof p.value !== 'string' || (ignoreCase !== undefined && typeof ignoreCase !== 'boolean')) {
      // A non-string pattern or a flag other than true/false: undefined for every row (the
      // string argument has no side effects, so it need not be read).
      return ALWAYS_UNDEFINED
    }
    const k = this.constant(ignoreCase === true ? p.value.toLowerCase() : p.value)
    const x = this.temp()
    const subject = ignoreCase === true ? `${x}.toLowerCase()` : x
    const typed = `(${x} = ${this.value(s)}, typeof ${x} === 'string'`
    return { t: `${typed} && ${subject}.${method}(${k}))`, f: `${typed} && !${subject}.${method}(${k}))` }
  }
}

/**
 * A predicate for `WHERE where` (true only when the condition is boolean true, D.2), with the
 * row kind check folded in, as one generated function. Undefined when the condition is too
 * large or code generation is unavailable: the caller then uses the closure compiler.
 */
export function generatePredicate (
  from: Collection, where: Expr | undefined, kind: RowKind, closure: (e: Expr) => Getter
): RowPredicate | undefined {
  if (where !== undefined) {
    const budget = { n: MAX_NODES }
    size(where, budget)
    if (budget.n < 0) return undefined
  }
  try {
    const g = new Generator(from, closure)
    const parts: string[] = []
    if (kind === 'device') parts.push('row.moduleId === undefined')
    if (kind === 'module') parts.push('row.moduleId !== undefined')
    if (where !== undefined) parts.push(`(${g.cond(where).t})`)
    const body = `return function where (row) {\n${g.declarations()}return ${parts.length === 0 ? 'true' : parts.join(' && ')};\n}`
    const outer = new Function(...HELPERS.map(([n]) => n), ...g.names, body) as (...args: unknown[]) => RowPredicate
    return outer(...HELPERS.map(([, v]) => v), ...g.values)
  } catch {
    return undefined // e.g. code generation from strings disallowed: use the closures
  }
}

/** The generated source of a predicate, for tests and debugging. */
export function generatedSource (from: Collection, where: Expr | undefined, kind: RowKind, closure: (e: Expr) => Getter): string | undefined {
  return generatePredicate(from, where, kind, closure)?.toString()
}
