// Engine: paging (C.4), item types, IndexedCollection maintenance and index/scan equivalence.
import { describe, expect, it } from 'vitest'
import { createIndexedCollection } from './collection.js'
import { createQueryEngine } from './engine.js'
import { QueryError } from './errors.js'
import { buildFixtureTwins, exampleJobRecords, exampleModuleTwins, exampleTwins, makeTwin } from './fixture.js'
import type { JsonValue, TwinDocument } from '../types.js'

const key = (t: TwinDocument): string => (t.moduleId === undefined ? t.deviceId : `${t.deviceId}/${t.moduleId}`)

function indexed (docs: TwinDocument[]): ReturnType<typeof createIndexedCollection<TwinDocument>> {
  const c = createIndexedCollection<TwinDocument>()
  for (const d of docs) c.upsert(key(d), d)
  return c
}

describe('paging (C.4)', () => {
  const docs = buildFixtureTwins(250)
  const engine = createQueryEngine({ twins: () => docs })

  function all (text: string, pageSize?: number): { pages: number; items: JsonValue[] } {
    const items: JsonValue[] = []
    let continuation: string | undefined
    let pages = 0
    do {
      const page = engine.query(text, { ...(pageSize === undefined ? {} : { pageSize }), ...(continuation === undefined ? {} : { continuation }) })
      pages++
      items.push(...page.items)
      if (page.continuation !== undefined) expect(page.continuation).not.toBe('')
      continuation = page.continuation
    } while (continuation !== undefined)
    return { pages, items }
  }

  it('default page size 100; continuation only while more rows exist', () => {
    const first = engine.query('SELECT deviceId FROM devices')
    expect(first.items).toHaveLength(100)
    expect(typeof first.continuation).toBe('string')
    const r = all('SELECT deviceId FROM devices')
    expect(r.pages).toBe(3)
    expect(r.items).toEqual(docs.map((d) => ({ deviceId: d.deviceId })))
  })

  it('the last page has no continuation property at all; an exact multiple ends without an empty page', () => {
    const small = engine.query('SELECT TOP 3 deviceId FROM devices', { pageSize: 5 })
    expect(small).toEqual({ items: docs.slice(0, 3).map((d) => ({ deviceId: d.deviceId })) })
    expect(Object.hasOwn(small, 'continuation')).toBe(false)
    expect(all('SELECT TOP 10 deviceId FROM devices', 5).pages).toBe(2)
    expect(all('SELECT TOP 10 deviceId FROM devices', 10).pages).toBe(1)
  })

  it('pageSize is honoured, clamped to the maximum (100 by default, configurable)', () => {
    expect(engine.query('SELECT * FROM devices', { pageSize: 7 }).items).toHaveLength(7)
    expect(engine.query('SELECT * FROM devices', { pageSize: 1000 }).items).toHaveLength(100)
    const big = createQueryEngine({ twins: () => docs, maxPageSize: 1000 })
    expect(big.query('SELECT * FROM devices', { pageSize: 1000 }).items).toHaveLength(250)
  })

  it('TOP spans pages; aggregates page too', () => {
    const r = all('SELECT TOP 150 deviceId FROM devices', 40)
    expect(r.items).toHaveLength(150)
    expect(r.pages).toBe(4)
    const groups = all('SELECT tags.site AS site, COUNT() AS n FROM devices GROUP BY tags.site', 20)
    expect(groups.pages).toBe(3)
    expect(groups.items).toEqual(engine.run('SELECT tags.site AS site, COUNT() AS n FROM devices GROUP BY tags.site'))
    expect((groups.items as Array<{ n: number }>).reduce((s, g) => s + g.n, 0)).toBe(250)
  })

  it('tokens are stable and bound to their query', () => {
    const a = engine.query('SELECT * FROM devices', { pageSize: 10 }).continuation as string
    expect(engine.query('SELECT * FROM devices', { pageSize: 10 }).continuation).toBe(a)
    expect(engine.query('SELECT * FROM devices', { continuation: a, pageSize: 1 }).items).toEqual([docs[10]])
    expect(() => engine.query('SELECT deviceId FROM devices', { continuation: a })).toThrow(/issued for a different query/)
    for (const bad of ['', 'x', '!!!', 'e30', Buffer.from('{"v":1,"o":-1,"h":"x"}').toString('base64url'), 'A'.repeat(2000)]) {
      let err: unknown
      try { engine.query('SELECT * FROM devices', { continuation: bad }) } catch (e) { err = e }
      expect(err).toBeInstanceOf(QueryError)
      expect((err as QueryError).httpStatus).toBe(400)
    }
  })

  it('invalid page sizes are 400', () => {
    for (const pageSize of [0, -1, 1.5, Number.NaN]) {
      expect(() => engine.query('SELECT * FROM devices', { pageSize })).toThrow(QueryError)
    }
  })

  it('a token past the end gives an empty last page', () => {
    const t = engine.query('SELECT * FROM devices', { pageSize: 100 }).continuation as string
    docs.length = 90 // the collection shrank between pages
    expect(engine.query('SELECT * FROM devices', { continuation: t })).toEqual({ items: [] })
  })
})

