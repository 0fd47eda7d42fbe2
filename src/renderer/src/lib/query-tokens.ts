// Syntax highlighting for the IoT Hub query language (protocol D.1), pure: no DOM, no React.
// Unlike the hub's lexer (src/main/hub/query/lexer.ts) it never throws: a half-typed query is
// the normal case in a query bar, so a bad spot becomes an `error` token and the rest of the
// text is still highlighted. The tokens cover the text exactly (whitespace included), so an
// overlay built from them lines up character for character with the textarea under it.

export type QueryTokenKind =
  | 'keyword' // SELECT TOP FROM WHERE GROUP BY AS AND OR NOT IN NIN, and devices/modules/jobs after FROM
  | 'function' // IS_DEFINED(, STARTSWITH(, COUNT(, ... (a name followed by '(')
  | 'path' // identifiers, dots between them and [[escaped]] names: tags.location.hall
  | 'literal' // true false null undefined
  | 'string'
  | 'number'
  | 'operator' // = != <> < > <= >= + - * / %
  | 'punct' // ( ) [ ] ,
  | 'space'
  | 'error'

export interface QueryToken {
  kind: QueryTokenKind
  text: string
  /** 0-based, end exclusive. */
  start: number
  end: number
}

export interface LexProblem {
  /** 0-based offset of the problem. */
  offset: number
  message: string
}

export const KEYWORDS: ReadonlySet<string> = new Set(['SELECT', 'TOP', 'FROM', 'WHERE', 'GROUP', 'BY', 'AS', 'AND', 'OR', 'NOT', 'IN', 'NIN'])
export const LITERALS: ReadonlySet<string> = new Set(['TRUE', 'FALSE', 'NULL', 'UNDEFINED'])
/** Functions and aggregates the hub knows (src/main/hub/query/functions.ts). */
export const FUNCTIONS: ReadonlySet<string> = new Set([
  'IS_DEFINED', 'IS_NULL', 'IS_BOOL', 'IS_NUMBER', 'IS_STRING', 'IS_OBJECT', 'IS_ARRAY', 'IS_PRIMITIVE',
  'STARTSWITH', 'ENDSWITH', 'CONTAINS', 'LOWER', 'UPPER', 'LENGTH', 'CONCAT', 'SUBSTRING', 'INDEX_OF',
  'ABS', 'CEILING', 'FLOOR', 'SIGN', 'SQRT', 'SQUARE', 'EXP', 'POWER', 'AS_NUMBER',
  'COUNT', 'AVG', 'SUM', 'MIN', 'MAX'
])
const COLLECTIONS: ReadonlySet<string> = new Set(['DEVICES', 'MODULES', 'JOBS'])

// Longest first, so '<=' wins over '<'.
const OPERATORS = ['<=', '>=', '<>', '!=', '=', '<', '>', '+', '-', '*', '/', '%']
const PUNCT = ['(', ')', '[', ']', ',']

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\u00a0' || c === '\ufeff'
const isIdentStart = (c: string): boolean => /[A-Za-z_$]/.test(c)
const isIdentPart = (c: string): boolean => /[A-Za-z0-9_$]/.test(c)
const isDigit = (c: string): boolean => c >= '0' && c <= '9'

