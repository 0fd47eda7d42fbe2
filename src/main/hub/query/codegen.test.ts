// Generated predicates (codegen.ts) against the closure compiler (compile.ts, the reference
// semantics of D.2): for thousands of random WHERE clauses over fixture twins plus awkward
// rows (arrays, nulls, strings where objects are expected, own `constructor` / `__proto__`
// keys, mixed value types), both must accept exactly the same rows. Also: nothing from the
// query text ever appears in the generated source.
import { describe, expect, it } from 'vitest'
import type { Collection } from './ast.js'
import { generatePredicate, generatedSource } from './codegen.js'
import { compileClosurePredicate, compileExpr, compileRowPredicate, rowKindOf } from './compile.js'
import { createQueryEngine } from './engine.js'
import { buildFixtureTwins, exampleJobRecords, exampleModuleTwins, exampleTwins, makeTwin } from './fixture.js'
import { parseQuery } from './parse.js'
import type { TwinDocument } from '../types.js'

/** Rows that exercise every guard of a path read and every type mix of a comparison. */
function awkwardTwins (): object[] {
  const weird: object[] = [
    { deviceId: 'w-0' }, // no tags, no properties
    { deviceId: 'w-1', tags: null, properties: null },
    { deviceId: 'w-2', tags: 'plant-7', properties: 'x' },
    { deviceId: 'w-3', tags: ['plant-7'], properties: { reported: [] } },
    { deviceId: 'w-4', tags: { site: ['plant-7'], line: '3', location: 'EU', arr: [1, 2], str: 'abc', flag: true } },
    { deviceId: 'w-5', tags: { site: null, line: null, location: { region: null }, flag: false, n: -0 } },
    { deviceId: 'w-6', tags: { site: { x: 1 }, line: 3, location: { region: ['EU'] }, n: 0 } },
    { deviceId: 'w-7', tags: JSON.parse('{"__proto__": "p", "constructor": "c", "toString": 1, "hasOwnProperty": true}') },
    { deviceId: 'w-8', tags: { constructor: { name: 'Object' }, valueOf: 'plant-7' } },
    { deviceId: 'w-9', tags: Object.assign(Object.create(null), { site: 'plant-7', line: 7 }) },
    { deviceId: 'w-10', moduleId: 'scanner', tags: { site: 'plant-7', n: '1' }, properties: { reported: { fw: '1.2.0', tempC: 55.5, status: 'SCANNING' } } },
    { deviceId: 'w-11', tags: { site: 'PLANT-7', n: 1, a: { b: { c: { d: { e: { f: { g: { h: { i: 'deep' } } } } } } } } } },
    { deviceId: 'W-12', status: 'Enabled', tags: { site: 'plant-7', n: true }, configurations: { chillersettings: { status: 'APPLIED' }, other: { status: 'Targeted' } } },
    { deviceId: 'w-13', tags: { site: '', n: null, line: 59.5 }, properties: { reported: { tempC: '40', fw: 120, connectivity: null } }, configurations: { chillersettings: { status: 1 } } },
    { deviceId: 'w-14', tags: { site: 'plant-7' }, properties: { reported: { tempC: Number.NaN, fw: true }, desired: { telemetryInterval: -0 } } },
    { deviceId: 'w-15', capabilities: { iotEdge: 'true' }, configurations: { chillersettings: null } }
  ]
  return [
    ...buildFixtureTwins(300),
    ...exampleTwins(),
    ...exampleModuleTwins(),
    makeTwin({ deviceId: 'cfg-1', configurations: { chillersettings: { status: 'applied' } } }),
    ...weird
  ]
}

// Deterministic PRNG (xorshift32): a failure prints the query, and the run reproduces it.
let seed = 0x5eed1234
const rnd = (n: number): number => {
  seed = (seed ^ (seed << 13)) >>> 0
  seed = (seed ^ (seed >>> 17)) >>> 0
  seed = (seed ^ (seed << 5)) >>> 0
  return seed % n
}
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T

const TWIN_PATHS = [
  'deviceId', 'DeviceId', 'DEVICEID', 'moduleId', 'status', 'connectionState', 'lastActivityTime', 'version', 'etag',
  'devices.deviceId', 'devices.modules.moduleId', 'devices', 'statusReason',
  'tags', 'tags.site', 'tags.line', 'tags.n', 'tags.flag', 'tags.location', 'tags.location.region', 'tags.missing',
  'tags.arr', 'tags.arr.length', 'tags.str.length', 'tags.site.length', 'tags.constructor', 'tags.constructor.name',
  'tags.__proto__', 'tags.toString', 'tags.hasOwnProperty', 'tags.valueOf', 'tags.[[group]].name', 'tags.[[site]]',
  'tags.a.b.c.d.e.f.g.h.i', 'tags.a.b.c.d.e.f.g', 'constructor', 'toString',
  'properties.reported.fw', 'Properties.Reported.fw', 'properties.reported.FW', 'properties.reported.tempC',
  'properties.reported.connectivity', 'properties.reported.telemetryConfig.status',
  'properties.reported.telemetryConfig.sendFrequencyInSecs', 'properties.reported.status', 'properties.reported.$version',
  'properties.desired.telemetryInterval', 'properties.desired', 'capabilities.iotEdge', 'Capabilities.IOTEDGE',
  'configurations.[[chillersettings]].status', 'configurations.[[chillersettings]].STATUS', 'configurations.[[other]].status',
  'configurations.[[chillersettings]]', 'x509Thumbprint.primaryThumbprint', 'parentScopes', 'parentScopes.length'
]
const JOB_PATHS = ['deviceId', 'jobId', 'JobType', 'status', 'createdTimeUtc', 'devices.jobs.deviceId', 'createdDateTimeUtc',
  'outcome.deviceMethodResponse', 'outcome.deviceMethodResponse.status', 'error.code', 'constructor']

