// The offline test as one scenario (sync.test.ts and jobs-delegation.test.ts prove the
// same pieces separately): a cloud-role hub and an edge on two loopback IPs, the edge's upstream
// through a test-controlled TCP proxy; two devices on azure-iot-device-mqtt at the edge; a back
// end on azure-iothub at the cloud.
// Online: desired set in the cloud reaches the devices, reported and telemetry reach the cloud,
// a direct method from the cloud reaches a device. A method job authored with JobClient for
// later is taken over by the edge before the cut. Offline (proxy black-holed): the devices keep
// reporting and sending telemetry, a technician edits desired at the site while the cloud edits
// the same field (and another one), the job starts and finishes at the site. Restore:
// everything converges, the conflict is surfaced with the right three values (base, site, cloud),
// telemetry counts match exactly (per device and in total, read back through the cloud's REST
// API), the job's outcomes arrive upstream, each device ran it once.
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localJobId } from '../../src/main/hub/sync/jobs-edge.js'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient, type DeviceClient, type Twin } from '../helpers/sdk.js'
import { FAST_SYNC, startCloudBehindProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'
import { rest } from './rest.js'

const { Client, JobClient, Registry } = iothub
const EDGE = 'site-o'
const IDS = ['o1', 'o2']
interface JobView { status: string; deviceJobStatistics: Record<string, number> }
interface Dev { id: string; client: DeviceClient; twin: Twin; desired: Array<Record<string, unknown>>; sent: number }

const reportAsync = (twin: Twin, patch: Record<string, unknown>): Promise<void> =>
  new Promise((resolve, reject) => { twin.properties.reported.update(patch, (err?: Error) => { if (err) reject(err); else resolve() }) })

describe('the offline scenario end to end (one cut, everything at once)', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  let reg: InstanceType<typeof Registry>
  let svc: InstanceType<typeof Client>
  let jobs: InstanceType<typeof JobClient>
  const ca = testCa()
  const devs = new Map<string, Dev>()
  const calls = new Map<string, unknown[]>()

  beforeAll(async () => {
    // The back end reaches the cloud directly, never through the proxy.
    const up = await startCloudBehindProxy(stack.defer)
    cloud = up.cloud
    proxy = up.proxy
    const cloudCs = up.cloudCs
    reg = Registry.fromConnectionString(cloudCs)
    svc = Client.fromConnectionString(cloudCs)
    jobs = JobClient.fromConnectionString(cloudCs)
    edge = await startTestHub({ role: 'edge', sync: { ...FAST_SYNC, delegationPollMs: 300 } })
    stack.defer(() => edge.close())
    for (const id of IDS) {
      await edge.running.hub.registry.create({ deviceId: id })
      await edge.running.hub.twins.patchTags({ deviceId: id }, { area: 'press' })
    }
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: EDGE })
    for (const id of IDS) {
      const client = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: id }), { ca, defer: stack.defer, noOpen: true })
      client.onDeviceMethod('calibrate', (req, res) => {
        calls.set(id, [...(calls.get(id) ?? []), req.payload])
        void res.send(200, { calibrated: id, asked: req.payload })
      })
      await client.open()
      const twin = await client.getTwin()
      const dev: Dev = { id, client, twin, desired: [], sent: 0 }
      twin.on('properties.desired', (d: Record<string, unknown>) => { dev.desired.push(d) })
      devs.set(id, dev)
      await edge.running.hub.connections.waitFor({ deviceId: id }, 'methods', 15_000)
    }
    await waitFor('edge delegating', () => cloud.running.hub.delegation.edges().some((e) => e.edgeId === EDGE), 30_000)
    for (const id of IDS) await waitFor(`${id} tags upstream`, async () => (await reg.getTwin(id).catch(() => null))?.responseBody.tags?.['area'] === 'press', 30_000)
  }, 180_000)
  afterAll(async () => { await stack.run() })

  const send = async (d: Dev, n: number, phase: string): Promise<void> => {
    for (let i = 0; i < n; i++) { await d.client.sendEvent(message(JSON.stringify({ phase, i }), { phase })); d.sent++ }
  }

  it('online: desired down, reported and telemetry up, a method through the edge', async () => {
    for (const id of IDS) await reg.updateTwin(id, { properties: { desired: { mode: 'normal', rate: 1 } } } as never, '*')
    for (const d of devs.values()) await waitFor(`${d.id} got desired`, () => d.desired.some((p) => p['mode'] === 'normal'), 20_000)
    for (const d of devs.values()) { await reportAsync(d.twin, { fw: '1.0', count: 0 }); await send(d, 10, 'online') }
    for (const id of IDS) await waitFor(`${id} reported upstream`, async () => (await reg.getTwin(id)).responseBody.properties.reported['fw'] === '1.0', 20_000)
    const r = await waitFor('method through the edge', async () => {
      try { return (await svc.invokeDeviceMethod('o1', { methodName: 'calibrate', payload: { online: true }, responseTimeoutInSeconds: 10 })).result } catch { return undefined }
    }, 20_000, 250)
    expect(r).toEqual({ status: 200, payload: { calibrated: 'o1', asked: { online: true } } })
    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)
    calls.clear()
  }, 120_000)

  it('offline: devices keep working, both sides edit desired, a delegated job finishes at the site; restore converges exactly', async () => {
    // A job for later, authored at the cloud with JobClient; the edge takes it over before the cut.
    const startAt = new Date(Date.now() + 30_000)
    await jobs.scheduleDeviceMethod('calib', "tags.area = 'press'", { methodName: 'calibrate', payload: { job: 'calib' }, responseTimeoutInSeconds: 15 }, startAt, 1800)
    await waitFor('claimed by the edge', () => cloud.running.hub.jobs.deviceJobs('calib').filter((d) => d.delegatedTo === EDGE).length === 2, 15_000)
    await waitFor('local job scheduled at the site', () => { try { return edge.running.hub.jobs.get(localJobId('calib', 1)).status === 'scheduled' } catch { return false } }, 15_000)

    proxy.pause()
    await waitFor('link offline', () => edge.running.hub.sync.status().state === 'offline', 20_000)
    // The scenario needs the job to run offline: no device has run it before the cut.
    expect(calls.size).toBe(0)

    // Devices keep reporting and sending telemetry.
    for (const d of devs.values()) {
      await send(d, 40, 'offline')
      for (let n = 1; n <= 5; n++) await reportAsync(d.twin, { count: n })
    }
    // A technician edits o1's desired at the site; the cloud edits the same field and another one.
    await edge.running.hub.twins.patchDesired({ deviceId: 'o1' }, { mode: 'eco' }, undefined, { by: 'ui:tech' })
    await reg.updateTwin('o1', { properties: { desired: { mode: 'turbo', rate: 5 } } } as never, '*')
    // The job starts at its time and finishes at the site, offline.
    await waitFor('local job completed offline', () => edge.running.hub.jobs.get(localJobId('calib', 1)).status === 'completed', 60_000, 250)
    for (const id of IDS) expect(calls.get(id)).toEqual([{ job: 'calib' }])
    const meanwhile = (await jobs.getJob('calib')).jobStatus as unknown as JobView
    expect(meanwhile.deviceJobStatistics).toMatchObject({ deviceCount: 2, succeededCount: 0 })
    expect(['offline', 'connecting']).toContain(edge.running.hub.sync.status().state) // still cut (retrying)
    const pending = edge.running.hub.sync.status().telemetry.pending
    expect(pending).toBe(80)

    proxy.resume()
    await waitFor('link online', () => edge.running.hub.sync.status().state === 'online', 30_000)
    expect(await edge.running.hub.sync.waitIdle(60_000)).toBe(true)

    // The conflict, with its three values and who changed it at the site.
    const conflict = await waitFor('o1 desired conflict', () => edge.running.hub.sync.conflicts().find((c) => c.id === 'o1|desired'), 20_000)
    expect(conflict).toMatchObject({ kind: 'desired', fields: ['mode'], base: { mode: 'normal' }, local: { mode: 'eco' }, cloud: { mode: 'turbo' } })
    expect(conflict.details?.[0]).toMatchObject({ path: 'mode', base: 'normal', local: 'eco', cloud: 'turbo', localChangedBy: 'ui:tech', cloudChangedBy: 'cloud' })
    expect(edge.running.hub.sync.conflicts()).toHaveLength(1)
    // Nobody overwritten: each side keeps its value; the field only the cloud changed came down to the device.
    expect((await reg.getTwin('o1')).responseBody.properties.desired['mode']).toBe('turbo')
    expect(edge.running.hub.twins.get({ deviceId: 'o1' }).properties.desired['mode']).toBe('eco')
    const o1 = devs.get('o1') as Dev
    await waitFor('rate 5 on the device', () => o1.desired.some((p) => p['rate'] === 5), 20_000)
    expect(o1.desired.some((p) => p['mode'] === 'turbo')).toBe(false)

    // Reported: the last value of each device is the cloud's.
    for (const id of IDS) expect((await reg.getTwin(id)).responseBody.properties.reported['count']).toBe(5)

    // Telemetry: exactly what the devices sent, per device and in total, read back through the cloud's API.
    let total = 0
    for (const d of devs.values()) {
      const seen: Array<{ origin: string; properties: Record<string, string> }> = []
      for (let from = 0; ;) {
        const page = await rest(cloud, ca, 'GET', `/devices/${d.id}/messages?fromSeq=${from}&limit=100`)
        expect(page.status).toBe(200)
        if (page.body.messages.length === 0) break
        seen.push(...page.body.messages)
        from = page.body.nextSeq
      }
      expect(seen).toHaveLength(d.sent)
      expect(new Set(seen.map((m) => m.origin)).size).toBe(d.sent)
      expect(seen.filter((m) => m.properties['phase'] === 'offline')).toHaveLength(40)
      expect(edge.running.hub.sync.status().telemetry.sentPerDevice[d.id]).toBe(d.sent)
      total += d.sent
    }
    const st = edge.running.hub.sync.status().telemetry
    expect(total).toBe(100)
    expect(st.sent).toBe(total)
    expect(st.expired + st.dropped).toBe(0)
    expect(st.pending).toBe(0)

    // The job's outcomes upstream, each device once.
    const done = await waitFor('job completed upstream', async () => { const j = (await jobs.getJob('calib')).jobStatus as unknown as JobView; return j.status === 'completed' ? j : undefined }, 30_000)
    expect(done.deviceJobStatistics).toMatchObject({ deviceCount: 2, succeededCount: 2, failedCount: 0, pendingCount: 0, runningCount: 0 })
    const q = reg.createQuery("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'calib'", 100)
    const rows = (await q.next()).result as Array<{ deviceId: string; status: string; outcome?: { deviceMethodResponse: { status: number; payload: unknown } } }>
    expect(rows.map((r) => r.deviceId).sort()).toEqual(IDS)
    for (const r of rows) expect(r).toMatchObject({ status: 'completed', outcome: { deviceMethodResponse: { status: 200, payload: { calibrated: r.deviceId, asked: { job: 'calib' } } } } })
    for (const id of IDS) expect(calls.get(id)).toEqual([{ job: 'calib' }])
  }, 300_000)
})
