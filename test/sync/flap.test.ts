// A flapping link under load: the proxy black-holes the link for 1-2 s every few seconds while
// a device keeps sending telemetry and reporting; once the link is stable everything is upstream
// exactly once and the last reported value is the cloud's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'
import iothub from 'azure-iothub'

describe('link flapping under load', () => {
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
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
    stack.defer(() => edge.close())
  })
  afterAll(async () => { await stack.run() })

  it('same guarantees: no loss, no duplicate, reported converges', async () => {
    const ca = testCa()
    await edge.running.hub.registry.create({ deviceId: 'f1' })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca })
    await waitFor('f1 mirrored', () => edge.running.hub.sync.devices().find((d) => d.deviceId === 'f1' && d.state === 'inSync'), 20_000)
    const device = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: 'f1' }), { ca, defer: stack.defer })
    const twin = await device.getTwin()

    let flapping = true
    const flaps = (async () => {
      let n = 0
      while (flapping) {
        await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500))
        if (!flapping) break
        proxy.pause()
        await new Promise((r) => setTimeout(r, 800 + Math.random() * 1500))
        proxy.resume()
        n++
      }
      return n
    })()
    let sent = 0
    const end = Date.now() + 20_000
    let i = 0
    while (Date.now() < end) {
      await device.sendEvent(message(`m ${i}`))
      sent++
      if (i % 10 === 0) await new Promise<void>((resolve, reject) => { twin.properties.reported.update({ i }, (err?: Error) => { if (err) reject(err); else resolve() }) })
      i++
      await new Promise((r) => setTimeout(r, 20))
    }
    flapping = false
    const flapCount = await flaps
    expect(flapCount).toBeGreaterThan(3)
    const lastReported = Math.floor((i - 1) / 10) * 10
    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 15_000)
    expect(await edge.running.hub.sync.waitIdle(30_000)).toBe(true)
    const mine = (await cloud.running.hub.telemetry.read(0, 1_000_000)).filter((m) => m.deviceId === 'f1')
    expect(mine.length).toBe(sent)
    expect(new Set(mine.map((m) => String(m.properties['sitehub-origin']))).size).toBe(sent)
    expect(edge.running.hub.sync.status().telemetry.sent).toBe(sent)
    const reg = iothub.Registry.fromConnectionString(`HostName=${cloud.ip};SharedAccessKeyName=iothubowner;SharedAccessKey=${cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey ?? ''}`)
    expect((await reg.getTwin('f1')).responseBody.properties.reported['i']).toBe(lastReported)
  })
})