const STRINGS = ['plant-7', 'plant-1', 'PLANT-7', 'EU', 'US', '1.2.0', '1.3.0', 'Applied', 'applied', 'Targeted', 'enabled', 'Enabled',
  'Connected', 'wired', 'wifi', 'device-', 'device-00012', 'sensor-', '', '3', '40', 'c', 'p', 'deep', 'scanning', 'job01', 'failed',
  '2016-09-01', '2024-01-01T00:01', 'd1', 'Success', "it\\'s", 'x\\"y', '\\u00e9']
const NUMBERS = ['0', '1', '3', '7', '-1', '2', '10', '30', '40', '59.5', '120', '1e3', '0x1F', '0.5', '-0']

function literal (): string {
  switch (rnd(10)) {
    case 0: return pick(['true', 'false'])
    case 1: return pick(['null', 'undefined'])
    case 2: case 3: case 4: return pick(NUMBERS)
    default: return `'${pick(STRINGS)}'`
  }
}

function list (): string {
  const n = pick([0, 1, 2, 3, 5, 8, 9, 12])
  return `[${Array.from({ length: n }, literal).join(', ')}]`
}

const CMP = ['=', '!=', '<>', '<', '>', '<=', '>=']

function value (paths: readonly string[], depth: number): string {
  switch (depth > 2 ? 0 : rnd(12)) {
    case 0: case 1: case 2: case 3: case 4: case 5: return pick(paths)
    case 6: return literal()
    case 7: return `${pick(paths)} ${pick(['+', '-', '*', '/', '%'])} ${pick(NUMBERS)}`
    case 8: return `LOWER(${pick(paths)})`
    case 9: return `LENGTH(${pick(paths)})`
    case 10: return `-${pick(paths)}`
    default: return `CONCAT(${pick(paths)}, ${literal()})`
  }
}

function condition (paths: readonly string[], depth: number): string {
  const leaf = depth > 3
  switch (leaf ? rnd(8) : rnd(14)) {
    case 0: case 1: return `${pick(paths)} ${pick(CMP)} ${literal()}`
    case 2: return `${literal()} ${pick(CMP)} ${pick(paths)}`
    case 3: return `${pick(paths)} ${pick(['IN', 'NIN'])} ${list()}`
    case 4: return `${pick(['IS_DEFINED', 'IS_NULL', 'IS_BOOL', 'IS_NUMBER', 'IS_STRING', 'IS_OBJECT', 'IS_ARRAY', 'IS_PRIMITIVE'])}(${value(paths, depth + 1)})`
    case 5: {
      const fn = pick(['STARTSWITH', 'ENDSWITH', 'CONTAINS', 'startswith'])
      const flag = pick(['', '', ', true', ', false', ', null', ", 'x'", `, ${pick(paths)}`, ', undefined'])
      const pattern = rnd(6) === 0 ? pick([...NUMBERS, 'null', pick(paths)]) : `'${pick(STRINGS)}'`
      return `${fn}(${pick(paths)}, ${pattern}${flag})`
    }
    case 6: return `${value(paths, depth + 1)} ${pick(CMP)} ${value(paths, depth + 1)}`
    case 7: return rnd(2) === 0 ? pick(paths) : pick(['true', 'false', 'null', 'undefined', '1', "'x'"])
    case 8: case 9: return `NOT ${condition(paths, depth + 1)}`
    case 10: case 11: {
      const op = pick(['AND', 'OR'])
      return `(${Array.from({ length: 2 + rnd(3) }, () => condition(paths, depth + 1)).join(` ${op} `)})`
    }
    case 12: return `(${condition(paths, depth + 1)} ${pick(['AND', 'OR'])} NOT (${condition(paths, depth + 1)}))`
    default: return `${value(paths, depth + 1)} ${pick(['IN', 'NIN'])} ${list()}`
  }
}

