// Fuzzing the parser and engine: thousands of random and mutated queries must either run or
// fail with a QueryError (HubError ArgumentInvalid, 400004) — never another exception, never
// a stack overflow, never a hang.
import { describe, expect, it } from 'vitest'
import { createIndexedCollection } from './collection.js'
import { createQueryEngine } from './engine.js'
import { QueryError } from './errors.js'
import { exampleJobRecords, exampleModuleTwins, exampleTwins } from './fixture.js'
import { parseCondition, parseQuery } from './parse.js'
import type { TwinDocument } from '../types.js'

const EXAMPLES = [
  'SELECT * FROM devices',
  "SELECT * FROM devices WHERE tags.location.region = 'US'",
  "SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
  "SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']",
  "SELECT * FROM devices WHERE deviceId NIN ['a', 'b']",
  'SELECT * FROM devices WHERE is_defined(properties.reported.connectivity)',
  'SELECT COUNT() AS totalNumberOfDevices FROM devices',
  'SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices FROM devices GROUP BY properties.reported.telemetryConfig.status',
  "SELECT DeviceId, LastActivityTime FROM devices WHERE status = 'enabled' AND connectionState = 'Disconnected'",
  'SELECT TOP 2 * FROM devices WHERE capabilities.iotEdge = true',
  "SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning' AND deviceId IN ['device1','device2']",
  "select count() as _count from devices.modules where moduleId = '$edgeAgent'",
  "SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'myDeviceId'",
  "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'job01' AND devices.jobs.status = 'failed'",
  "SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'd1' AND devices.jobs.jobType = 'scheduleUpdateTwin' AND devices.jobs.createdTimeUtc > '2016-09-01'",
  "SELECT deviceId FROM devices WHERE configurations.[[chillersettings]].status = 'Applied'",
  "SELECT * FROM devices WHERE tags.[[group]].name = 'line-1'",
  "SELECT * FROM devices WHERE STARTSWITH(deviceId, 'sensor-')",
  'SELECT * FROM devices WHERE properties.reported.tempC * 1.8 + 32 > 100',
  "SELECT properties.reported.fw AS fw, COUNT() AS n FROM devices WHERE tags.site = 'A' GROUP BY properties.reported.fw",
  "SELECT * FROM devices WHERE NOT (tags.a <> -0x1F) OR CONCAT(LOWER(deviceId), \"x\\u0041\\'\") = 'y' AND SUBSTRING(deviceId, 0, 2) = 'se'",
  'SELECT AVG(properties.reported.tempC) AS a, MIN(deviceId) AS m, SUM(tags.line) AS s FROM devices WHERE tags.site % 2 = 1'
]
const CONDITIONS = ["deviceId = 'MyDevice1'", "deviceId IN ['MyDevice1','MyDevice2']", "tags.environment='test'", '*', "FROM devices.modules WHERE tags.environment='test'"]

const TOKENS = ['SELECT', 'TOP', '*', 'FROM', 'devices', 'devices.modules', 'devices.jobs', 'WHERE', 'GROUP', 'BY', 'AS', 'AND', 'OR', 'NOT',
  'IN', 'NIN', '(', ')', '[', ']', '[[', ']]', ',', '.', '=', '!=', '<>', '<', '>', '<=', '>=', '+', '-', '/', '%', "'", '"', '\\',
  'true', 'false', 'null', 'undefined', '0x', '1e', '1e999', '99999999999999999999999', 'COUNT()', 'IS_DEFINED(', 'STARTSWITH(', 'deviceId',
  'tags.a', "'x'", '[[group]]', '\u0000', '\uffff', '\ud800', '😀', '\n', '\t']

// Deterministic PRNG so a failure is reproducible from the printed query.
let seed = 20240601
const rnd = (n: number): number => {
  seed = (seed ^ (seed << 13)) >>> 0
  seed = (seed ^ (seed >>> 17)) >>> 0
  seed = (seed ^ (seed << 5)) >>> 0
  return seed % n
}
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T
const randomChar = (): string => (rnd(4) === 0 ? String.fromCharCode(rnd(0x10000)) : String.fromCharCode(32 + rnd(95)))

function mutateChars (q: string): string {
  let s = q
  for (let k = 1 + rnd(4); k > 0; k--) {
    const i = rnd(s.length + 1)
    switch (rnd(4)) {
      case 0: s = s.slice(0, i) + randomChar() + s.slice(i); break // insert
      case 1: s = s.slice(0, i) + s.slice(i + 1); break // delete
      case 2: if (i + 1 < s.length) s = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2); break // swap
      default: s = s.slice(0, i) + pick(TOKENS) + s.slice(i) // insert a token
    }
  }
  return s
}

function mutateTokens (q: string): string {
  const toks = q.split(/(\s+|[()[\],=<>!])/).filter((t) => t !== '')
  for (let k = 1 + rnd(3); k > 0; k--) {
    const i = rnd(toks.length)
    switch (rnd(4)) {
      case 0: toks.splice(i, 1); break
      case 1: toks.splice(i, 0, pick(TOKENS)); break
      case 2: { const j = rnd(toks.length); const a = toks[i] as string; toks[i] = toks[j] as string; toks[j] = a; break }
      default: toks.splice(i, 0, toks[i] ?? '')
    }
  }
  return toks.join(rnd(2) === 0 ? '' : ' ')
}

