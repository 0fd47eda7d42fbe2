// Evaluation semantics (D.2): undefined, mixed types, three-valued logic, functions, casing.
import { describe, expect, it } from 'vitest'
import { compileCondition, createQueryEngine } from './engine.js'
import { makeTwin } from './fixture.js'
import type { JsonObject, TwinDocument } from '../types.js'

// One twin with a known reported section; `matches(cond)` is the boolean verdict on it.
const twin = makeTwin({
  deviceId: 'Dev-1',
  tags: { site: 'A', Site: 'lower-wins-not', n: 5, s: '5', flag: true, nul: null, obj: { x: 1 }, arr: [1, 2], empty: '' },
  reported: { t: 21.5, fw: '1.2.0', name: 'Sensor', neg: -3, zero: 0 },
  configurations: { cfg1: { status: 'applied' } }
})
const matches = (cond: string, doc: TwinDocument = twin): boolean => compileCondition(cond)(doc)

describe('truth: a row passes only on boolean true', () => {
  it.each([
    ['tags.flag', true],
    ['tags.n', false],
    ['tags.s', false],
    ['tags.nul', false],
    ['tags.obj', false],
    ['tags.missing', false],
    ['true', true],
    ['false', false],
    ['null', false],
    ['undefined', false],
    ["'true'", false],
    ['1', false]
  ])('%s -> %s', (cond, expected) => expect(matches(cond)).toBe(expected))
})

describe('comparisons: same-type primitives only', () => {
  it.each([
    ['tags.n = 5', true],
    ["tags.n = '5'", false],
    ["NOT (tags.n = '5')", false], // undefined, not false: NOT keeps it undefined
    ["tags.n != '5'", false], // mixed types: undefined, even for !=
    ['tags.n != 4', true],
    ['tags.n <> 5', false],
    ["tags.s = '5'", true],
    ['tags.s > 4', false],
    ["properties.reported.fw < '1.10.0'", false], // ordinal string order: '2' > '1'
    ["properties.reported.fw > '1.10.0'", true],
    ["properties.reported.name > 'sensor'", false], // ordinal: 'S' (0x53) < 's' (0x73)
    ['properties.reported.t >= 21.5', true],
    ['properties.reported.t < 0x16', true],
    ['tags.flag = true', true],
    ['tags.flag > false', true],
    ['tags.flag = 1', false],
    ['tags.nul = null', true],
    ['tags.nul != null', false],
    ['tags.missing = null', false],
    ['NOT (tags.missing = null)', false],
    ['tags.nul < 1', false],
    ['tags.obj = tags.obj', false], // objects are not comparable
    ['tags.arr = tags.arr', false],
    ['tags.missing = tags.missing', false],
    ['NOT (tags.missing != 1)', false],
    ['tags.n = tags.n', true],
    ['properties.reported.zero = -0', true],
    ['5 = tags.n', true],
    ['4 < tags.n', true], // literal on the left is flipped correctly
    ['6 <= tags.n', false],
    ['tags.missing = undefined', false],
    ['NOT (tags.n = undefined)', false]
  ])('%s -> %s', (cond, expected) => expect(matches(cond)).toBe(expected))
})

describe('IN / NIN', () => {
  it.each([
    ["tags.site IN ['A', 'B']", true],
    ["tags.site IN ['a']", false],
    ["tags.site NIN ['B']", true],
    ["tags.site NIN ['A']", false],
    ["tags.n IN ['5']", false], // same equality as '=': no coercion
    ["tags.n NIN ['5']", true],
    ['tags.n IN [1, 5]', true],
    ['tags.nul IN [null]', true],
    ["tags.missing NIN ['x']", false], // undefined never passes NIN
    ["tags.obj NIN ['x']", false],
    ["NOT (tags.missing IN ['x'])", false],
    ['tags.n IN []', false],
    ['tags.n NIN []', true],
    ['tags.n IN [undefined]', false]
  ])('%s -> %s', (cond, expected) => expect(matches(cond)).toBe(expected))
})

describe('three-valued AND / OR / NOT', () => {
  it.each([
    ['tags.missing = 1 OR tags.n = 5', true], // undefined OR true = true
    ['tags.n = 5 OR tags.missing = 1', true],
    ['tags.missing = 1 OR tags.n = 4', false], // undefined OR false = undefined
    ['NOT (tags.missing = 1 OR tags.n = 4)', false],
    ['NOT (tags.missing = 1 AND tags.n = 4)', true], // undefined AND false = false; NOT false = true
    ['NOT (tags.n = 4 AND tags.missing = 1)', true],
    ['NOT (tags.missing = 1 AND tags.n = 5)', false], // undefined AND true = undefined
    ['NOT tags.missing', false],
    ['NOT tags.flag', false],
    ['NOT NOT tags.flag', true],
    ['NOT tags.n', false],
    ['tags.flag AND tags.flag AND tags.flag', true],
    ["tags.flag AND 'x'", false],
    ["NOT (tags.flag AND 'x')", false]
  ])('%s -> %s', (cond, expected) => expect(matches(cond)).toBe(expected))
})

