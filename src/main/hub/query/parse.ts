// Recursive-descent parser for the query language (D.1). Every failure is a QueryError
// (HubError ArgumentInvalid, 400004) naming the 1-based position, what was expected and
// what was found. Recursion only happens for real nesting (parentheses, NOT, unary minus,
// function arguments) and that is capped at MAX_NESTING before recursing, so no input can
// overflow the stack; flat chains (`a OR b OR ...`) are loops building n-ary nodes.
import type {
  AggregateFn, ArithOp, Collection, CompareOp, Condition, Expr, Literal, PathExpr, PathSegment, Query, SelectItem
} from './ast.js'
import { invalidQuery, MAX_NESTING, MAX_QUERY_LENGTH, nestingError, QueryError, syntaxError } from './errors.js'
import { AGGREGATES, FUNCTIONS } from './functions.js'
import { describeToken, tokenize, type Token } from './lexer.js'
import { canonicalPath, pathKey } from './paths.js'

/** Words that end or structure an expression and therefore cannot start a property path. */
const RESERVED = new Set(['SELECT', 'TOP', 'FROM', 'WHERE', 'GROUP', 'BY', 'AS', 'AND', 'OR', 'NOT', 'IN', 'NIN'])
const LITERAL_WORDS: ReadonlyMap<string, Literal> = new Map<string, Literal>([
  ['TRUE', true], ['FALSE', false], ['NULL', null], ['UNDEFINED', undefined]
])
const COMPARE: ReadonlyMap<string, CompareOp> = new Map<string, CompareOp>([
  ['=', '='], ['!=', '!='], ['<>', '!='], ['<', '<'], ['>', '>'], ['<=', '<='], ['>=', '>=']
])

/** Parses a full query (D.1 `query`). */
export function parseQuery (text: string): Query {
  const p = createParser(text)
  const query = p.query()
  validateQuery(query)
  return query
}

/**
 * Parses a job queryCondition or configuration targetCondition (D.3 #21, C.6, F):
 * `tags.a = 1`, `*`, `deviceId IN [...]`, `FROM devices.modules WHERE ...`. Also accepted, as a
 * harmless superset: a leading `WHERE`, and a full `SELECT * FROM devices[.modules] WHERE ...`.
 * An empty (or blank) condition matches nothing: the SDK e2e suite creates configurations with
 * `targetCondition: ''` to target no device (F, semantics UNVERIFIED).
 */
export function parseCondition (text: string): Condition {
  return createParser(text).condition()
}

