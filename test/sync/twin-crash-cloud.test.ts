// kill -9 of the CLOUD (a `sitehub serve --role cloud` child) while the edge pushes reported
// patches after an outage (and pulls the desired edits the cloud got meanwhile), at the worst
// moment for exactly-once: the cloud has applied (and made durable) a device's coalesced patch
// but its 204 never reached the edge (swallowed by the man in the middle on the cloud's MQTT
// port, test/sync/mqtt-intercept.ts). After the cloud restarts: every device's last reported
// value is the cloud's, the cloud's reported $version moved by exactly one per device (the one
// coalesced patch, never applied twice: the edge found it applied and did not resend it), a
// change reported afterwards still goes up after it (exactly one more), the cloud's last
// desired value reached every device, no device was notified of the same desired change twice.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import iothub from 'azure-iothub'
import { CleanupStack, runCli } from '../helpers/hub.js'
import { openClient, type Twin } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, killed, serve, startTestHub, testCa, waitFor, type TestHub } from './harness.js'
import { startInterceptingProxy, type InterceptingProxy } from './mqtt-intercept.js'

const IDS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']
const REPORTS = 30
const CLOUD_EDITS = 3

describe('cloud killed with SIGKILL mid twin sync', () => {
  const stack = new CleanupStack()
  let edge: TestHub
  let proxy: InterceptingProxy
  const cloudIp = randomLoopbackIp()
  const proxyIp = randomLoopbackIp()
  const cloudDir = mkdtempSync(join(tmpdir(), 'sitehub-sync-twincloudcrash-'))
  const cloudArgs = ['--role', 'cloud', '--data-dir', cloudDir, '--bind', cloudIp, '--host-name', proxyIp, '--log-level', 'warn']
  beforeAll(async () => {
    stack.defer(() => rmSync(cloudDir, { recursive: true, force: true }))
    const caDir = process.env['SITEHUB_TEST_CA_DIR'] as string
    mkdirSync(join(cloudDir, 'tls'), { recursive: true })
    for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(caDir, 'tls', f), join(cloudDir, 'tls', f))
    proxy = await startInterceptingProxy(cloudIp, proxyIp)
    stack.defer(() => proxy.close())
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
    stack.defer(() => edge.close())
  })
  afterAll(async () => { await stack.run() })

  it('nothing acknowledged is lost, nothing is applied twice', async () => {
    const ca = testCa()
    let cloud = await serve(cloudArgs)
    stack.defer(async () => { await killed(cloud) })
    const cs = (await runCli(['connection-string', '--data-dir', cloudDir])).stdout.trim()
    expect(cs).toMatch(/^HostName=/)
    // The back end talks to the cloud directly (its REST on the cloud's own address).
    const cloudReg = iothub.Registry.fromConnectionString(cs.replace(/HostName=[^;]+/, `HostName=${cloudIp}`))
    const cloudTwin = async (id: string): Promise<{ reported: Record<string, any>; desired: Record<string, any> }> => (await cloudReg.getTwin(id)).responseBody.properties as never
    for (const id of IDS) await edge.running.hub.registry.create({ deviceId: id })
    await edge.running.hub.sync.configure({ connectionString: cs, ca })
    await waitFor('mirrored', () => IDS.every((id) => edge.running.hub.sync.devices().find((d) => d.deviceId === id)?.state === 'inSync'), 30_000)

    const devs = await Promise.all(IDS.map(async (id) => {
      const client = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: id }), { ca, defer: stack.defer })
      const twin: Twin = await client.getTwin()
      const notified: number[] = []
      let first = true
      twin.on('properties.desired', (p: Record<string, unknown>) => {
        if (first) { first = false; return }
        if (typeof p['c'] === 'number') notified.push(p['c'])
      })
      return { id, twin, notified }
    }))
    const report = (t: Twin, patch: Record<string, unknown>): Promise<void> => new Promise((resolve, reject) => {
      t.properties.reported.update(patch, (err?: Error) => { if (err) reject(err); else resolve() })
    })
    for (const d of devs) await report(d.twin, { r: 0 })
    await waitFor('baseline reported upstream', async () => (await Promise.all(IDS.map(cloudTwin))).every((t) => t.reported['r'] === 0), 30_000)
    expect(await edge.running.hub.sync.waitIdle(30_000)).toBe(true) // the baseline's answers are in
    const reportedV0 = new Map(await Promise.all(IDS.map(async (id) => [id, (await cloudTwin(id)).reported['$version'] as number] as const)))

    proxy.pause()
    for (let i = 1; i <= REPORTS; i++) for (const d of devs) await report(d.twin, { r: i, [`k${i % 3}`]: i })
    for (let c = 1; c <= CLOUD_EDITS; c++) for (const id of IDS) await cloudReg.updateTwin(id, { properties: { desired: { c } } } as never, '*')
    // The link returns with every reported patch's answer (204) lost on the way back; kill -9
    // the cloud once it has durably applied a patch the edge never heard about.
    proxy.dropDown = /^\$iothub\/twin\/res\/204\//
    proxy.resume()
    await waitFor('an applied patch whose answer was lost', () => proxy.dropped.length >= 1, 60_000, 5)
    await killed(cloud)
    const lostAnswers = proxy.dropped.length
    proxy.dropDown = null
    cloud = await serve(cloudArgs)
    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 30_000)
    await waitFor('reported converged', async () => (await Promise.all(IDS.map(cloudTwin))).every((t) => t.reported['r'] === REPORTS), 60_000)
    expect(await edge.running.hub.sync.waitIdle(60_000)).toBe(true)
    await waitFor('desired down', () => IDS.every((id) => edge.running.hub.twins.get({ deviceId: id }).properties.desired['c'] === CLOUD_EDITS), 30_000)
    await waitFor('devices notified', () => devs.every((d) => d.notified.includes(CLOUD_EDITS)), 30_000)

    for (const d of devs) {
      const t = await cloudTwin(d.id)
      for (let k = 0; k < 3; k++) expect(t.reported[`k${k}`]).toBe(REPORTS - ((REPORTS - k) % 3))
      // exactly the one coalesced patch: applied once, whatever the crash interrupted
      expect((t.reported['$version'] as number) - (reportedV0.get(d.id) as number)).toBe(1)
      expect(t.desired['c']).toBe(CLOUD_EDITS)
      expect(new Set(d.notified).size).toBe(d.notified.length)
      expect([...d.notified].sort((a, b) => a - b)).toEqual(d.notified)
    }
    expect(edge.running.hub.sync.conflicts()).toEqual([])
    // The edge checked the cloud instead of resending: at least the patch whose 204 was
    // swallowed before the kill was found applied.
    const rs = edge.running.hub.sync.status().reported
    expect(rs.alreadyApplied).toBeGreaterThanOrEqual(1)

    // A change reported after the recovery goes up after the coalesced patch: exactly one more.
    for (const d of devs) await report(d.twin, { after: 1 })
    await waitFor('later change upstream', async () => (await Promise.all(IDS.map(cloudTwin))).every((t) => t.reported['after'] === 1 && t.reported['r'] === REPORTS), 60_000)
    expect(await edge.running.hub.sync.waitIdle(60_000)).toBe(true)
    for (const id of IDS) expect(((await cloudTwin(id)).reported['$version'] as number) - (reportedV0.get(id) as number)).toBe(2)
    console.log(`twin crash (cloud): answers lost before the kill ${lostAnswers}; after the restart: already applied ${rs.alreadyApplied}, not applied ${rs.notApplied}, patches sent ${rs.patchesSent}`)
  }, 240_000)
})
