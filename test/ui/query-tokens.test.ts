// The query bar's tokenizer (pure), checked against the hub's own lexer and parser: every
// token the hub sees is highlighted with the same boundaries, and the error positions the
// hub reports land on the token the UI underlines.
import { describe, expect, it } from 'vitest'
import { tokenize } from '../../src/main/hub/query/lexer.js'
import { parseQuery } from '../../src/main/hub/query/parse.js'
import { QueryError } from '../../src/main/hub/query/errors.js'
import { highlight, tokenAt, tokenizeQuery, type QueryTokenKind } from '../../src/renderer/src/lib/query-tokens.js'

const kinds = (q: string): Array<[QueryTokenKind, string]> => tokenizeQuery(q).tokens.filter(t => t.kind !== 'space').map(t => [t.kind, t.text])

describe('query bar tokenizer', () => {
  it('classifies keywords, paths, functions, literals, strings, numbers and operators', () => {
    expect(kinds("SELECT deviceId, COUNT() AS n FROM devices WHERE tags.location.hall = 'B' AND properties.reported.temp >= -1.5e2 GROUP BY deviceId")).toEqual([
      ['keyword', 'SELECT'], ['path', 'deviceId'], ['punct', ','], ['function', 'COUNT'], ['punct', '('], ['punct', ')'], ['keyword', 'AS'], ['path', 'n'],
      ['keyword', 'FROM'], ['keyword', 'devices'], ['keyword', 'WHERE'],
      ['path', 'tags'], ['path', '.'], ['path', 'location'], ['path', '.'], ['path', 'hall'], ['operator', '='], ['string', "'B'"],
      ['keyword', 'AND'], ['path', 'properties'], ['path', '.'], ['path', 'reported'], ['path', '.'], ['path', 'temp'], ['operator', '>='], ['operator', '-'], ['number', '1.5e2'],
      ['keyword', 'GROUP'], ['keyword', 'BY'], ['path', 'deviceId']
    ])
  })

  it('knows words by where they stand: a keyword in a path is a property, a name before ( is a function', () => {
    expect(kinds('tags.select = true AND NOT is_defined (tags.in) OR status IN [\'a\', "b"] AND x NIN [0x1F, null]')).toEqual([
      ['path', 'tags'], ['path', '.'], ['path', 'select'], ['operator', '='], ['literal', 'true'], ['keyword', 'AND'], ['keyword', 'NOT'],
      ['function', 'is_defined'], ['punct', '('], ['path', 'tags'], ['path', '.'], ['path', 'in'], ['punct', ')'], ['keyword', 'OR'],
      ['path', 'status'], ['keyword', 'IN'], ['punct', '['], ['string', "'a'"], ['punct', ','], ['string', '"b"'], ['punct', ']'],
      ['keyword', 'AND'], ['path', 'x'], ['keyword', 'NIN'], ['punct', '['], ['number', '0x1F'], ['punct', ','], ['literal', 'null'], ['punct', ']']
    ])
    expect(kinds('SELECT * FROM devices.modules WHERE tags.[[odd key]] <> 1')).toEqual([
      ['keyword', 'SELECT'], ['operator', '*'], ['keyword', 'FROM'], ['keyword', 'devices'], ['path', '.'], ['keyword', 'modules'], ['keyword', 'WHERE'],
      ['path', 'tags'], ['path', '.'], ['path', '[[odd key]]'], ['operator', '<>'], ['number', '1']
    ])
    // a segment may start with a digit after a dot, as the hub allows
    expect(kinds('tags.1st = "it\'s"')).toEqual([['path', 'tags'], ['path', '.'], ['path', '1st'], ['operator', '='], ['string', '"it\'s"']])
  })

  it('covers the text exactly, whitespace and newlines included', () => {
    const q = "SELECT *\n  FROM devices\tWHERE tags.a = 'x y'  "
    const { tokens } = tokenizeQuery(q)
    expect(tokens.map(t => t.text).join('')).toBe(q)
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]?.start).toBe(tokens[i - 1]?.end)
  })

  it('agrees with the hub lexer on every token boundary of valid queries', () => {
    const queries = [
      "SELECT * FROM devices WHERE properties.reported.firmware.current = '1.4.2' AND connectionState = 'Connected'",
      'SELECT properties.reported.firmware.current AS version, COUNT() AS devices FROM devices GROUP BY properties.reported.firmware.current',
      "SELECT TOP 10 deviceId FROM devices WHERE STARTSWITH(deviceId, 'press-') AND tags.line IN [1, 2, 3] AND NOT IS_DEFINED(tags.retired)",
      'SELECT * FROM devices.jobs WHERE devices.jobs.status = "failed"',
      'SELECT * FROM devices WHERE tags.[[a.b]] != -0.5e-3 AND properties.reported.x % 2 = 0'
    ]
    for (const q of queries) {
      const hub = tokenize(q).filter(t => t.kind !== 'eof').map(t => [t.start, t.end])
      // the hub lexes '-' and a number apart, and a dotted path as idents and dots: so do we
      const ui = tokenizeQuery(q).tokens.filter(t => t.kind !== 'space').map(t => [t.start, t.end])
      expect(ui).toEqual(hub)
      expect(tokenizeQuery(q).problem).toBeUndefined()
    }
  })

  it('never throws on half-typed text, and marks where lexing stops making sense', () => {
    expect(tokenizeQuery("tags.site = 'hall").problem).toEqual({ offset: 12, message: 'a closing quote for the string starting here' })
    expect(tokenizeQuery("tags.site = 'hall").tokens.at(-1)).toMatchObject({ kind: 'error', text: "'hall" })
    expect(tokenizeQuery('tags.a = 12abc').problem?.offset).toBe(9)
    expect(tokenizeQuery('tags.a = #1').problem).toMatchObject({ offset: 9 })
    expect(tokenizeQuery('tags.[[open').problem).toMatchObject({ offset: 5 })
    // a problem the hub's lexer finds at the same spot
    for (const q of ["tags.site = 'hall", 'tags.a = 12abc', 'tags.a = #1', 'tags.[[open']) {
      let at: number | undefined
      try { tokenize(q) } catch (err) { at = (err as QueryError).position?.offset }
      expect(at).toBe((tokenizeQuery(q).problem?.offset ?? -1) + 1)
    }
    for (const q of ['', ' ', "'", '"\\', '[[', '[[]]', 'a.', '.', '0x', '1e', '😀 = 1', 'SELECT * FROM']) {
      const { tokens } = tokenizeQuery(q)
      expect(tokens.map(t => t.text).join('')).toBe(q)
    }
  })

  it('puts the hub\'s parse error position on the token the overlay underlines', () => {
    const cases: Array<[string, string]> = [
      ["SELECT * FROM devices WHERE properties.reported.firmware.current = = '1.4.2'", '='],
      ['SELECT * FROM devices WHERE tags.a = 1 AND', ' '], // ran out: the trailing marker
      ['SELECT * FROM devices WHERE tags.a IN (1, 2)', '('],
      ['SELECT * FROM devices WHERE tags.a = 1 ORDER BY deviceId', 'ORDER']
    ]
    for (const [q, marked] of cases) {
      let offset: number | undefined
      try { parseQuery(q) } catch (err) { offset = (err as QueryError).position?.offset }
      expect(offset, q).toBeDefined()
      const segs = highlight(q, (offset as number) - 1)
      const errs = segs.filter(s => s.error)
      expect(errs.map(s => s.text), q).toEqual([marked])
      // the overlay still spells the query (plus one trailing space when the error is at the end)
      expect(segs.map(s => s.text).join('').trimEnd()).toBe(q.trimEnd())
    }
    expect(tokenAt(tokenizeQuery('a =   b').tokens, 3)).toBe(4) // in the blanks: the next token
  })
})
