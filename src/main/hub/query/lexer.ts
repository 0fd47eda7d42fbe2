// Lexer for the query language (D.1). Keywords are not distinguished here: they are
// ordinary identifiers that the parser compares case-insensitively, because whether a word
// is a keyword depends on where it stands (`tags.status` vs `WHERE status = ...`).
import { syntaxError } from './errors.js'

export type TokenKind = 'ident' | 'escaped' | 'string' | 'number' | 'punct' | 'eof'

export interface Token {
  kind: TokenKind
  /** Identifier name, escaped segment name, decoded string, operator text; '' at eof. */
  text: string
  /** Numeric value of a number token. */
  num: number
  /** 0-based offsets into the query text. */
  start: number
  end: number
}

// Longest first, so '<=' wins over '<'.
const PUNCT = ['<=', '>=', '<>', '!=', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '.']

const isIdentStart = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 /* _ */ || c === 36 /* $ */
const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isIdentPart = (c: number): boolean => isIdentStart(c) || isDigit(c)
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)

/** A printable description of a token for error messages. */
export function describeToken (t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of query'
    case 'string': return `string '${clip(t.text)}'`
    case 'number': return `number ${clip(String(t.num))}`
    case 'escaped': return `'[[${clip(t.text)}]]'`
    default: return `'${clip(t.text)}'`
  }
}

function clip (s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, '?')
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable
}

export function tokenize (src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const n = src.length
  const push = (kind: TokenKind, text: string, start: number, num = 0): void => {
    tokens.push({ kind, text, num, start, end: i })
  }

  while (i < n) {
    const c = src.charCodeAt(i)
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0 || c === 0xfeff) { i++; continue }
    const start = i
    const prev = tokens[tokens.length - 1]

    // A path segment right after a dot may start with a digit (`tags.1st`): keys are free-form (B.4).
    if (isIdentStart(c) || (isDigit(c) && prev?.kind === 'punct' && prev.text === '.' && prev.end === i)) {
      while (i < n && isIdentPart(src.charCodeAt(i))) i++
      push('ident', src.slice(start, i), start)
      continue
    }

    if (isDigit(c)) { lexNumber(start); continue }

    if (c === 39 /* ' */ || c === 34 /* " */) { lexString(start, c); continue }

    // `[[name]]`: an escaped segment (D.1). An array literal never starts with `[[`
    // because array elements are literals only.
    if (c === 91 && src.charCodeAt(i + 1) === 91) {
      const close = src.indexOf(']]', i + 2)
      if (close < 0) throw syntaxError(src, start, "']]' to close the escaped name", 'end of query')
      i = close + 2
      const name = src.slice(start + 2, close)
      if (name.length === 0) throw syntaxError(src, start, 'a name inside [[ ]]', "']]'")
      push('escaped', name, start)
      continue
    }

    const op = PUNCT.find((p) => src.startsWith(p, i))
    if (op !== undefined) {
      i += op.length
      push('punct', op, start)
      continue
    }
    throw syntaxError(src, start, 'a token', `unexpected character ${describeChar(src, i)}`)
  }
  tokens.push({ kind: 'eof', text: '', num: 0, start: n, end: n })
  return tokens

  function lexNumber (start: number): void {
    let value: number
    if (src.charCodeAt(i) === 48 && (src.charCodeAt(i + 1) | 0x20) === 120 /* 0x */) {
      i += 2
      const digitsStart = i
      while (i < n && isHex(src.charCodeAt(i))) i++
      if (i === digitsStart) throw syntaxError(src, start, 'hexadecimal digits after 0x', found())
      value = Number.parseInt(src.slice(digitsStart, i), 16)
    } else {
      while (i < n && isDigit(src.charCodeAt(i))) i++
      if (src.charCodeAt(i) === 46 /* . */ && isDigit(src.charCodeAt(i + 1))) {
        i++
        while (i < n && isDigit(src.charCodeAt(i))) i++
      }
      if ((src.charCodeAt(i) | 0x20) === 101 /* e */) {
        let j = i + 1
        if (src.charCodeAt(j) === 43 || src.charCodeAt(j) === 45) j++
        if (!isDigit(src.charCodeAt(j))) { i = j; throw syntaxError(src, start, 'digits in the exponent', found()) }
        i = j
        while (i < n && isDigit(src.charCodeAt(i))) i++
      }
      value = Number(src.slice(start, i))
    }
    // `12abc` is neither a number nor a name: say so instead of lexing two tokens.
    if (i < n && isIdentPart(src.charCodeAt(i))) throw syntaxError(src, start, 'a number', `'${clip(src.slice(start, i + 1))}'`)
    // JSON cannot carry Infinity; refusing here keeps every value representable.
    if (!Number.isFinite(value)) throw syntaxError(src, start, 'a number within the range of a double', `'${clip(src.slice(start, i))}'`)
    push('number', src.slice(start, i), start, value)
  }

  function lexString (start: number, quote: number): void {
    i++
    let out = ''
    let chunk = i
    for (;;) {
      if (i >= n) throw syntaxError(src, start, 'a closing quote for the string starting here', 'end of query')
      const c = src.charCodeAt(i)
      if (c === quote) { out += src.slice(chunk, i); i++; break }
      if (c !== 92 /* \ */) { i++; continue }
      out += src.slice(chunk, i)
      const e = src[i + 1]
      switch (e) {
        case "'": case '"': case '\\': case '/': out += e; i += 2; break
        case 'n': out += '\n'; i += 2; break
        case 't': out += '\t'; i += 2; break
        case 'r': out += '\r'; i += 2; break
        case 'b': out += '\b'; i += 2; break
        case 'f': out += '\f'; i += 2; break
        case 'u': {
          const hex = src.slice(i + 2, i + 6)
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw syntaxError(src, i, 'four hexadecimal digits after \\u', `'${clip(src.slice(i, i + 6))}'`)
          out += String.fromCharCode(Number.parseInt(hex, 16))
          i += 6
          break
        }
        default:
          throw syntaxError(src, i, "an escape sequence (\\' \\\" \\\\ \\uXXXX)", e === undefined ? 'end of query' : `'\\${clip(e)}'`)
      }
      chunk = i
    }
    push('string', out, start)
  }

  function found (): string {
    return i >= n ? 'end of query' : describeChar(src, i)
  }
}

function describeChar (src: string, i: number): string {
  const cp = src.codePointAt(i) ?? 0
  return cp >= 0x20 && cp < 0x7f ? `'${String.fromCodePoint(cp)}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
}