function createParser (text: string) {
  if (typeof text !== 'string') throw new QueryError('Invalid query: the query must be a string')
  if (text.length > MAX_QUERY_LENGTH) {
    throw new QueryError(`Invalid query: the query is ${text.length} characters long; at most ${MAX_QUERY_LENGTH} are allowed`)
  }
  const toks = tokenize(text)
  let pos = 0
  let nesting = 0

  const peek = (k = 0): Token => toks[Math.min(pos + k, toks.length - 1)] as Token
  const next = (): Token => { const t = peek(); if (pos < toks.length - 1) pos++; return t }
  const isWord = (t: Token, w: string): boolean => t.kind === 'ident' && t.text.toUpperCase() === w
  const isPunct = (t: Token, s: string): boolean => t.kind === 'punct' && t.text === s
  const prevText = (): string | undefined => {
    const t = toks[pos - 1]
    if (t === undefined) return undefined
    if (t.kind === 'ident' && RESERVED.has(t.text.toUpperCase())) return t.text.toUpperCase()
    const raw = text.slice(t.start, t.end)
    return raw.length > 40 ? `${raw.slice(0, 40)}…` : raw
  }
  const fail = (expected: string, t: Token = peek()): QueryError => syntaxError(text, t.start, expected, describeToken(t))
  const expectWord = (w: string): Token => {
    const t = peek()
    if (!isWord(t, w)) throw fail(`'${w}'`)
    return next()
  }
  const expectPunct = (s: string, what = `'${s}'`): Token => {
    const t = peek()
    if (!isPunct(t, s)) throw fail(what)
    return next()
  }
  const enter = (t: Token): void => {
    if (++nesting > MAX_NESTING) throw nestingError(text, t.start, MAX_NESTING)
  }

  function query (): Query {
    expectWord('SELECT')
    let top: number | undefined
    if (isWord(peek(), 'TOP')) {
      next()
      const t = peek()
      if (t.kind !== 'number' || !Number.isSafeInteger(t.num) || t.num < 0) throw fail('a non-negative integer after TOP')
      top = next().num
    }
    const select = selectList()
    expectWord('FROM')
    const from = collection()
    let where: Expr | undefined
    if (isWord(peek(), 'WHERE')) { next(); where = expr() }
    const groupBy: PathExpr[] = []
    if (isWord(peek(), 'GROUP')) {
      next()
      expectWord('BY')
      groupBy.push(path())
      while (isPunct(peek(), ',')) { next(); groupBy.push(path()) }
    }
    if (peek().kind !== 'eof') {
      throw fail(groupBy.length > 0 ? "',' or end of query" : where !== undefined ? 'an operator, GROUP BY or end of query' : 'WHERE, GROUP BY or end of query')
    }
    return { top, select, from, where, groupBy, text }
  }

  function condition (): Condition {
    const t = peek()
    if (t.kind === 'eof') return { from: 'devices', where: { kind: 'literal', value: false }, text }
    if (isPunct(t, '*') && peek(1).kind === 'eof') return { from: 'devices', where: undefined, text }
    if (isWord(t, 'SELECT')) {
      const q = query()
      validateQuery(q)
      if (q.select !== '*' || q.groupBy.length > 0 || q.top !== undefined || q.from === 'devices.jobs') {
        throw invalidQuery(text, 0, 'a condition selects twins: only SELECT * FROM devices or devices.modules with an optional WHERE')
      }
      return { from: q.from, where: q.where, text }
    }
    let from: Condition['from'] = 'devices'
    if (isWord(t, 'FROM')) {
      next()
      const c = peek()
      const coll = collection()
      if (coll === 'devices.jobs') throw invalidQuery(text, c.start, 'a condition targets devices or devices.modules, not devices.jobs')
      from = coll
      if (peek().kind === 'eof') return { from, where: undefined, text }
      expectWord('WHERE')
    } else if (isWord(t, 'WHERE')) {
      next()
    }
    const where = expr()
    if (peek().kind !== 'eof') throw fail('an operator or end of condition')
    return { from, where, text }
  }

  function selectList (): '*' | SelectItem[] {
    if (isPunct(peek(), '*')) { next(); return '*' }
    const items = [selectItem()]
    while (isPunct(peek(), ',')) { next(); items.push(selectItem()) }
    return items
  }

  function selectItem (): SelectItem {
    const t = peek()
    let item: SelectItem
    const upper = t.kind === 'ident' ? t.text.toUpperCase() : ''
    if (AGGREGATES.has(upper) && isPunct(peek(1), '(')) {
      next(); next()
      const fn = upper as AggregateFn
      let arg: PathExpr | undefined
      if (fn === 'COUNT') {
        if (isPunct(peek(), '*')) next() // COUNT(*): common SQL spelling, accepted
      } else {
        arg = path(`a property path inside ${fn}()`)
      }
      expectPunct(')', fn === 'COUNT' ? "')' after COUNT(" : `')' after the path in ${fn}(`)
      item = { kind: 'aggregate', fn, path: arg, alias: undefined, start: t.start }
    } else {
      item = { kind: 'path', path: path("'*', a property path or an aggregate (COUNT, AVG, SUM, MIN, MAX)"), alias: undefined }
    }
    if (isWord(peek(), 'AS')) {
      next()
      const a = peek()
      if ((a.kind !== 'ident' || RESERVED.has(a.text.toUpperCase())) && a.kind !== 'escaped') throw fail('a name after AS')
      item.alias = next().text
    }
    return item
  }

  function collection (): Collection {
    const t = peek()
    const what = "'devices', 'devices.modules' or 'devices.jobs'"
    if (!isWord(t, 'DEVICES')) throw fail(what)
    next()
    if (!isPunct(peek(), '.')) return 'devices'
    next()
    const sub = peek()
    if (isWord(sub, 'MODULES')) { next(); return 'devices.modules' }
    if (isWord(sub, 'JOBS')) { next(); return 'devices.jobs' }
    throw fail("'modules' or 'jobs' after 'devices.'", sub)
  }

  function path (what = 'a property path'): PathExpr {
    const t = peek()
    if (!(t.kind === 'escaped' || (t.kind === 'ident' && !RESERVED.has(t.text.toUpperCase())))) throw fail(what)
    return pathFrom(next())
  }

  /** `segment { "." segment }`; after a dot any word is a name, keywords included. */
  function pathFrom (first: Token): PathExpr {
    const segments: PathSegment[] = [{ name: first.text, escaped: first.kind === 'escaped' }]
    while (isPunct(peek(), '.')) {
      next()
      const s = peek()
      if (s.kind !== 'ident' && s.kind !== 'escaped') throw fail("a property name after '.'")
      next()
      segments.push({ name: s.text, escaped: s.kind === 'escaped' })
    }
    return { kind: 'path', segments, start: first.start }
  }

  function expr (): Expr {
    return orExpr()
  }

  function orExpr (): Expr {
    const operands = [andExpr()]
    while (isWord(peek(), 'OR')) { next(); operands.push(andExpr()) }
    return operands.length === 1 ? operands[0] as Expr : { kind: 'or', operands }
  }

  function andExpr (): Expr {
    const operands = [notExpr()]
    while (isWord(peek(), 'AND')) { next(); operands.push(notExpr()) }
    return operands.length === 1 ? operands[0] as Expr : { kind: 'and', operands }
  }

  function notExpr (): Expr {
    const t = peek()
    if (!isWord(t, 'NOT')) return cmpExpr()
    enter(t)
    next()
    const operand = notExpr()
    nesting--
    return { kind: 'not', operand }
  }

  function cmpExpr (): Expr {
    const left = addExpr()
    const t = peek()
    const op = t.kind === 'punct' ? COMPARE.get(t.text) : undefined
    if (op !== undefined) {
      next()
      return { kind: 'compare', op, left, right: addExpr() }
    }
    if (isWord(t, 'IN') || isWord(t, 'NIN')) {
      next()
      return { kind: 'in', negated: isWord(t, 'NIN'), operand: left, items: arrayLit(`'[' to start the list after ${t.text.toUpperCase()}`) }
    }
    return left
  }

  function addExpr (): Expr {
    const first = mulExpr()
    const rest: Array<{ op: ArithOp; operand: Expr }> = []
    for (let t = peek(); isPunct(t, '+') || isPunct(t, '-'); t = peek()) {
      next()
      rest.push({ op: t.text as ArithOp, operand: mulExpr() })
    }
    return rest.length === 0 ? first : { kind: 'arith', first, rest }
  }

  function mulExpr (): Expr {
    const first = unary()
    const rest: Array<{ op: ArithOp; operand: Expr }> = []
    for (let t = peek(); isPunct(t, '*') || isPunct(t, '/') || isPunct(t, '%'); t = peek()) {
      next()
      rest.push({ op: t.text as ArithOp, operand: unary() })
    }
    return rest.length === 0 ? first : { kind: 'arith', first, rest }
  }

  function unary (): Expr {
    const t = peek()
    if (!isPunct(t, '-')) return primary()
    next()
    const n = peek()
    if (n.kind === 'number') { next(); return { kind: 'literal', value: -n.num } }
    enter(t)
    const operand = unary()
    nesting--
    return { kind: 'neg', operand }
  }

  function primary (): Expr {
    const t = peek()
    switch (t.kind) {
      case 'number': next(); return { kind: 'literal', value: t.num }
      case 'string': next(); return { kind: 'literal', value: t.text }
      case 'escaped': next(); return pathFrom(t)
      case 'punct':
        if (t.text === '[') return { kind: 'array', items: arrayLit('an array') }
        if (t.text === '(') {
          enter(t)
          next()
          const inner = expr()
          expectPunct(')', "')' to close the parenthesis")
          nesting--
          return inner
        }
        break
      case 'ident': {
        const upper = t.text.toUpperCase()
        if (isPunct(peek(1), '(')) return call(t, upper)
        if (LITERAL_WORDS.has(upper) && !isPunct(peek(1), '.')) { next(); return { kind: 'literal', value: LITERAL_WORDS.get(upper) } }
        if (!RESERVED.has(upper)) { next(); return pathFrom(t) }
        break
      }
      default: break
    }
    const after = prevText()
    throw fail(after === undefined ? 'an expression' : `an expression after '${after}'`)
  }

  function call (name: Token, upper: string): Expr {
    if (AGGREGATES.has(upper)) {
      throw invalidQuery(text, name.start, `the aggregate ${upper}() is allowed only in the SELECT list`)
    }
    const def = FUNCTIONS.get(upper)
    if (def === undefined) throw syntaxError(text, name.start, 'a supported function', `unknown function '${name.text}'`)
    next()
    enter(peek())
    next() // '('
    const args: Expr[] = []
    if (!isPunct(peek(), ')')) {
      args.push(expr())
      while (isPunct(peek(), ',')) { next(); args.push(expr()) }
    }
    expectPunct(')', `',' or ')' in the arguments of ${upper}`)
    nesting--
    if (args.length < def.minArgs || args.length > def.maxArgs) {
      const want = def.minArgs === def.maxArgs ? `${def.minArgs}` : def.maxArgs === Infinity ? `at least ${def.minArgs}` : `${def.minArgs} to ${def.maxArgs}`
      throw invalidQuery(text, name.start, `${upper} takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`)
    }
    return { kind: 'call', name: upper, args }
  }

  function arrayLit (what: string): Literal[] {
    expectPunct('[', what)
    const items: Literal[] = []
    if (isPunct(peek(), ']')) { next(); return items }
    for (;;) {
      items.push(literal())
      if (isPunct(peek(), ']')) { next(); return items }
      expectPunct(',', "',' or ']' in the list")
    }
  }

  function literal (): Literal {
    const t = peek()
    if (t.kind === 'string' || t.kind === 'number') { next(); return t.kind === 'string' ? t.text : t.num }
    if (isPunct(t, '-') && peek(1).kind === 'number') { next(); return -next().num }
    if (t.kind === 'ident' && LITERAL_WORDS.has(t.text.toUpperCase())) { next(); return LITERAL_WORDS.get(t.text.toUpperCase()) }
    throw fail('a literal (string, number, true, false, null) in the list')
  }

  return { query, condition }
}