export function tokenizeQuery (src: string): { tokens: QueryToken[]; problem: LexProblem | undefined } {
  const tokens: QueryToken[] = []
  let problem: LexProblem | undefined
  let i = 0
  const n = src.length
  const push = (kind: QueryTokenKind, start: number): void => { tokens.push({ kind, text: src.slice(start, i), start, end: i }) }
  const flag = (offset: number, message: string): void => { problem ??= { offset, message } }
  /** The last token that is not whitespace. */
  const prevSolid = (): QueryToken | undefined => {
    for (let k = tokens.length - 1; k >= 0; k--) if (tokens[k]?.kind !== 'space') return tokens[k]
    return undefined
  }

  while (i < n) {
    const c = src[i] as string
    const start = i
    if (isSpace(c)) {
      while (i < n && isSpace(src[i] as string)) i++
      push('space', start)
      continue
    }
    const prev = tokens[tokens.length - 1]
    const afterDot = prev !== undefined && prev.kind === 'path' && prev.text === '.'
    // A segment right after a dot may start with a digit (`tags.1st`), as in the hub's lexer.
    if (isIdentStart(c) || (afterDot && isDigit(c))) {
      while (i < n && isIdentPart(src[i] as string)) i++
      push(wordKind(src, start, i, tokens, prevSolid()), start)
      continue
    }
    if (isDigit(c)) {
      lexNumber(start)
      continue
    }
    if (c === "'" || c === '"') {
      lexString(start, c)
      continue
    }
    if (c === '[' && src[i + 1] === '[') {
      const close = src.indexOf(']]', i + 2)
      if (close < 0) {
        i = n
        push('error', start)
        flag(start, "']]' to close the escaped name")
      } else {
        i = close + 2
        push(close === start + 2 ? 'error' : 'path', start)
        if (close === start + 2) flag(start, 'a name inside [[ ]]')
      }
      continue
    }
    if (c === '.') {
      i++
      push('path', start)
      continue
    }
    const op = OPERATORS.find(o => src.startsWith(o, i))
    if (op !== undefined) {
      i += op.length
      push('operator', start)
      continue
    }
    if (PUNCT.includes(c)) {
      i++
      push('punct', start)
      continue
    }
    // one character (or surrogate pair) the language does not have
    i += (src.codePointAt(i) ?? 0) > 0xffff ? 2 : 1
    push('error', start)
    flag(start, `a character the query language does not use: '${src.slice(start, i)}'`)
  }
  return { tokens, problem }

  function lexNumber (start: number): void {
    if (src[i] === '0' && (src[i + 1] === 'x' || src[i + 1] === 'X')) {
      i += 2
      while (i < n && /[0-9a-fA-F]/.test(src[i] as string)) i++
    } else {
      while (i < n && isDigit(src[i] as string)) i++
      if (src[i] === '.' && isDigit(src[i + 1] ?? '')) { i++; while (i < n && isDigit(src[i] as string)) i++ }
      if (src[i] === 'e' || src[i] === 'E') {
        let j = i + 1
        if (src[j] === '+' || src[j] === '-') j++
        if (isDigit(src[j] ?? '')) { i = j; while (i < n && isDigit(src[i] as string)) i++ }
      }
    }
    // `12abc` is neither a number nor a name (the hub refuses it too)
    if (i < n && isIdentPart(src[i] as string)) {
      while (i < n && isIdentPart(src[i] as string)) i++
      push('error', start)
      flag(start, 'a number')
      return
    }
    push('number', start)
  }

  function lexString (start: number, quote: string): void {
    i++
    for (;;) {
      if (i >= n) {
        push('error', start)
        flag(start, 'a closing quote for the string starting here')
        return
      }
      const c = src[i]
      if (c === quote) { i++; push('string', start); return }
      if (c === '\\') i += 2
      else i++
    }
  }
}

function wordKind (src: string, start: number, end: number, tokens: QueryToken[], prevSolid: QueryToken | undefined): QueryTokenKind {
  const word = src.slice(start, end).toUpperCase()
  const prev = tokens[tokens.length - 1]
  // part of a path: after a dot, or before one (tags.status, devices.modules)
  const inPath = (prev !== undefined && prev.kind === 'path' && prev.text === '.') || src[end] === '.'
  let k = end
  while (k < src.length && isSpace(src[k] as string)) k++
  if (src[k] === '(' && !inPath) return 'function'
  if (inPath) {
    // FROM devices.modules / devices.jobs: the collection, not a property
    const first = prevSolid !== undefined && prevSolid.kind === 'keyword' && prevSolid.text.toUpperCase() === 'FROM'
    const second = prev?.text === '.' && tokens.length >= 2 && tokens[tokens.length - 2]?.kind === 'keyword' && tokens[tokens.length - 2]?.text.toUpperCase() === 'DEVICES'
    return (first && word === 'DEVICES') || (second && (word === 'MODULES' || word === 'JOBS')) ? 'keyword' : 'path'
  }
  if (KEYWORDS.has(word)) return 'keyword'
  if (LITERALS.has(word)) return 'literal'
  if (COLLECTIONS.has(word) && prevSolid?.kind === 'keyword' && prevSolid.text.toUpperCase() === 'FROM') return 'keyword'
  return 'path'
}

/** Index of the token holding the 0-based `offset` (the first non-space token at or after it); -1 when the offset is at the end. */
export function tokenAt (tokens: QueryToken[], offset: number): number {
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as QueryToken
    if (t.end > offset && t.kind !== 'space') return k
  }
  return -1
}

export interface Segment {
  kind: QueryTokenKind
  text: string
  /** This segment is where the error is. */
  error: boolean
}

/**
 * The overlay's pieces: the tokens, with the one holding `errorOffset` (0-based; the server's
 * position or the local lexing problem) marked. An error at the very end of the text (the
 * query stops where more was expected) gets a one-space segment of its own to underline.
 */
export function highlight (src: string, errorOffset?: number): Segment[] {
  const { tokens } = tokenizeQuery(src)
  const at = errorOffset === undefined ? undefined : tokenAt(tokens, Math.max(0, errorOffset))
  const segs: Segment[] = tokens.map((t, k) => ({ kind: t.kind, text: t.text, error: at === k || t.kind === 'error' }))
  if (at === -1) segs.push({ kind: 'error', text: ' ', error: true })
  return segs
}
