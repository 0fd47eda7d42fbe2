// Grammar (D.1), literals and escaping, error positions, limits.
import { describe, expect, it } from 'vitest'
import { HubError } from '../errors.js'
import { MAX_NESTING, MAX_QUERY_LENGTH, QueryError } from './errors.js'
import { parseCondition, parseQuery } from './parse.js'

function error (fn: () => unknown): QueryError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(QueryError)
    expect(err).toBeInstanceOf(HubError)
    const e = err as QueryError
    expect(e.errorName).toBe('ArgumentInvalid')
    expect(e.code).toBe(400004)
    expect(e.httpStatus).toBe(400)
    return e
  }
  throw new Error('expected a QueryError')
}

const where = (cond: string): unknown => parseQuery(`SELECT * FROM devices WHERE ${cond}`).where

describe('parseQuery: structure (D.1)', () => {
  it('parses SELECT/TOP/items/AS/FROM/WHERE/GROUP BY, keywords in any case', () => {
    const q = parseQuery('sElEcT tOp 5 properties.reported.fw aS fw, CoUnT() As n FrOm DeViCeS wHeRe tags.a = 1 GrOuP bY properties.reported.fw')
    expect(q.top).toBe(5)
    expect(q.from).toBe('devices')
    expect(q.select).toEqual([
      { kind: 'path', path: { kind: 'path', segments: [{ name: 'properties', escaped: false }, { name: 'reported', escaped: false }, { name: 'fw', escaped: false }], start: 13 }, alias: 'fw' },
      { kind: 'aggregate', fn: 'COUNT', path: undefined, alias: 'n', start: 43 }
    ])
    expect(q.groupBy).toHaveLength(1)
  })

  it('collections', () => {
    expect(parseQuery('SELECT * FROM devices').from).toBe('devices')
    expect(parseQuery('SELECT * FROM devices.modules').from).toBe('devices.modules')
    expect(parseQuery('SELECT * FROM Devices.Jobs').from).toBe('devices.jobs')
    expect(error(() => parseQuery('SELECT * FROM devices.twins')).message).toBe("Syntax error at position 23: expected 'modules' or 'jobs' after 'devices.' but found 'twins'")
    expect(error(() => parseQuery('SELECT * FROM twins')).expected).toBe("'devices', 'devices.modules' or 'devices.jobs'")
  })

  it('aggregates AVG/SUM/MIN/MAX(path), COUNT(*) accepted', () => {
    const q = parseQuery('SELECT AVG(properties.reported.t) AS a, SUM(properties.reported.t) AS s, MIN(properties.reported.t) AS lo, MAX(properties.reported.t) AS hi, COUNT(*) AS n FROM devices')
    expect(q.select).toHaveLength(5)
  })

  it('operator precedence: OR < AND < NOT < comparison < additive < multiplicative < unary', () => {
    expect(where('a = 1 OR b = 2 AND NOT c = 3')).toMatchObject({
      kind: 'or',
      operands: [{ kind: 'compare' }, { kind: 'and', operands: [{ kind: 'compare' }, { kind: 'not', operand: { kind: 'compare' } }] }]
    })
    expect(where('a + 2 * -b > 3')).toMatchObject({
      kind: 'compare', op: '>',
      left: { kind: 'arith', first: { kind: 'path' }, rest: [{ op: '+', operand: { kind: 'arith', rest: [{ op: '*', operand: { kind: 'neg' } }] } }] }
    })
    expect(where('(a = 1 OR b = 2) AND c = 3')).toMatchObject({ kind: 'and', operands: [{ kind: 'or' }, { kind: 'compare' }] })
    expect(where('a <> 1')).toMatchObject({ op: '!=' })
  })

  it('literals: strings with both quotes and escapes, numbers incl. hex and exponents, keywords', () => {
    expect(where("a = 'it\\'s \\\"x\\\" \\\\ \\u00e9'")).toMatchObject({ right: { value: 'it\'s "x" \\ é' } })
    expect(where('a = "dq \\" \'single\'"')).toMatchObject({ right: { value: 'dq " \'single\'' } })
    expect(where('a = 0x1F')).toMatchObject({ right: { value: 31 } })
    expect(where('a = 1.5e3')).toMatchObject({ right: { value: 1500 } })
    expect(where('a = -2.5')).toMatchObject({ right: { value: -2.5 } })
    expect(where('a = TRUE OR b = False OR c = NULL OR d = undefined')).toMatchObject({
      operands: [{ right: { value: true } }, { right: { value: false } }, { right: { value: null } }, { right: { value: undefined } }]
    })
    expect(where("a IN ['x', 1, -2, true, null]")).toMatchObject({ kind: 'in', negated: false, items: ['x', 1, -2, true, null] })
    expect(where('a NIN []')).toMatchObject({ kind: 'in', negated: true, items: [] })
  })

  it('paths: escaped segments, keywords after a dot, $ names, digit-leading segments', () => {
    expect(where("configurations.[[chiller-settings.v2]].status = 'Applied'")).toMatchObject({
      left: { segments: [{ name: 'configurations' }, { name: 'chiller-settings.v2', escaped: true }, { name: 'status' }] }
    })
    expect(where('tags.[[group]].name = 1')).toMatchObject({ left: { segments: [{ name: 'tags' }, { name: 'group', escaped: true }, { name: 'name' }] } })
    expect(where('tags.select.from = 1')).toMatchObject({ left: { segments: [{ name: 'tags' }, { name: 'select' }, { name: 'from' }] } })
    expect(where('properties.reported.$version > 1')).toMatchObject({ left: { segments: [{}, {}, { name: '$version' }] } })
    expect(where('tags.1st = 1')).toMatchObject({ left: { segments: [{}, { name: '1st' }] } })
    expect(where('[[odd key]] = 1')).toMatchObject({ left: { segments: [{ name: 'odd key', escaped: true }] } })
  })

  it('function names are case-insensitive; arity is checked', () => {
    expect(where("startsWith(deviceId, 'a')")).toMatchObject({ kind: 'call', name: 'STARTSWITH' })
    expect(error(() => where('IS_DEFINED()')).message).toMatch(/IS_DEFINED takes 1 argument, got 0/)
    expect(error(() => where("SUBSTRING('a', 1)")).message).toMatch(/SUBSTRING takes 3 arguments, got 2/)
  })
})