describe('generated predicates agree with the closure compiler', () => {
  const twins = awkwardTwins()
  const jobs = exampleJobRecords() as unknown as object[]

  it('row for row on 4,000 random conditions', () => {
    let generated = 0
    let rowsChecked = 0
    let matches = 0
    for (let i = 0; i < 4000; i++) {
      const from: Collection = i % 10 === 9 ? 'devices.jobs' : i % 10 === 8 ? 'devices.modules' : 'devices'
      const rows = from === 'devices.jobs' ? jobs : twins
      const text = `SELECT * FROM ${from} WHERE ${condition(from === 'devices.jobs' ? JOB_PATHS : TWIN_PATHS, 0)}`
      const q = parseQuery(text)
      const kind = rowKindOf(from)
      const gen = generatePredicate(from, q.where, kind, (e) => compileExpr(from, e))
      const ref = compileClosurePredicate(from, q.where, kind)
      if (gen === undefined) continue
      generated++
      for (const row of rows) {
        const a = gen(row)
        const b = ref(row)
        if (a !== b) {
          throw new Error(`disagree on ${JSON.stringify(row)}: generated ${String(a)}, closures ${String(b)}\n${text}\n${generatedSource(from, q.where, kind, (e) => compileExpr(from, e)) ?? ''}`)
        }
        if (a) matches++
      }
      rowsChecked += rows.length
    }
    console.log(`codegen differential: ${generated} generated predicates, ${rowsChecked} row checks, ${matches} matches`)
    expect(generated).toBe(4000)
    expect(matches).toBeGreaterThan(10_000) // the random conditions do select rows, not only reject them
  })

  it('the engine answers the same with generated and closure predicates (paging, TOP, GROUP BY)', () => {
    const docs = twins as TwinDocument[]
    const engine = createQueryEngine({ twins: () => docs, maxPageSize: 1000 })
    for (let i = 0; i < 300; i++) {
      const where = condition(TWIN_PATHS, 0)
      const q = parseQuery(`SELECT * FROM devices WHERE ${where}`)
      const ref = compileClosurePredicate('devices', q.where, 'device')
      const expected = docs.filter(ref).map((d) => d.deviceId)
      expect(engine.run(`SELECT deviceId FROM devices WHERE ${where}`).map((r) => (r as { deviceId: string }).deviceId)).toEqual(expected)
      expect(engine.count(`SELECT deviceId FROM devices WHERE ${where}`)).toBe(expected.length)
      expect(engine.count(`SELECT TOP 3 deviceId FROM devices WHERE ${where}`)).toBe(Math.min(3, expected.length))
      expect(engine.select(where).map((d) => d.deviceId)).toEqual(expected)
    }
  })
})

describe('generated source', () => {
  const gen = (text: string, from: Collection = 'devices'): string =>
    generatedSource(from, parseQuery(text).where, rowKindOf(from), (e) => compileExpr(from, e)) ?? ''

  it('never contains query text: literals and names are arguments', () => {
    const evil = "SELECT * FROM devices WHERE tags.[[x']) || process.exit(1) || ('y]] = '\\u0027); process.exit(2); //' " +
      "AND STARTSWITH(tags.[[a\u2028b]], '*/ throw 1 /*') AND deviceId IN ['\\n});', 'constructor'] AND tags.`x` != 'a'"
    let src = ''
    try { src = gen(evil) } catch { src = gen("SELECT * FROM devices WHERE tags.[[x']) || process.exit(1) || ('y]] = '\\u0027); process.exit(2); //' AND deviceId IN ['\\n});']") }
    expect(src).toContain('function where')
    for (const fragment of ['process', 'exit', 'throw', '\n});', "x'", 'constructor']) expect(src).not.toContain(fragment)
    // and it runs, rejecting a twin that does not match
    const p = compileRowPredicate('devices', parseQuery("SELECT * FROM devices WHERE tags.[[x']) || process.exit(1) || ('y]] = '\\u0027); process.exit(2); //'").where, 'device')
    expect(p({ deviceId: 'd', tags: { "x']) || process.exit(1) || ('y": "'); process.exit(2); //" } })).toBe(true)
    expect(p({ deviceId: 'd', tags: {} })).toBe(false)
  })

  it('own properties only: Object.prototype members never leak', () => {
    const p = compileRowPredicate('devices', parseQuery('SELECT * FROM devices WHERE IS_DEFINED(tags.constructor) OR IS_DEFINED(tags.toString) OR IS_DEFINED(constructor)').where, 'device')
    expect(p({ deviceId: 'd', tags: {} })).toBe(false)
    expect(p({ deviceId: 'd', tags: { constructor: 1 } })).toBe(true)
    const q = compileRowPredicate('devices', parseQuery('SELECT * FROM devices WHERE tags.str.length = 3 OR tags.arr.length = 2 OR IS_DEFINED(tags.arr.map)').where, 'device')
    expect(q({ deviceId: 'd', tags: { str: 'abc', arr: [1, 2] } })).toBe(false)
  })

  it('common shapes compile to inline reads, not closure calls', () => {
    const src = gen("SELECT * FROM devices WHERE tags.site = 'plant-7' AND properties.reported.fw IN ['1.2.0', '1.3.0'] AND NOT (properties.reported.tempC > 50) AND IS_DEFINED(tags.line) AND STARTSWITH(deviceId, 'device-')")
    expect(src).not.toMatch(/\bk\d+\(row\)/)
    expect(src).toContain('row.moduleId === undefined')
  })
})
