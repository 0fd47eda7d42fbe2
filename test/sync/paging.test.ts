// Registry listing beyond 1,000 cloud devices: 1,050 children of the edge bulk-created in the
// cloud (azure-iothub addDevices, 100 per request) all come down to the edge. GET /devices is
// capped at 1,000 per page (IoT Hub's maximum); a Sitehub cloud pages with x-ms-continuation.
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { FAST_SYNC, startTestHub, testCa, waitFor, type TestHub } from './harness.js'
import { rest } from './rest.js'

const { Registry } = iothub
const N = 1050

describe('upstream sync: more than 1,000 cloud devices', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  const ca = testCa()

  beforeAll(async () => {
    cloud = await startTestHub({ role: 'cloud' })
    stack.defer(() => cloud.close())
    edge = await startTestHub({ role: 'edge', sync: { ...FAST_SYNC, resyncMs: 5000 } })
    stack.defer(() => edge.close())
  })
  afterAll(async () => { await stack.run() })

  it('GET /devices pages by 1,000 with x-ms-continuation, and the edge mirrors all 1,050 children', async () => {
    const reg = Registry.fromConnectionString(cloud.running.hub.registry.policies.connectionString('iothubowner').replace(/HostName=[^;]+/, `HostName=${cloud.ip}`))
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: 'site-p' })
    const scope = await waitFor('edge upstream with its scope', async () => ((await reg.get('site-p').catch(() => null))?.responseBody as unknown as { deviceScope?: string } | undefined)?.deviceScope, 30_000)
    expect(scope).toMatch(/^ms-azure-iot-edge:/)
    const ids = Array.from({ length: N }, (_, i) => `pg-${String(i).padStart(4, '0')}`)
    for (let i = 0; i < N; i += 100) {
      const chunk = ids.slice(i, i + 100).map((deviceId) => ({ deviceId, status: 'enabled', deviceScope: scope, parentScopes: [scope], authentication: { symmetricKey: { primaryKey: '', secondaryKey: '' } } }))
      const r = await reg.addDevices(chunk as never)
      expect((r.responseBody as { isSuccessful?: boolean }).isSuccessful).toBe(true)
    }

    // The route itself: two pages, every device once, in id order.
    const first = await rest(cloud, ca, 'GET', '/devices?top=1000')
    expect(first.status).toBe(200)
    expect(first.body).toHaveLength(1000)
    const cont = first.headers['x-ms-continuation']
    expect(typeof cont).toBe('string')
    const page2 = await rest(cloud, ca, 'GET', '/devices?top=1000', undefined, { headers: { 'x-ms-continuation': String(cont) } })
    expect(page2.status).toBe(200)
    expect(page2.headers['x-ms-continuation']).toBeUndefined()
    const listed = [...first.body, ...page2.body].map((d: { deviceId: string }) => d.deviceId)
    expect(new Set(listed).size).toBe(listed.length)
    expect(listed.length).toBe(cloud.running.hub.registry.count().total)
    for (const id of ids) expect(listed).toContain(id)

    await waitFor(`${N} devices at the edge`, () => ids.every((id) => edge.running.hub.registry.get({ deviceId: id }) !== undefined), 120_000, 500)
    const st = edge.running.hub.sync.status()
    expect(st.registry.createdLocally).toBe(N)
    expect(st.registry.conflicts).toBe(0)
    // keys came down with them
    const one = (await reg.get('pg-1049')).responseBody
    expect(edge.running.hub.registry.mustGet({ deviceId: 'pg-1049' }).authentication.symmetricKey.primaryKey).toBe(one.authentication?.symmetricKey?.primaryKey)
    await waitFor('all mirrored', () => edge.running.hub.sync.status().registry.mirrored === N, 60_000, 500)
  }, 240_000)
})
