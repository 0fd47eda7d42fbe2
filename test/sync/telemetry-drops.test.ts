// Per-device drop counts: the edge's telemetry log is small (64 KiB), the link is cut and two
// devices (azure-iot-device-mqtt) send more than it holds. What retention removed before it
// could go up is counted per device; what went up arrives at the cloud exactly once; for each
// device, received upstream + dropped = sent offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient, type DeviceClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

describe('telemetry dropped by the edge log before it could go up: counted per device', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  const ca = testCa()
  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC, telemetry: { maxBytes: 64 * 1024 } })
    stack.defer(() => edge.close())
  })
  afterAll(async () => { await stack.run() })

  it('received upstream + dropped = sent offline, per device; the totals agree', async () => {
    for (const id of ['dr1', 'dr2']) await edge.running.hub.registry.create({ deviceId: id })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: 'site-d' })
    await waitFor('mirrored', () => edge.running.hub.sync.devices().filter((d) => d.state === 'inSync').length === 2, 30_000)
    const clients: Record<string, DeviceClient> = {}
    for (const id of ['dr1', 'dr2']) clients[id] = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: id }), { ca, defer: stack.defer })
    // Online first: these go up and must never count as dropped when their segment goes later.
    for (let i = 0; i < 20; i++) for (const id of ['dr1', 'dr2']) await clients[id]!.sendEvent(message(JSON.stringify({ phase: 'online', i })))
    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)

    proxy.pause()
    await waitFor('offline', () => edge.running.hub.sync.status().state === 'offline', 10_000)
    const pad = 'x'.repeat(120)
    const sent = { dr1: 600, dr2: 300 }
    for (let i = 0; i < 600; i++) {
      await clients['dr1']!.sendEvent(message(JSON.stringify({ phase: 'offline', i, pad }), { phase: 'offline' }))
      if (i < 300) await clients['dr2']!.sendEvent(message(JSON.stringify({ phase: 'offline', i, pad }), { phase: 'offline' }))
    }
    const logDrops = edge.running.hub.telemetry.stats()
    expect(logDrops.droppedBySize).toBeGreaterThan(0) // the log really overflowed
    proxy.resume()
    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 15_000)
    expect(await edge.running.hub.sync.waitIdle(30_000)).toBe(true)

    const st = edge.running.hub.sync.status().telemetry
    const perDevice = st.droppedPerDevice
    expect(st.dropped).toBeGreaterThan(0)
    expect(Object.values(perDevice).reduce((a, b) => a + b, 0)).toBe(st.dropped)
    expect(perDevice['(unknown)']).toBeUndefined()
    const atCloud = (await cloud.running.hub.telemetry.read(0, 1_000_000)).filter((m) => m.properties['phase'] === 'offline')
    for (const id of ['dr1', 'dr2'] as const) {
      const mine = atCloud.filter((m) => m.deviceId === id)
      expect(new Set(mine.map((m) => m.properties['sitehub-origin'])).size).toBe(mine.length) // exactly once
      expect(mine.length + (perDevice[id] ?? 0)).toBe(sent[id])
      // the log's own per-device counter also includes messages that had already gone up
      expect(edge.running.hub.telemetry.stats().droppedPerDevice[id] ?? 0).toBeGreaterThanOrEqual(perDevice[id] ?? 0)
    }
    console.log(`telemetry drops: log dropped ${logDrops.droppedBySize} while offline; sync dropped ${st.dropped} ${JSON.stringify(perDevice)}; upstream ${atCloud.length} of 900 offline messages`)
    expect(st.sent).toBe(40 + atCloud.length)
    expect(st.pending).toBe(0)
  })
})
