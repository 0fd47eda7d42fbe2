// Telemetry TTL and SAS renewal: messages older than the TTL when the link returns are counted
// as expired (per device and in total), never sent; short-lived SAS tokens are renewed (REST)
// and device links reconnect with fresh tokens, without losing or duplicating a message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

describe('telemetry TTL, exact expired counts, SAS renewal', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
    edge = await startTestHub({ role: 'edge', sync: { ...FAST_SYNC, telemetryTtlMs: 2000, tokenTtlSeconds: 4 } })
    stack.defer(() => edge.close())
  })
  afterAll(async () => { await stack.run() })

  it('expired messages are counted, not sent; live ones arrive exactly once across token renewals', async () => {
    const ca = testCa()
    await edge.running.hub.registry.create({ deviceId: 't1' })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca })
    await waitFor('t1 mirrored', () => edge.running.hub.sync.devices().find((d) => d.deviceId === 't1' && d.state === 'inSync'), 20_000)
    const device = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: 't1' }), { ca, defer: stack.defer })
    const cloudCount = async (): Promise<number> => (await cloud.running.hub.telemetry.read(0, 100_000)).filter((m) => m.deviceId === 't1').length

    proxy.pause()
    await waitFor('offline', () => edge.running.hub.sync.status().state === 'offline', 10_000)
    for (let i = 0; i < 10; i++) await device.sendEvent(message(`old ${i}`))
    await new Promise((r) => setTimeout(r, 2500)) // older than the TTL now
    proxy.resume()
    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 15_000)
    // live traffic for longer than a token lifetime: REST tokens renew, device links reconnect
    for (let i = 0; i < 30; i++) { await device.sendEvent(message(`live ${i}`)); await new Promise((r) => setTimeout(r, 200)) }
    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)
    const st = edge.running.hub.sync.status()
    expect(st.telemetry.expired).toBe(10)
    expect(st.telemetry.expiredPerDevice['t1']).toBe(10)
    expect(st.telemetry.sent).toBe(30)
    expect(st.telemetry.pending).toBe(0)
    expect(await cloudCount()).toBe(30)
    expect(st.sasRenewals).toBeGreaterThan(1)
  })
})