describe('parse errors carry the position and the expectation', () => {
  it('missing operand after AND', () => {
    const q = "SELECT * FROM devices WHERE tags.a = 1 AND"
    const e = error(() => parseQuery(q))
    expect(e.message).toBe("Syntax error at position 43: expected an expression after 'AND' but found end of query")
    expect(e.position).toEqual({ offset: 43, line: 1, column: 43 })
    expect(e.expected).toBe("an expression after 'AND'")
    expect(e.found).toBe('end of query')
  })

  it('multi-line queries report line and column', () => {
    const e = error(() => parseQuery('SELECT *\nFROM devices\nWHERE tags.a = = 1'))
    expect(e.position).toEqual({ offset: 38, line: 3, column: 16 })
    expect(e.message).toBe("Syntax error at line 3, column 16 (position 38): expected an expression after '=' but found '='")
  })

  it.each([
    ['SELECT', 7, "'*', a property path or an aggregate"],
    ['SELECT * devices', 10, "'FROM'"],
    ['FROM devices', 1, "'SELECT'"],
    ['SELECT * FROM devices WHERE', 28, 'an expression'],
    ['SELECT * FROM devices WHERE (a = 1', 35, "')' to close the parenthesis"],
    ['SELECT * FROM devices WHERE a IN (1, 2)', 34, "'[' to start the list after IN"],
    ["SELECT * FROM devices WHERE a IN ['x' 'y']", 39, "',' or ']' in the list"],
    ['SELECT * FROM devices WHERE a IN [b]', 35, 'a literal'],
    ['SELECT * FROM devices WHERE a = 1 b = 2', 35, 'an operator, GROUP BY or end of query'],
    ['SELECT * FROM devices ORDER BY deviceId', 23, 'WHERE, GROUP BY or end of query'],
    ['SELECT TOP x * FROM devices', 12, 'a non-negative integer after TOP'],
    ['SELECT TOP 1.5 * FROM devices', 12, 'a non-negative integer after TOP'],
    ['SELECT deviceId AS FROM devices', 20, 'a name after AS'],
    ['SELECT * FROM devices WHERE tags. = 1', 35, "a property name after '.'"],
    ["SELECT * FROM devices WHERE a = 'open", 33, 'a closing quote'],
    ['SELECT * FROM devices WHERE tags.[[x = 1', 34, "']]'"],
    ["SELECT * FROM devices WHERE a = '\\q'", 34, 'an escape sequence'],
    ["SELECT * FROM devices WHERE a = '\\u12G4'", 34, 'four hexadecimal digits'],
    ['SELECT * FROM devices WHERE a = 0x', 33, 'hexadecimal digits'],
    ['SELECT * FROM devices WHERE a = 12abc', 33, 'a number'],
    ['SELECT * FROM devices WHERE a = 1e999', 33, 'a number within the range'],
    ['SELECT * FROM devices WHERE a = #', 33, 'a token'],
    ['SELECT * FROM devices WHERE STARTS_WITH(deviceId, \'a\')', 29, 'a supported function']
  ])('%s -> position %i', (q, offset, expected) => {
    const e = error(() => parseQuery(q))
    expect(e.position?.offset).toBe(offset)
    expect(e.expected).toContain(expected)
    expect(e.message).toContain(`position ${offset}`)
  })

  it('unknown functions are named', () => {
    expect(error(() => parseQuery("SELECT * FROM devices WHERE STARTS_WITH(deviceId, 'a')")).message)
      .toBe("Syntax error at position 29: expected a supported function but found unknown function 'STARTS_WITH'")
  })

  it('aggregates outside SELECT, projections on devices.jobs, GROUP BY rules, duplicate names', () => {
    expect(error(() => parseQuery('SELECT * FROM devices WHERE COUNT() > 1')).message).toMatch(/COUNT\(\) is allowed only in the SELECT list/)
    expect(error(() => parseQuery('SELECT deviceId FROM devices.jobs')).message).toMatch(/devices.jobs supports only SELECT \*/)
    expect(error(() => parseQuery('SELECT COUNT() AS n FROM devices.jobs')).message).toMatch(/devices.jobs supports only SELECT \*/)
    expect(error(() => parseQuery('SELECT * FROM devices GROUP BY tags.a')).message).toMatch(/SELECT \* cannot be combined with GROUP BY/)
    expect(error(() => parseQuery('SELECT deviceId, COUNT() AS n FROM devices')).message).toMatch(/'deviceId' must appear in GROUP BY/)
    expect(error(() => parseQuery('SELECT tags.a, COUNT() AS n FROM devices GROUP BY tags.b')).message).toMatch(/must appear in GROUP BY/)
    expect(error(() => parseQuery('SELECT tags.x.v, tags.y.v FROM devices')).message).toMatch(/output name 'v' is used twice/)
    expect(parseQuery('SELECT tags.x.v, tags.y.v AS w FROM devices').select).toHaveLength(2)
    // GROUP BY path matching ignores the case of fixed fields.
    expect(parseQuery('SELECT DeviceId, COUNT() AS n FROM devices GROUP BY deviceid').groupBy).toHaveLength(1)
  })

  it('limits: length and nesting', () => {
    const long = `SELECT * FROM devices WHERE tags.a = '${'x'.repeat(MAX_QUERY_LENGTH)}'`
    expect(error(() => parseQuery(long)).message).toMatch(/at most 8192 are allowed/)
    const ok = `SELECT * FROM devices WHERE ${'('.repeat(MAX_NESTING)}a = 1${')'.repeat(MAX_NESTING)}`
    expect(parseQuery(ok).where).toMatchObject({ kind: 'compare' })
    const deep = `SELECT * FROM devices WHERE ${'('.repeat(MAX_NESTING + 1)}a = 1${')'.repeat(MAX_NESTING + 1)}`
    const e = error(() => parseQuery(deep))
    expect(e.message).toMatch(/nested more than 100 levels/)
    expect(e.position?.offset).toBe(29 + MAX_NESTING)
    expect(error(() => parseQuery(`SELECT * FROM devices WHERE ${'NOT '.repeat(200)} a = 1`)).message).toMatch(/nested more than/)
    expect(error(() => parseQuery(`SELECT * FROM devices WHERE ${'- '.repeat(200)} a = 1`)).message).toMatch(/nested more than/)
    expect(error(() => parseQuery(`SELECT * FROM devices WHERE ${'ABS('.repeat(200)}1${')'.repeat(200)} = 1`)).message).toMatch(/nested more than/)
    // Long flat chains are not nesting.
    const flat = `SELECT * FROM devices WHERE ${Array.from({ length: 300 }, (_, i) => `deviceId = 'd${i}'`).join(' OR ')}`
    expect(parseQuery(flat).where).toMatchObject({ kind: 'or' })
  })

  it('non-string input', () => {
    expect(error(() => parseQuery(42 as unknown as string)).message).toMatch(/must be a string/)
  })
})

