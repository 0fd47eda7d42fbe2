// Live data first, the backlog behind it: after an outage that left 20,000 messages of 20
// devices in the edge's log, a message a device (azure-iot-device-mqtt at the edge) sends once
// the link is back and the drain has begun reaches the cloud while most of the backlog is still
// waiting, not after it; then everything is upstream exactly once.
// The backlog is written into the edge's durable log in-process (telemetry.accept, as the
// devices' MQTT path does) because 20,000 SDK round trips would take minutes on this machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient } from '../helpers/sdk.js'
import { FAST_SYNC, startCloudBehindProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

const BACKLOG_DEVICES = Array.from({ length: 20 }, (_, i) => `bk${i + 1}`)
const PER_DEVICE = 1000
const BACKLOG = BACKLOG_DEVICES.length * PER_DEVICE

describe('live data first, the backlog behind it', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  beforeAll(async () => {
    const up = await startCloudBehindProxy(stack.defer)
    cloud = up.cloud
    proxy = up.proxy
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
    stack.defer(() => edge.close())
  }, 120_000)
  afterAll(async () => { await stack.run() })

  it(`a live message overtakes a ${BACKLOG}-message backlog; all of it arrives exactly once`, async () => {
    const ca = testCa()
    const hub = edge.running.hub
    for (const id of [...BACKLOG_DEVICES, 'live1']) await hub.registry.create({ deviceId: id })
    await hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca })
    await waitFor('all mirrored', () => hub.sync.devices().filter((d) => d.state === 'inSync').length === BACKLOG_DEVICES.length + 1, 60_000)
    const live = await openClient(hub.registry.deviceConnectionString({ deviceId: 'live1' }), { ca, defer: stack.defer })

    proxy.pause()
    await waitFor('offline', () => hub.sync.status().state === 'offline', 20_000)
    for (let k = 0; k < PER_DEVICE; k += 50) {
      const batch: Array<Promise<number>> = []
      for (let j = k; j < k + 50; j++) {
        for (const id of BACKLOG_DEVICES) batch.push(hub.telemetry.accept({ deviceId: id, systemProperties: { messageId: `${id}-${j}` }, properties: {}, body: Buffer.from(JSON.stringify({ j })), enqueuedTime: new Date().toISOString(), transport: 'api' }))
      }
      await Promise.all(batch)
    }
    expect(hub.sync.status().telemetry.pending).toBe(BACKLOG)

    // Count what the cloud stores, and note the backlog count when the live message lands.
    let backlogStored = 0
    let backlogAtLive: number | null = null
    stack.defer(cloud.running.hub.events.on('telemetry.received', (e) => {
      if (e.deviceId === 'live1') backlogAtLive ??= backlogStored
      else backlogStored++
    }))
    proxy.resume()
    await waitFor('the drain has begun', () => backlogStored >= 200, 60_000, 20)
    await live.sendEvent(message('live now', { live: '1' }))
    const atLive = (await waitFor('the live message upstream', () => (backlogAtLive === null ? undefined : { n: backlogAtLive }), 60_000, 20)).n
    console.log(`live-first: the live message reached the cloud after ${atLive} of ${BACKLOG} backlog messages`)
    expect(atLive).toBeLessThan(BACKLOG)

    expect(await hub.sync.waitIdle(180_000)).toBe(true)
    const all = await cloud.running.hub.telemetry.read(0, 1_000_000)
    const backlog = all.filter((m) => m.deviceId !== 'live1')
    expect(backlog).toHaveLength(BACKLOG)
    expect(new Set(backlog.map((m) => String(m.properties['sitehub-origin']))).size).toBe(BACKLOG)
    expect(all.filter((m) => m.deviceId === 'live1')).toHaveLength(1)
    expect(hub.sync.status().telemetry.sent).toBe(BACKLOG + 1)
  }, 400_000)
})
