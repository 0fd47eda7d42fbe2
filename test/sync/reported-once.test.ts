// Reported properties up exactly once when the answer to a patch is lost without any crash:
// the cloud applied the patch but its 204 never came back (the edge times out, or the link
// drops and comes back), or the patch itself never reached the cloud. Cloud role + edge on two
// loopback IPs, a man in the middle on the cloud's MQTT port that swallows exactly those
// packets (test/sync/mqtt-intercept.ts), a device on azure-iot-device-mqtt at the edge, the
// cloud's twin read with azure-iothub. Invariant: the cloud's reported $version moves by
// exactly one per change the device made, and holds the device's values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import iothub from 'azure-iothub'
import { CleanupStack } from '../helpers/hub.js'
import { openClient, type Twin } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startTestHub, testCa, waitFor, type TestHub } from './harness.js'
import { startInterceptingProxy, type InterceptingProxy } from './mqtt-intercept.js'

const ANSWER = /^\$iothub\/twin\/res\/204\//
const PATCH = /^\$iothub\/twin\/PATCH\/properties\/reported\//

describe('reported patches whose answer is lost', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: InterceptingProxy
  let twin: Twin
  let cloudReg: iothub.Registry
  afterAll(async () => { await stack.run() })
  beforeAll(async () => {
    const ca = testCa()
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startInterceptingProxy(cloudIp, proxyIp)
    stack.defer(() => proxy.close())
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
    stack.defer(() => edge.close())
    await edge.running.hub.registry.create({ deviceId: 'once' })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca })
    const client = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: 'once' }), { ca, defer: stack.defer })
    twin = await client.getTwin()
    cloudReg = iothub.Registry.fromConnectionString(`HostName=${cloudIp};SharedAccessKeyName=iothubowner;SharedAccessKey=${cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey ?? ''}`)
  })

  const report = (patch: Record<string, unknown>): Promise<void> => new Promise((resolve, reject) => {
    twin.properties.reported.update(patch, (err?: Error) => { if (err) reject(err); else resolve() })
  })
  const cloudReported = async (): Promise<Record<string, any>> => (await cloudReg.getTwin('once')).responseBody.properties.reported as never
  const counters = (): { alreadyApplied: number; notApplied: number } => edge.running.hub.sync.status().reported
  const idle = async (): Promise<void> => { expect(await edge.running.hub.sync.waitIdle(60_000)).toBe(true) }

  it('is not applied twice: answer timed out, answer lost with the link, patch lost on the way up', async () => {
    await waitFor('mirrored', () => edge.running.hub.sync.devices().find((d) => d.deviceId === 'once')?.state === 'inSync', 30_000)
    await report({ n: 0 })
    await waitFor('baseline upstream', async () => (await cloudReported())['n'] === 0, 30_000)
    await idle()
    const v0 = (await cloudReported())['$version'] as number

    // 1. The cloud applies the patch, its 204 is lost, the link stays up: the edge's patch times
    //    out (10 s), it asks the cloud for the twin on the same link and records the patch.
    proxy.dropDown = ANSWER
    const before1 = counters()
    await report({ n: 1, a: 'x' })
    await waitFor('answer swallowed', () => proxy.dropped.length >= 1, 30_000, 5)
    // (a second swallowed answer would be a resend)
    await waitFor('checked upstream', () => counters().alreadyApplied > before1.alreadyApplied || proxy.dropped.length >= 2, 60_000)
    proxy.dropDown = null
    await idle()
    let r = await cloudReported()
    expect(r['$version']).toBe(v0 + 1)
    expect([r['n'], r['a']]).toEqual([1, 'x'])
    expect(counters().alreadyApplied).toBe(before1.alreadyApplied + 1)

    // 2. The answer is lost and the link drops (black hole, then cut): after the reconnect the
    //    edge checks before it sends anything; a change made meanwhile goes up after, once.
    proxy.dropped.length = 0
    proxy.dropDown = ANSWER
    const before2 = counters()
    await report({ n: 2, a: null })
    await waitFor('answer swallowed', () => proxy.dropped.length >= 1, 30_000, 5)
    proxy.pause()
    await waitFor('offline', () => edge.running.hub.sync.status().state === 'offline', 30_000)
    await report({ b: 'later' })
    proxy.dropDown = null
    proxy.resume()
    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 30_000)
    await waitFor('later change upstream', async () => (await cloudReported())['b'] === 'later', 60_000)
    await idle()
    r = await cloudReported()
    expect(r['$version']).toBe(v0 + 3)
    expect([r['n'], r['a'], r['b']]).toEqual([2, undefined, 'later'])
    expect(counters().alreadyApplied).toBe(before2.alreadyApplied + 1)

    // 3. The patch never reaches the cloud: the edge finds it not applied and sends it again.
    proxy.dropped.length = 0
    proxy.dropUp = PATCH
    const before3 = counters()
    await report({ n: 3 })
    await waitFor('patch swallowed', () => proxy.dropped.length >= 1, 30_000, 5)
    await waitFor('checked upstream', () => counters().notApplied > before3.notApplied || proxy.dropped.length >= 2, 60_000)
    proxy.dropUp = null
    await waitFor('resent', async () => (await cloudReported())['n'] === 3, 60_000)
    await idle()
    r = await cloudReported()
    expect(r['$version']).toBe(v0 + 4)
    expect(counters().alreadyApplied).toBe(before3.alreadyApplied)
    expect(edge.running.hub.sync.devices().find((d) => d.deviceId === 'once')?.state).toBe('inSync')
  }, 240_000)
})