describe('item types and collections', () => {
  const engine = createQueryEngine({ twins: () => [...exampleTwins(), ...exampleModuleTwins()], jobs: () => exampleJobRecords() })

  it('x-ms-item-type', () => {
    expect(engine.itemType('SELECT * FROM devices')).toBe('twin')
    expect(engine.itemType('SELECT * FROM devices.modules')).toBe('twin')
    expect(engine.itemType('SELECT * FROM devices.jobs')).toBe('deviceJob')
    expect(engine.itemType('SELECT deviceId FROM devices')).toBe('raw')
    expect(engine.itemType('SELECT COUNT() AS n FROM devices')).toBe('raw')
  })

  it('devices.modules has module twins only; devices.modules. prefix; jobs without a source are empty', () => {
    expect(engine.count('SELECT * FROM devices.modules')).toBe(8)
    expect(engine.run("SELECT moduleId FROM devices.modules WHERE devices.modules.deviceId = 'device2'")).toEqual([{ moduleId: 'scanner' }, { moduleId: '$edgeAgent' }])
    expect(engine.run("SELECT deviceId, moduleId FROM devices.modules WHERE devices.moduleId = 'scanner' AND deviceId = 'device3'")).toEqual([{ deviceId: 'device3', moduleId: 'scanner' }])
    expect(engine.run('SELECT properties.reported.status AS s, COUNT() AS n FROM devices.modules GROUP BY properties.reported.status'))
      .toEqual([{ n: 4 }, { s: 'scanning', n: 3 }, { s: 'idle', n: 1 }])
    expect(createQueryEngine({ twins: () => [] }).run('SELECT * FROM devices.jobs')).toEqual([])
  })

  it('devices.jobs: twin fields are just missing; status values are the record values', () => {
    expect(engine.count("SELECT * FROM devices.jobs WHERE tags.a = 1")).toBe(0)
    expect(engine.count("SELECT * FROM devices.jobs WHERE status = 'failed'")).toBe(2)
    expect(engine.count("SELECT * FROM devices.jobs WHERE DEVICES.JOBS.JOBID = 'job01'")).toBe(3)
  })
})