function randomTokens (): string {
  return Array.from({ length: 1 + rnd(30) }, () => pick(TOKENS)).join(rnd(3) === 0 ? '' : ' ')
}

function garbage (): string {
  return Array.from({ length: rnd(200) }, () => String.fromCharCode(rnd(256))).join('')
}

const deep = (n: number, open: string, close: string, inner = "a = 1"): string => `${open.repeat(n)}${inner}${close.repeat(n)}`
const PATHOLOGICAL = [
  `SELECT * FROM devices WHERE ${deep(5000, '(', ')')}`,
  `SELECT * FROM devices WHERE ${deep(5000, '(', '')}`,
  `SELECT * FROM devices WHERE ${'NOT '.repeat(2000)}a = 1`,
  `SELECT * FROM devices WHERE ${'-'.repeat(5000)}1 = 1`,
  `SELECT * FROM devices WHERE ${'- '.repeat(4000)}a = 1`,
  `SELECT * FROM devices WHERE ${deep(2000, 'ABS(', ')', '1')} = 1`,
  `SELECT * FROM devices WHERE a = ${'9'.repeat(5000)}`,
  `SELECT * FROM devices WHERE a = 0x${'f'.repeat(3000)}`,
  `SELECT * FROM devices WHERE a = 1e308 * 10`,
  `SELECT * FROM devices WHERE a = 0.${'0'.repeat(4000)}1`,
  `SELECT TOP ${'9'.repeat(400)} * FROM devices`,
  `SELECT * FROM devices WHERE a = '${'x'.repeat(8000)}`,
  `SELECT * FROM devices WHERE a = '${'\\'.repeat(7999)}`,
  `SELECT * FROM devices WHERE tags.[[${'x'.repeat(8000)}`,
  `SELECT * FROM devices WHERE ${Array.from({ length: 800 }, (_, i) => `a${i} = ${i}`).join(' AND ')}`.slice(0, 8192),
  `SELECT * FROM devices WHERE ${Array.from({ length: 1300 }, () => 'a').join(' + ')} = 1`,
  `SELECT * FROM devices WHERE a IN [${Array.from({ length: 2000 }, (_, i) => i).join(',')}]`,
  `SELECT * FROM devices WHERE ${'a.'.repeat(4000)}b = 1`,
  `SELECT * FROM devices WHERE CONCAT(${Array.from({ length: 2000 }, () => "'a'").join(',')}) = 'a'`,
  'x'.repeat(10000),
  '\u0000'.repeat(100),
  "'",
  '"',
  '[[',
  ']]',
  '(',
  ''
]

const twins = [...exampleTwins(), ...exampleModuleTwins()]
const jobs = exampleJobRecords()
const scan = createQueryEngine({ twins: () => twins, jobs: () => jobs })
const coll = createIndexedCollection<TwinDocument>()
twins.forEach((t, i) => coll.upsert(String(i), t))
const indexed = createQueryEngine({ twins: coll, jobs: () => jobs })

let accepted = 0
let rejected = 0
let slowest = 0

function check (text: string): void {
  const attempts: Array<() => unknown> = [
    () => parseQuery(text),
    () => parseCondition(text),
    () => scan.query(text, { pageSize: 3 }),
    () => indexed.run(text),
    () => indexed.select(text)
  ]
  for (const attempt of attempts) {
    const t0 = performance.now()
    try {
      attempt()
      accepted++
    } catch (err) {
      if (!(err instanceof QueryError) || err.errorName !== 'ArgumentInvalid') {
        throw new Error(`unexpected ${String(err)} for query ${JSON.stringify(text.slice(0, 300))}`)
      }
      // Plain checks: expect() per call would dominate the run time.
      if (err.message.length === 0) throw new Error(`empty message for ${JSON.stringify(text.slice(0, 300))}`)
      const p = err.position
      if (p !== undefined && (p.offset < 1 || p.offset > text.length + 1 || p.line < 1 || p.column < 1)) {
        throw new Error(`position ${JSON.stringify(p)} out of range for ${JSON.stringify(text.slice(0, 300))}`)
      }
      rejected++
    }
    const ms = performance.now() - t0
    slowest = Math.max(slowest, ms)
    if (ms > 2000) throw new Error(`took ${ms.toFixed(0)} ms: ${JSON.stringify(text.slice(0, 300))}`)
  }
}

describe('fuzz', () => {
  it('pathological inputs (deep nesting, huge numbers, unterminated strings, oversize)', () => {
    for (const q of PATHOLOGICAL) check(q)
  })

  it('mutated D.3 examples, random token soup and binary garbage', () => {
    const seeds = [...EXAMPLES, ...CONDITIONS]
    for (const q of seeds) check(q)
    for (let i = 0; i < 6000; i++) {
      const base = pick(seeds)
      switch (i % 5) {
        case 0: check(mutateChars(base)); break
        case 1: check(mutateTokens(base)); break
        case 2: check(mutateTokens(mutateChars(base))); break
        case 3: check(randomTokens()); break
        default: check(garbage())
      }
    }
    console.log(`fuzz: ${accepted} calls accepted, ${rejected} rejected with ArgumentInvalid, slowest ${slowest.toFixed(1)} ms`)
    expect(accepted).toBeGreaterThan(1000)
    expect(rejected).toBeGreaterThan(1000)
  })
})