describe('parseCondition (D.3 #21, C.6, F)', () => {
  it('bare expressions, *, FROM devices.modules, WHERE-prefixed, full SELECT *', () => {
    expect(parseCondition("deviceId = 'MyDevice1'")).toMatchObject({ from: 'devices', where: { kind: 'compare' } })
    expect(parseCondition("deviceId IN ['MyDevice1','MyDevice2']")).toMatchObject({ from: 'devices', where: { kind: 'in' } })
    expect(parseCondition("tags.environment='test'")).toMatchObject({ where: { kind: 'compare' } })
    expect(parseCondition('*')).toMatchObject({ from: 'devices', where: undefined })
    expect(parseCondition(" * ")).toMatchObject({ where: undefined })
    expect(parseCondition("FROM devices.modules WHERE tags.environment='test'")).toMatchObject({ from: 'devices.modules', where: { kind: 'compare' } })
    expect(parseCondition('from devices.modules')).toMatchObject({ from: 'devices.modules', where: undefined })
    expect(parseCondition("WHERE tags.a = 1")).toMatchObject({ from: 'devices', where: { kind: 'compare' } })
    expect(parseCondition("SELECT * FROM devices.modules WHERE tags.a = 1")).toMatchObject({ from: 'devices.modules', where: { kind: 'compare' } })
  })

  it("'' matches nothing", () => {
    expect(parseCondition('')).toMatchObject({ where: { kind: 'literal', value: false } })
    expect(parseCondition('   ')).toMatchObject({ where: { kind: 'literal', value: false } })
  })

  it('errors', () => {
    expect(error(() => parseCondition('tags.a = ')).message).toBe("Syntax error at position 10: expected an expression after '=' but found end of query")
    expect(error(() => parseCondition('* AND x')).position?.offset).toBe(1)
    expect(error(() => parseCondition('FROM devices.jobs WHERE a = 1')).message).toMatch(/not devices.jobs/)
    expect(error(() => parseCondition('SELECT deviceId FROM devices')).message).toMatch(/only SELECT \*/)
    expect(error(() => parseCondition('tags.a = 1 tags.b = 2')).expected).toBe('an operator or end of condition')
  })
})
