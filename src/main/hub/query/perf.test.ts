// Prints (does not assert) timings over 100,000 twins: a plain JS filter, the compiled scan,
// and the IndexedCollection plan, for selective queries. Results are asserted equal.
import { describe, expect, it } from 'vitest'
import { createIndexedCollection } from './collection.js'
import { createQueryEngine } from './engine.js'
import { buildFixtureTwins } from './fixture.js'
import type { TwinDocument } from '../types.js'

const N = 100_000

/** Best of `runs` after a warm-up (which also builds lazy indexes): the least noisy figure on a shared machine. */
function time<T> (fn: () => T, runs = 7): { ms: number; result: T } {
  let result = fn()
  let best = Infinity
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    result = fn()
    best = Math.min(best, performance.now() - t0)
  }
  return { ms: best, result }
}

describe(`performance over ${N.toLocaleString('en-US')} twins (printed, not asserted)`, () => {
  it('compiled scan and index plan vs a plain JS filter', () => {
    const twins = buildFixtureTwins(N)
    const coll = createIndexedCollection<TwinDocument>()
    for (const t of twins) coll.upsert(t.deviceId, t)
    const scanEngine = createQueryEngine({ twins: () => twins, maxPageSize: N })
    const indexEngine = createQueryEngine({ twins: coll, maxPageSize: N })

    const cases: Array<{ name: string; q: string; plain: (t: TwinDocument) => boolean }> = [
      {
        name: "tags.site = 'plant-7' AND properties.reported.fw = '1.2.0'",
        q: "SELECT deviceId FROM devices WHERE tags.site = 'plant-7' AND properties.reported.fw = '1.2.0'",
        plain: (t) => t.tags?.site === 'plant-7' && t.properties.reported.fw === '1.2.0'
      },
      {
        name: "deviceId = 'device-054321'",
        q: "SELECT deviceId FROM devices WHERE deviceId = 'device-054321'",
        plain: (t) => t.deviceId === 'device-054321'
      },
      {
        name: 'deviceId IN [5 ids]',
        q: "SELECT deviceId FROM devices WHERE deviceId IN ['device-000001', 'device-012345', 'device-054321', 'device-099999', 'nope']",
        plain: (t) => ['device-000001', 'device-012345', 'device-054321', 'device-099999', 'nope'].includes(t.deviceId)
      },
      {
        name: 'range (no index): tempC > 59.5 AND region = EU',
        q: "SELECT deviceId FROM devices WHERE properties.reported.tempC > 59.5 AND tags.location.region = 'EU'",
        plain: (t) => typeof t.properties.reported.tempC === 'number' && t.properties.reported.tempC > 59.5 &&
          (t.tags?.location as { region?: string } | undefined)?.region === 'EU'
      }
    ]

    const lines: string[] = []
    for (const c of cases) {
      const plain = time(() => twins.filter(c.plain).map((t) => ({ deviceId: t.deviceId })))
      const scan = time(() => scanEngine.run(c.q))
      const indexed = time(() => indexEngine.run(c.q))
      expect(scan.result).toEqual(plain.result)
      expect(indexed.result).toEqual(plain.result)
      lines.push(`${c.name.padEnd(52)} rows=${String(plain.result.length).padStart(5)}  plain JS ${plain.ms.toFixed(2).padStart(7)} ms  compiled ${scan.ms.toFixed(2).padStart(7)} ms  indexed ${indexed.ms.toFixed(3).padStart(7)} ms`)
    }
    // First-use index build cost, measured on a fresh collection.
    const fresh = createIndexedCollection<TwinDocument>()
    for (const t of twins) fresh.upsert(t.deviceId, t)
    const t0 = performance.now()
    fresh.count(['tags', 'site'], [])
    lines.push(`lazy index build for tags.site over ${N} twins: ${(performance.now() - t0).toFixed(1)} ms`)
    const t1 = performance.now()
    for (let i = 0; i < 1000; i++) {
      const t = twins[i * 7] as TwinDocument
      coll.upsert(t.deviceId, { ...t, tags: { ...t.tags, site: `plant-${i % 50}` } })
    }
    lines.push(`1000 upserts with ${coll.indexedPaths().length} maintained indexes: ${(performance.now() - t1).toFixed(1)} ms`)
    console.log(`\n${lines.join('\n')}`)
  })
})