describe('IndexedCollection', () => {
  it('deviceId is indexed from the start; tags/reported paths on first use; others are not', () => {
    const c = indexed(exampleTwins())
    expect(c.indexedPaths()).toEqual([['deviceId']])
    const engine = createQueryEngine({ twins: c })
    engine.run("SELECT * FROM devices WHERE tags.site = 'A' AND properties.reported.fw = '1.2.0'")
    expect(c.indexedPaths()).toEqual([['deviceId'], ['tags', 'site'], ['properties', 'reported', 'fw']])
    engine.run("SELECT * FROM devices WHERE capabilities.iotEdge = true AND x509Thumbprint.primaryThumbprint = null")
    expect(c.indexedPaths()).toHaveLength(3)
  })

  it('is maintained on upsert, remove, in-place mutation and clear', () => {
    const docs = exampleTwins()
    const c = indexed(docs)
    const engine = createQueryEngine({ twins: c })
    const ids = (q: string): string[] => engine.select(q).map(key)
    expect(ids("tags.site = 'B'")).toEqual(['sensor-03', 'edge-02'])
    // Change a value: the doc moves between buckets and keeps its collection position.
    c.upsert('sensor-01', makeTwin({ deviceId: 'sensor-01', tags: { site: 'B' } }))
    expect(ids("tags.site = 'B'")).toEqual(['sensor-01', 'sensor-03', 'edge-02'])
    expect(ids("tags.site = 'A'")).not.toContain('sensor-01')
    // Mutate in place and upsert the same object: the index must not keep the stale key.
    const edge = c.get('edge-02') as TwinDocument
    ;(edge.tags as { site: string }).site = 'C'
    c.upsert('edge-02', edge)
    expect(ids("tags.site = 'B'")).toEqual(['sensor-01', 'sensor-03'])
    expect(ids("tags.site IN ['C']")).toEqual(['edge-02'])
    // Removal; re-insertion goes to the end.
    expect(c.remove('sensor-03')).toBe(true)
    expect(c.remove('sensor-03')).toBe(false)
    expect(ids("tags.site = 'B'")).toEqual(['sensor-01'])
    expect(ids("deviceId = 'sensor-03'")).toEqual([])
    c.upsert('sensor-03', makeTwin({ deviceId: 'sensor-03', tags: { site: 'B' } }))
    expect(ids("tags.site = 'B'")).toEqual(['sensor-01', 'sensor-03'])
    expect(engine.run('SELECT deviceId FROM devices').at(-1)).toEqual({ deviceId: 'sensor-03' })
    // A value turning into an object leaves the index.
    c.upsert('sensor-01', makeTwin({ deviceId: 'sensor-01', tags: { site: { nested: true } } }))
    expect(ids("tags.site = 'B'")).toEqual(['sensor-03'])
    c.clear()
    expect(c.size).toBe(0)
    expect(ids("tags.site = 'B'")).toEqual([])
    expect(ids('*')).toEqual([])
  })

  it('respects the policy and the cap', () => {
    const c = createIndexedCollection<TwinDocument>({ indexes: [], autoIndex: (p) => p[0] === 'tags', maxIndexes: 1 })
    for (const d of exampleTwins()) c.upsert(key(d), d)
    const engine = createQueryEngine({ twins: c })
    engine.run("SELECT * FROM devices WHERE deviceId = 'a'")
    expect(c.indexedPaths()).toEqual([])
    engine.run("SELECT * FROM devices WHERE tags.site = 'A'")
    engine.run("SELECT * FROM devices WHERE tags.location.region = 'US'")
    expect(c.indexedPaths()).toEqual([['tags', 'site']])
  })

  it('index plans and scans return identical results on random queries', () => {
    const docs = buildFixtureTwins(3000)
    const mods = docs.slice(0, 300).map((d, i) => makeTwin({ deviceId: d.deviceId, moduleId: i % 2 === 0 ? 'm1' : '$edgeAgent', tags: { site: d.tags?.site ?? 'x' } }))
    const all = [...docs, ...mods]
    const scan = createQueryEngine({ twins: () => all, maxPageSize: 10000 })
    const idx = createQueryEngine({ twins: indexed(all), maxPageSize: 10000 })
    let seed = 7
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
    const atoms = [
      () => `tags.site = 'plant-${rnd(50)}'`,
      () => `properties.reported.fw = '${['1.1.0', '1.2.0', '1.3.0', '2.0.0', '9'][rnd(5)]}'`,
      () => `deviceId = 'device-${String(rnd(3200)).padStart(6, '0')}'`,
      () => `deviceId IN ['device-${String(rnd(3000)).padStart(6, '0')}', 'device-${String(rnd(3000)).padStart(6, '0')}', 'nope']`,
      () => `tags.location.region = '${['US', 'EU', 'APAC'][rnd(3)]}'`,
      () => `properties.reported.tempC > ${rnd(60)}`,
      () => `tags.line = ${rnd(10)}`,
      () => `'plant-${rnd(50)}' = tags.site`,
      () => `NOT (tags.line = ${rnd(10)})`,
      () => `moduleId = '${['m1', '$edgeAgent'][rnd(2)]}'`
    ]
    const cond = (depth: number): string => {
      const r = rnd(depth > 2 ? 1 : 4)
      if (r === 0) return (atoms[rnd(atoms.length)] as () => string)()
      if (r === 1) return `(${cond(depth + 1)} AND ${cond(depth + 1)})`
      if (r === 2) return `(${cond(depth + 1)} OR ${cond(depth + 1)})`
      return `${cond(depth + 1)} AND ${cond(depth + 1)} AND ${cond(depth + 1)}`
    }
    for (let i = 0; i < 300; i++) {
      const from = rnd(4) === 0 ? 'devices.modules' : 'devices'
      const q = `SELECT deviceId, moduleId FROM ${from} WHERE ${cond(0)}`
      expect(idx.run(q), q).toEqual(scan.run(q))
    }
  })
})