describe('arithmetic: numbers only', () => {
  it.each([
    ['tags.n + 1 = 6', true],
    ['tags.n - 10 = -5', true],
    ['tags.n * 2 / 4 = 2.5', true],
    ['tags.n % 3 = 2', true],
    ['-tags.n = -5', true],
    ['- -tags.n = 5', true],
    ['2 + 3 * 4 = 14', true],
    ['(2 + 3) * 4 = 20', true],
    ['10 - 2 - 3 = 5', true], // left-associative
    ['tags.s + 1 = 6', false],
    ['NOT (tags.s + 1 = 6)', false],
    ['tags.missing + 1 = 1', false],
    ['tags.n / 0 = 0', false], // non-finite -> undefined
    ['NOT (tags.n / 0 = 0)', false],
    ["-'x' = 1", false],
    ['properties.reported.t * 1.8 + 32 > 70', true]
  ])('%s -> %s', (cond, expected) => expect(matches(cond)).toBe(expected))
})

describe('functions', () => {
  it.each([
    ['IS_DEFINED(tags.nul)', true],
    ['IS_DEFINED(tags.missing)', false],
    ['is_defined(tags.obj.x)', true],
    ['IS_NULL(tags.nul)', true],
    ['IS_NULL(tags.missing)', false],
    ['IS_BOOL(tags.flag)', true],
    ['IS_NUMBER(tags.n) AND NOT IS_NUMBER(tags.s)', true],
    ['IS_STRING(tags.s)', true],
    ['IS_OBJECT(tags.obj) AND NOT IS_OBJECT(tags.arr) AND NOT IS_OBJECT(tags.nul)', true],
    ['IS_ARRAY(tags.arr)', true],
    ['IS_PRIMITIVE(tags.nul) AND IS_PRIMITIVE(tags.s) AND NOT IS_PRIMITIVE(tags.obj) AND NOT IS_PRIMITIVE(tags.missing)', true],
    ["STARTSWITH(deviceId, 'Dev')", true],
    ["STARTSWITH(deviceId, 'dev')", false],
    ["STARTSWITH(deviceId, 'dev', true)", true],
    ["ENDSWITH(properties.reported.fw, '.0')", true],
    ["CONTAINS(properties.reported.name, 'ens')", true],
    ["STARTSWITH(tags.n, '5')", false],
    ["NOT STARTSWITH(tags.n, '5')", false],
    ["LOWER(properties.reported.name) = 'sensor'", true],
    ["UPPER(tags.site) = 'A'", true],
    ['LENGTH(properties.reported.name) = 6', true],
    ['LENGTH(tags.empty) = 0', true],
    ["CONCAT(tags.site, '-', properties.reported.fw) = 'A-1.2.0'", true],
    ["CONCAT(tags.site, tags.n) = 'A5'", false],
    ["SUBSTRING(properties.reported.name, 1, 3) = 'ens'", true],
    ["INDEX_OF(properties.reported.name, 'so') = 3", true],
    ["INDEX_OF(properties.reported.name, 'zz') = -1", true],
    ['ABS(properties.reported.neg) = 3', true],
    ['CEILING(properties.reported.t) = 22', true],
    ['FLOOR(properties.reported.t) = 21', true],
    ['SIGN(properties.reported.neg) = -1', true],
    ['SQRT(16) = 4', true],
    ['IS_DEFINED(SQRT(-1))', false],
    ['SQUARE(tags.n) = 25', true],
    ['POWER(2, 10) = 1024', true],
    ['EXP(0) = 1', true],
    ["AS_NUMBER(tags.s) = tags.n", true],
    ['AS_NUMBER(tags.n) = 5', true],
    ["IS_DEFINED(AS_NUMBER('0x10'))", false],
    ["IS_DEFINED(AS_NUMBER('abc'))", false],
    ['IS_DEFINED(ABS(tags.s))', false]
  ])('%s -> %s', (cond, expected) => expect(matches(cond)).toBe(expected))
})

describe('casing (D.2)', () => {
  it('fixed top-level fields match case-insensitively, user keys do not', () => {
    expect(matches("DEVICEID = 'Dev-1'")).toBe(true)
    expect(matches("deviceid = 'Dev-1'")).toBe(true)
    expect(matches("deviceId = 'dev-1'")).toBe(false) // values stay case-sensitive
    expect(matches("Properties.Reported.fw = '1.2.0'")).toBe(true)
    expect(matches("properties.reported.FW = '1.2.0'")).toBe(false)
    expect(matches("Tags.site = 'A'")).toBe(true)
    expect(matches("tags.Site = 'lower-wins-not'")).toBe(true)
    expect(matches("tags.SITE = 'A'")).toBe(false)
    expect(matches('Capabilities.IotEdge = false')).toBe(true)
  })

  it("configurations.[[id]].status ignores case on both sides; other fields do not", () => {
    expect(matches("configurations.[[cfg1]].status = 'Applied'")).toBe(true)
    expect(matches("configurations.cfg1.status = 'APPLIED'")).toBe(true)
    expect(matches("configurations.cfg1.status != 'Applied'")).toBe(false)
    expect(matches("'Applied' = configurations.cfg1.status")).toBe(true)
    expect(matches("configurations.cfg1.status IN ['Targeted', 'Applied']")).toBe(true)
    expect(matches("configurations.[[cfg2]].status = 'Applied'")).toBe(false)
    expect(matches("status = 'Enabled'")).toBe(false)
  })

  it('the devices. prefix is accepted', () => {
    expect(matches("devices.deviceId = 'Dev-1'")).toBe(true)
    expect(matches("devices.tags.site = 'A'")).toBe(true)
  })

  it('inherited properties never leak', () => {
    expect(matches('IS_DEFINED(tags.constructor)')).toBe(false)
    expect(matches('IS_DEFINED(tags.[[__proto__]])')).toBe(false)
    expect(matches('IS_DEFINED(tags.arr.length)')).toBe(false)
    expect(matches('IS_DEFINED(tags.s.length)')).toBe(false)
  })
})