/**
 * Rules of D.2 that the grammar does not express: devices.jobs supports only SELECT * (no
 * projections, aggregates or GROUP BY); with aggregates or GROUP BY every plain path must be
 * a GROUP BY path; output names must be unique.
 */
function validateQuery (q: Query): void {
  if (q.from === 'devices.jobs' && (q.select !== '*' || q.groupBy.length > 0)) {
    throw invalidQuery(q.text, undefined, 'devices.jobs supports only SELECT * (no projections, aggregates or GROUP BY)')
  }
  if (q.select === '*') {
    if (q.groupBy.length > 0) throw invalidQuery(q.text, q.groupBy[0]?.start, 'SELECT * cannot be combined with GROUP BY; select the grouped paths and aggregates')
    return
  }
  const grouped = new Set(q.groupBy.map((g) => pathKey(canonicalPath(q.from, g.segments))))
  const aggregating = q.groupBy.length > 0 || q.select.some((i) => i.kind === 'aggregate')
  const names = new Set<string>()
  let unnamed = 0
  for (const item of q.select) {
    let name: string
    if (item.kind === 'path') {
      const canon = canonicalPath(q.from, item.path.segments)
      if (aggregating && !grouped.has(pathKey(canon))) {
        throw invalidQuery(q.text, item.path.start, `'${item.path.segments.map((s) => s.name).join('.')}' must appear in GROUP BY or inside an aggregate`)
      }
      name = item.alias ?? canon[canon.length - 1] ?? ''
    } else {
      name = item.alias ?? `$${++unnamed}`
    }
    if (names.has(name)) throw invalidQuery(q.text, undefined, `the output name '${name}' is used twice; give one of them an alias with AS`)
    names.add(name)
  }
}
