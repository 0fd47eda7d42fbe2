// A flapping link under load, for minutes: the proxy black-holes the link for 1-3 s every few
// seconds (random but seeded, so a failing schedule can be replayed with SYNC_FLAP_SEED) for
// 3 minutes (SYNC_FLAP_MS) while two devices (azure-iot-device-mqtt at the edge) keep sending
// telemetry and reporting, and a back end (azure-iothub at the cloud) keeps editing their
// desired properties. Once the link is stable: every message is upstream exactly once (unique
// origins), each device's last reported value is the cloud's and every reported patch was
// applied upstream once (the cloud's reported $version moved by exactly the patches the edge
// counted), the cloud's last desired value reached each device, and no desired version reached
// a device twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient, type Twin } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'
import iothub from 'azure-iothub'

const FLAP_MS = Number(process.env['SYNC_FLAP_MS'] ?? 180_000)
const SEED = Number(process.env['SYNC_FLAP_SEED'] ?? 7)

/** mulberry32: a small seeded PRNG (the flap schedule is reproducible). */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('link flapping under load for minutes', () => {
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

  it(`no loss, no duplicate, reported up and desired down converge (flapping ${FLAP_MS / 1000} s, seed ${SEED})`, async () => {
    const ca = testCa()
    const ids = ['f1', 'f2']
    for (const id of ids) await edge.running.hub.registry.create({ deviceId: id })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca })
    await waitFor('mirrored', () => ids.every((id) => edge.running.hub.sync.devices().find((d) => d.deviceId === id)?.state === 'inSync'), 30_000)
    // The back end talks to the cloud directly (not through the flapping proxy).
    const reg = iothub.Registry.fromConnectionString(`HostName=${cloud.ip};SharedAccessKeyName=iothubowner;SharedAccessKey=${cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey ?? ''}`)
    const cloudReportedVersion = async (id: string): Promise<number> => (await reg.getTwin(id)).responseBody.properties.reported['$version'] as number
    const reportedV0 = await Promise.all(ids.map(cloudReportedVersion))
    const counted = (): number => { const r = edge.running.hub.sync.status().reported; return r.patchesSent + r.alreadyApplied }
    const counted0 = counted()

    // Each device: its twin, the desired patches it saw (by the cloud's `n`), telemetry sent.
    const devs = await Promise.all(ids.map(async (id) => {
      const client = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: id }), { ca, defer: stack.defer })
      const twin: Twin = await client.getTwin()
      const seen: number[] = []
      twin.on('properties.desired', (d: Record<string, unknown>) => { if (typeof d['n'] === 'number') seen.push(d['n']) })
      return { id, client, twin, seen, sent: 0, lastReported: -1 }
    }))

    const rnd = prng(SEED)
    let running = true
    const flaps = (async () => {
      let n = 0
      let blackHoledMs = 0
      while (running) {
        await sleep(1500 + rnd() * 2500)
        if (!running) break
        const hold = 1000 + rnd() * 2000
        proxy.pause()
        await sleep(hold)
        proxy.resume()
        blackHoledMs += hold
        n++
      }
      return { n, blackHoledMs }
    })()
    // Desired edits at the cloud, one every ~700 ms alternating between the devices.
    let lastDesired = [-1, -1]
    const desiredLoad = (async () => {
      let n = 0
      while (running) {
        const k = n % 2
        await reg.updateTwin(ids[k] as string, { properties: { desired: { n } } } as never, '*')
        lastDesired[k] = n
        n++
        await sleep(700)
      }
    })()
    // Telemetry (every 25 ms per device) and a reported change every 10th message.
    const end = Date.now() + FLAP_MS
    const deviceLoad = devs.map(async (d) => {
      let i = 0
      while (Date.now() < end) {
        await d.client.sendEvent(message(`${d.id} ${i}`))
        d.sent++
        if (i % 10 === 0) {
          await new Promise<void>((resolve, reject) => { d.twin.properties.reported.update({ i }, (err?: Error) => { if (err) reject(err); else resolve() }) })
          d.lastReported = i
        }
        i++
        await sleep(25)
      }
    })
    await Promise.all(deviceLoad)
    running = false
    const flapped = await flaps
    await desiredLoad
    lastDesired = [...lastDesired]
    expect(flapped.n).toBeGreaterThan(FLAP_MS / 6000) // flapping all along, not once

    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 30_000)
    expect(await edge.running.hub.sync.waitIdle(60_000)).toBe(true)
    const upstream = await cloud.running.hub.telemetry.read(0, 10_000_000)
    for (const d of devs) {
      const mine = upstream.filter((m) => m.deviceId === d.id)
      expect(mine.length).toBe(d.sent)
      expect(new Set(mine.map((m) => String(m.properties['sitehub-origin']))).size).toBe(d.sent)
      expect(edge.running.hub.sync.status().telemetry.sentPerDevice[d.id]).toBe(d.sent)
      expect((await reg.getTwin(d.id)).responseBody.properties.reported['i']).toBe(d.lastReported)
    }
    // Desired down: the cloud's last value is the edge's and the device's; no version seen twice.
    for (const [k, d] of devs.entries()) {
      const want = lastDesired[k] as number
      await waitFor(`${d.id} desired ${want} at the edge`, () => edge.running.hub.twins.get({ deviceId: d.id }).properties.desired['n'] === want, 30_000)
      await waitFor(`${d.id} saw desired ${want}`, () => d.seen.includes(want), 30_000)
      expect(d.seen.length).toBe(new Set(d.seen).size)
      // in order: the device never goes back to an older value
      expect([...d.seen].sort((a, b) => a - b)).toEqual(d.seen)
    }
    expect(edge.running.hub.sync.conflicts()).toEqual([])
    // Reported exactly once: every patch the cloud applied is one the edge counted once, either
    // acknowledged or (answer lost in a cut) found applied and not resent.
    const moved = (await Promise.all(ids.map(cloudReportedVersion))).reduce((a, v, k) => a + v - (reportedV0[k] as number), 0)
    const rs = edge.running.hub.sync.status().reported
    expect(moved).toBe(counted() - counted0)
    console.log(`flap: reported patches applied upstream ${moved} (answers lost and found applied ${rs.alreadyApplied}, not applied ${rs.notApplied})`)
    console.log(`flap: ${flapped.n} cuts, ${Math.round(flapped.blackHoledMs / 1000)} s black-holed of ${FLAP_MS / 1000} s; telemetry ${devs.map((d) => `${d.id}=${d.sent}`).join(' ')}; desired ${lastDesired.join('/')}; desired notifications ${devs.map((d) => d.seen.length).join('/')}`)
  }, FLAP_MS + 240_000)
})
