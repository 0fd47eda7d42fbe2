// Query errors. Every problem with a query's text is a 400 ArgumentInvalid (C.4: "Invalid
// query -> 400"); the position and expectation are also exposed as data so the UI can
// highlight the offending spot without parsing the message.
import { HubError } from '../errors.js'

/** Longest accepted query text (C.4: "Query text <= 8192 chars"). */
export const MAX_QUERY_LENGTH = 8192

/** Deepest accepted nesting of parentheses / NOT / unary minus / function calls. */
export const MAX_NESTING = 100

export interface QueryPosition {
  /** 1-based character offset into the query text. */
  offset: number
  /** 1-based line. */
  line: number
  /** 1-based column within the line. */
  column: number
}

export class QueryError extends HubError {
  /** Where the problem is, when it can be pinned to a spot in the text. */
  readonly position: QueryPosition | undefined
  /** What the parser expected there, e.g. "an expression". */
  readonly expected: string | undefined
  /** What it found instead, e.g. "end of query" or "'AND'". */
  readonly found: string | undefined

  constructor (message: string, detail: { position?: QueryPosition, expected?: string, found?: string } = {}) {
    super('ArgumentInvalid', message)
    this.name = 'QueryError'
    this.position = detail.position
    this.expected = detail.expected
    this.found = detail.found
  }
}

/** 1-based position of a 0-based offset. */
export function positionAt (text: string, offset0: number): QueryPosition {
  let line = 1
  let lineStart = 0
  const end = Math.min(offset0, text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) { line++; lineStart = i + 1 }
  }
  return { offset: offset0 + 1, line, column: offset0 - lineStart + 1 }
}

function where (text: string, pos: QueryPosition): string {
  // Single-line queries (the common case) read best with just the offset.
  return text.includes('\n')
    ? `at line ${pos.line}, column ${pos.column} (position ${pos.offset})`
    : `at position ${pos.offset}`
}

/** "Syntax error at position 27: expected X but found Y". */
export function syntaxError (text: string, offset0: number, expected: string, found: string): QueryError {
  const position = positionAt(text, offset0)
  return new QueryError(`Syntax error ${where(text, position)}: expected ${expected} but found ${found}`,
    { position, expected, found })
}

/** A well-formed query that uses something unsupported, e.g. a projection on devices.jobs. */
export function invalidQuery (text: string, offset0: number | undefined, message: string): QueryError {
  if (offset0 === undefined) return new QueryError(`Invalid query: ${message}`)
  const position = positionAt(text, offset0)
  return new QueryError(`Invalid query ${where(text, position)}: ${message}`, { position })
}

/** Nesting beyond the cap (MAX_NESTING): refused before recursing, so the stack never overflows. */
export function nestingError (text: string, offset0: number, max: number): QueryError {
  const position = positionAt(text, offset0)
  return new QueryError(`Syntax error ${where(text, position)}: the expression is nested more than ${max} levels deep`,
    { position, expected: `at most ${max} levels of nesting`, found: 'deeper nesting' })
}
