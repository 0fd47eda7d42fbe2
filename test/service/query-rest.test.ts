// POST /devices/query through azure-iothub's Query object: paging to the last page (C.4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import iothub from 'azure-iothub'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'

const { Registry } = iothub
let hub: ServiceHub
let registry: InstanceType<typeof Registry>

beforeAll(async () => {
  hub = await startServiceHub()
  registry = Registry.fromConnectionString(hub.connectionString())
  for (let i = 0; i < 250; i++) {
    await hub.hub.registry.create({ deviceId: `q-${String(i).padStart(3, '0')}` })
    await hub.hub.twins.patch({ deviceId: `q-${String(i).padStart(3, '0')}` }, { tags: { site: i % 2 === 0 ? 'A' : 'B', n: i } })
    await hub.hub.twins.patchReported({ deviceId: `q-${String(i).padStart(3, '0')}` }, { fw: i % 5 === 0 ? '1.3.0' : '1.2.0' })
  }
}, 120_000)
afterAll(async () => { await hub?.close() })

describe('query over REST with azure-iothub', () => {
  it('pages through every row and stops on the last page', async () => {
    const q = registry.createQuery("SELECT * FROM devices WHERE tags.site = 'A'", 40)
    const seen: string[] = []
    let pages = 0
    while (q.hasMoreResults) {
      const page = await q.nextAsTwin()
      pages++
      seen.push(...page.result.map((t) => t.deviceId))
      expect(pages).toBeLessThan(10)
    }
    expect(pages).toBe(4)
    expect(seen).toHaveLength(125)
    expect(new Set(seen).size).toBe(125)
  })

  it('answers aggregates, GROUP BY and projections', async () => {
    const groups = (await registry.createQuery('SELECT properties.reported.fw AS fw, COUNT() AS n FROM devices GROUP BY properties.reported.fw').next()).result as Array<{ fw: string; n: number }>
    expect(groups.sort((a, b) => a.fw.localeCompare(b.fw))).toEqual([{ fw: '1.2.0', n: 200 }, { fw: '1.3.0', n: 50 }])
    const top = (await registry.createQuery("SELECT TOP 3 deviceId, tags.n AS n FROM devices WHERE tags.n >= 100 AND STARTSWITH(deviceId, 'q-1')").next()).result
    expect(top).toEqual([{ deviceId: 'q-100', n: 100 }, { deviceId: 'q-101', n: 101 }, { deviceId: 'q-102', n: 102 }])
    const jobs = (await registry.createQuery('SELECT * FROM devices.jobs').next()).result
    expect(jobs).toEqual([])
  })

  it('sees changes made after the first query', async () => {
    const count = async (): Promise<number> => ((await registry.createQuery("SELECT COUNT() AS c FROM devices WHERE tags.site = 'C'").next()).result as Array<{ c: number }>)[0]!.c
    expect(await count()).toBe(0)
    await registry.updateTwin('q-007', { tags: { site: 'C' } }, '*')
    expect(await count()).toBe(1)
    await registry.delete('q-007')
    expect(await count()).toBe(0)
  })

  it('refuses a bad query with 400 and the position', async () => {
    const err = await registry.createQuery('SELECT * FROM devices WHERE tags.a = ').next().then(() => null, (e: Error & { responseBody?: string }) => e)
    expect(err?.name).toBe('ArgumentError')
    expect(err?.message ?? '').toMatch(/position|column/i)
  })
})