describe('projections', () => {
  const docs: TwinDocument[] = [
    twin,
    makeTwin({ deviceId: 'Dev-2', tags: { site: 'B' }, reported: { t: 10 } }),
    makeTwin({ deviceId: 'Dev-3', tags: { site: 'B' } })
  ]
  const engine = createQueryEngine({ twins: () => docs })

  it('keys: alias, else the last segment in document casing; missing values omitted; values copied', () => {
    expect(engine.run('SELECT DEVICEID, tags.site, properties.reported.t AS temp, tags.obj FROM devices')).toEqual([
      { deviceId: 'Dev-1', site: 'A', temp: 21.5, obj: { x: 1 } },
      { deviceId: 'Dev-2', site: 'B', temp: 10 },
      { deviceId: 'Dev-3', site: 'B' }
    ])
    const [first] = engine.run('SELECT tags.obj FROM devices') as JsonObject[]
    ;(first?.obj as JsonObject).x = 99
    expect((twin.tags?.obj as JsonObject).x).toBe(1)
    const [whole] = engine.run('SELECT * FROM devices') as unknown as TwinDocument[]
    expect(whole).toEqual(twin)
    expect(whole).not.toBe(twin)
  })

  it('aggregates: COUNT, SUM, AVG, MIN, MAX; unaliased keys are $1, $2, ...', () => {
    expect(engine.run('SELECT COUNT(), SUM(properties.reported.t), AVG(properties.reported.t) AS avg, MIN(properties.reported.t) AS lo, MAX(properties.reported.t) AS hi FROM devices'))
      .toEqual([{ $1: 3, $2: 31.5, avg: 15.75, lo: 10, hi: 21.5 }])
    // No input rows: COUNT 0, SUM 0, AVG/MIN/MAX omitted.
    expect(engine.run("SELECT COUNT() AS n, SUM(properties.reported.t) AS s, AVG(properties.reported.t) AS a, MAX(tags.x) AS m FROM devices WHERE tags.site = 'none'"))
      .toEqual([{ n: 0, s: 0 }])
    // MIN/MAX over strings when there are no numbers (ISO timestamps).
    expect(engine.run('SELECT MAX(deviceId) AS m, MIN(deviceId) AS l FROM devices')).toEqual([{ m: 'Dev-3', l: 'Dev-1' }])
  })

  it('GROUP BY several paths; undefined group values omit the key; TOP caps groups', () => {
    expect(engine.run('SELECT tags.site, properties.reported.t AS t, COUNT() AS n FROM devices GROUP BY tags.site, properties.reported.t')).toEqual([
      { site: 'A', t: 21.5, n: 1 }, { site: 'B', t: 10, n: 1 }, { site: 'B', n: 1 }
    ])
    expect(engine.run('SELECT tags.site, COUNT() AS n FROM devices GROUP BY tags.site')).toEqual([{ site: 'A', n: 1 }, { site: 'B', n: 2 }])
    expect(engine.run('SELECT TOP 1 tags.site, COUNT() AS n FROM devices GROUP BY tags.site')).toEqual([{ site: 'A', n: 1 }])
    // A GROUP BY without aggregates lists distinct values.
    expect(engine.run('SELECT tags.site FROM devices GROUP BY tags.site')).toEqual([{ site: 'A' }, { site: 'B' }])
    // No rows -> no groups.
    expect(engine.run("SELECT tags.site, COUNT() AS n FROM devices WHERE tags.site = 'none' GROUP BY tags.site")).toEqual([])
  })

  it('TOP caps the whole result; TOP 0 is empty', () => {
    expect(engine.run('SELECT TOP 2 deviceId FROM devices')).toEqual([{ deviceId: 'Dev-1' }, { deviceId: 'Dev-2' }])
    expect(engine.run('SELECT TOP 0 * FROM devices')).toEqual([])
    expect(engine.query('SELECT TOP 0 * FROM devices')).toEqual({ items: [] })
    expect(engine.count('SELECT TOP 2 * FROM devices')).toBe(2)
    expect(engine.count("SELECT * FROM devices WHERE tags.site = 'B'")).toBe(2)
    expect(engine.count('SELECT tags.site, COUNT() AS n FROM devices GROUP BY tags.site')).toBe(2)
  })
})
