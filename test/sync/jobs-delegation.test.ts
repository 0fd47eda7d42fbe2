// Jobs and queued commands authored at the cloud and delegated to the edge, end to end: a cloud
// role hub and an edge hub on two loopback IPs, the edge's upstream through a pausable TCP
// proxy. Jobs are authored with azure-iothub's JobClient (and, for the plant-floor fields the
// SDK never sends, a raw REST PUT); devices are azure-iot-device-mqtt clients at the edge.
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localJobId } from '../../src/main/hub/sync/jobs-edge.js'
import { parseServiceConnectionString } from '../../src/main/hub/sync/connection-string.js'
import { UpstreamError, createUpstreamClient, type UpstreamClient } from '../../src/main/hub/sync/upstream-client.js'
import type { CommandRecord } from '../../src/main/hub/commands/types.js'
import { CleanupStack } from '../helpers/hub.js'
import { openClient, type DeviceClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

const { Client, JobClient, Registry } = iothub
interface JobView { jobId: string; status: string; deviceJobStatistics: Record<string, number> }
interface DeviceJobRow { deviceId: string; jobId: string; status: string; startTimeUtc?: string; outcome?: { deviceMethodResponse: { status: number; payload: unknown } | null }; error?: { code: string } }

const EDGE = 'site-j'
const PRESS = ['jd1', 'jd2', 'jd3']

describe('cloud jobs and queued commands delegated to the edge', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  let cloudCs = ''
  let jobs: InstanceType<typeof JobClient>
  let reg: InstanceType<typeof Registry>
  let rest: UpstreamClient // the cloud's REST extensions (queued commands, plant-floor job fields), which the SDK does not know
  const ca = testCa()
  const calls = new Map<string, unknown[]>()
  const desiredSeen = new Map<string, unknown[]>()
  const devices = new Map<string, DeviceClient>()

  const getJob = async (jobId: string): Promise<JobView> => (await jobs.getJob(jobId)).jobStatus as unknown as JobView
  const rows = async (jobId: string): Promise<DeviceJobRow[]> => {
    const q = reg.createQuery(`SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '${jobId}'`, 100)
    const out: DeviceJobRow[] = []
    while (q.hasMoreResults) out.push(...((await q.next(q.continuationToken as string)).result as DeviceJobRow[]))
    return out
  }
  /** An SDK device at the edge answering `reboot` with 200 and recording every call and desired patch. */
  const connectDevice = async (deviceId: string): Promise<void> => {
    const c = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId }), { ca, defer: stack.defer, noOpen: true })
    c.onDeviceMethod('reboot', (req, res) => {
      calls.set(deviceId, [...(calls.get(deviceId) ?? []), req.payload])
      void res.send(200, { rebooted: deviceId, asked: req.payload })
    })
    await c.open()
    const twin = await c.getTwin()
    twin.on('properties.desired', (d: Record<string, unknown>) => { if (d['speed'] !== undefined) desiredSeen.set(deviceId, [...(desiredSeen.get(deviceId) ?? []), d['speed']]) })
    await edge.running.hub.connections.waitFor({ deviceId }, 'methods', 15_000)
    devices.set(deviceId, c)
  }
  const cut = async (): Promise<void> => {
    proxy.pause()
    await waitFor('link offline', () => edge.running.hub.sync.status().state === 'offline', 15_000)
  }
  const restore = async (): Promise<void> => {
    proxy.resume()
    await waitFor('link online', () => edge.running.hub.sync.status().state === 'online', 20_000)
  }

  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
    const key = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string
    cloudCs = `HostName=${cloudIp};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`
    jobs = JobClient.fromConnectionString(cloudCs)
    reg = Registry.fromConnectionString(cloudCs)
    rest = createUpstreamClient({ cs: parseServiceConnectionString(cloudCs), ca })
    stack.defer(() => rest.close())
    edge = await startTestHub({ role: 'edge', sync: { ...FAST_SYNC, delegationPollMs: 300 } })
    stack.defer(() => edge.close())
    for (const deviceId of [...PRESS, 'jd4']) {
      await edge.running.hub.registry.create({ deviceId })
      if (PRESS.includes(deviceId)) await edge.running.hub.twins.patchTags({ deviceId }, { line: 'press' })
    }
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: EDGE })
    await waitFor('edge delegating', () => cloud.running.hub.delegation.edges().some((e) => e.edgeId === EDGE), 30_000)
    await waitFor('site tags upstream', async () => (await reg.getTwin('jd3').catch(() => null))?.responseBody.tags?.['line'] === 'press', 30_000)
    await waitFor('jd4 upstream', () => cloud.running.hub.registry.get({ deviceId: 'jd4' }), 30_000)
  })
  afterAll(async () => { await stack.run() })

  it('a method job authored with JobClient is taken over by the edge, finishes offline, and its outcomes arrive upstream; each device runs once', async () => {
    const created = await jobs.scheduleDeviceMethod('m1', "tags.line = 'press'", { methodName: 'reboot', payload: { why: 'm1' }, responseTimeoutInSeconds: 15 })
    expect((created.jobStatus as unknown as JobView).status).toBe('queued')
    // Taken over before the cut: the cloud marks the devices, the edge holds a local job for them.
    await waitFor('claimed', () => cloud.running.hub.jobs.deviceJobs('m1').filter((d) => d.delegatedTo === EDGE).length === 3, 20_000)
    await waitFor('local job', () => { try { return edge.running.hub.jobs.deviceJobs(localJobId('m1', 1)).length === 3 } catch { return false } }, 20_000)
    await cut()
    // Offline: the devices come to work and the edge runs its part of the job.
    for (const id of PRESS) await connectDevice(id)
    await waitFor('local job completed', () => edge.running.hub.jobs.get(localJobId('m1', 1)).status === 'completed', 30_000)
    const meanwhile = await getJob('m1')
    expect(meanwhile.status).toBe('running')
    expect(meanwhile.deviceJobStatistics).toMatchObject({ deviceCount: 3, pendingCount: 3, succeededCount: 0 })
    await restore()
    expect(await edge.running.hub.sync.waitIdle(30_000)).toBe(true) // idle includes the job outcomes acknowledged upstream
    const done = await getJob('m1')
    expect(done.status).toBe('completed')
    expect(done.deviceJobStatistics).toMatchObject({ deviceCount: 3, succeededCount: 3, failedCount: 0, pendingCount: 0, runningCount: 0 })
    const r = await rows('m1')
    expect(r.map((x) => x.deviceId).sort()).toEqual(PRESS)
    for (const x of r) {
      expect(x.status).toBe('completed')
      expect(x.outcome).toEqual({ deviceMethodResponse: { status: 200, payload: { rebooted: x.deviceId, asked: { why: 'm1' } } } })
    }
    for (const id of PRESS) expect(calls.get(id)).toEqual([{ why: 'm1' }])
  })

  it('a twin-update job the same way: written at the site, the desired change converges upstream', async () => {
    await jobs.scheduleTwinUpdate('t1', "tags.line = 'press'", { etag: '*', properties: { desired: { speed: 9 } } } as never)
    const done = await waitFor('t1 completed upstream', async () => { const j = await getJob('t1'); return j.status === 'completed' ? j : undefined }, 30_000)
    expect(done.deviceJobStatistics).toMatchObject({ deviceCount: 3, succeededCount: 3, failedCount: 0 })
    expect(cloud.running.hub.jobs.deviceJobs('t1').every((d) => d.delegatedTo === EDGE && d.reportedByEdgeAt !== undefined)).toBe(true)
    for (const id of PRESS) {
      await waitFor(`${id} desired upstream`, async () => (await reg.getTwin(id)).responseBody.properties.desired['speed'] === 9, 20_000)
      await waitFor(`${id} notified`, () => (desiredSeen.get(id) ?? []).includes(9), 10_000)
    }
    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)
    for (const id of PRESS) expect(desiredSeen.get(id)).toEqual([9])
    expect(edge.running.hub.sync.conflicts()).toEqual([])
  })

  it('the job\'s rate and maintenance window are enforced at the edge', async () => {
    // devicesPerMinute 60: one device per second at the site.
    await rest.request('PUT', '/jobs/v2/rate1', {
      type: 'scheduleDeviceMethod', queryCondition: "tags.line = 'press'", cloudToDeviceMethod: { methodName: 'reboot', payload: { why: 'rate1' }, responseTimeoutInSeconds: 15 },
      devicesPerMinute: 60, maxExecutionTimeInSeconds: 600
    })
    await waitFor('rate1 completed upstream', async () => (await getJob('rate1')).status === 'completed', 40_000)
    const starts = (await rows('rate1')).map((x) => Date.parse(x.startTimeUtc as string)).sort((a, b) => a - b)
    expect(starts).toHaveLength(3)
    for (let i = 1; i < starts.length; i++) expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(900)
    for (const id of PRESS) expect(calls.get(id)).toEqual([{ why: 'm1' }, { why: 'rate1' }])

    // A window that opens in three hours: nothing is touched before the job's end, the devices fail OutsideMaintenanceWindow.
    const opens = new Date(Date.now() + 3 * 3600_000)
    const hhmm = (d: Date): string => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
    await rest.request('PUT', '/jobs/v2/win1', {
      type: 'scheduleDeviceMethod', queryCondition: "tags.line = 'press'", cloudToDeviceMethod: { methodName: 'reboot', payload: { why: 'win1' }, responseTimeoutInSeconds: 15 },
      maintenanceWindow: { timeZone: 'UTC', start: hhmm(opens), end: hhmm(new Date(opens.getTime() + 60_000)) }, maxExecutionTimeInSeconds: 20
    })
    await waitFor('win1 claimed', () => cloud.running.hub.jobs.deviceJobs('win1').filter((d) => d.delegatedTo === EDGE).length === 3, 20_000)
    const done = await waitFor('win1 completed upstream', async () => { const j = await getJob('win1'); return j.status === 'completed' ? j : undefined }, 40_000)
    expect(done.deviceJobStatistics).toMatchObject({ deviceCount: 3, failedCount: 3, succeededCount: 0 })
    for (const x of await rows('win1')) expect(x.error?.code).toBe('OutsideMaintenanceWindow')
    for (const id of PRESS) expect(calls.get(id)).toHaveLength(2)
  })

  it('a plain method call to an offline edge device gets DeviceNotOnline; a queued command is delivered when it connects, offline, and its result reaches the cloud', async () => {
    const svc = Client.fromConnectionString(cloudCs)
    const err = await svc.invokeDeviceMethod('jd4', { methodName: 'reboot', payload: null, responseTimeoutInSeconds: 5 }).then(() => null, (e: Error) => e)
    expect(String((err as Error & { responseBody?: string })?.responseBody)).toMatch(/404103|DeviceNotOnline/)

    const cmd = await rest.request<CommandRecord>('POST', '/twins/jd4/commands', { methodName: 'reboot', payload: { why: 'queued' }, ttlInSeconds: 3600 })
    expect(cmd.status).toBe('queued')
    await waitFor('command taken over', () => cloud.running.hub.commands.get(cmd.commandId)?.delegatedTo === EDGE, 20_000)
    await waitFor('command queued at the site', () => edge.running.hub.commands.get(cmd.commandId)?.status === 'queued', 20_000)
    await cut()
    await connectDevice('jd4')
    await waitFor('delivered at the site', () => edge.running.hub.commands.get(cmd.commandId)?.status === 'succeeded', 30_000)
    expect((await rest.request<CommandRecord>('GET', `/commands/${cmd.commandId}`)).status).toBe('queued') // the cloud does not know yet
    await restore()
    const up = await waitFor('result upstream', async () => { const c = await rest.request<CommandRecord>('GET', `/commands/${cmd.commandId}`); return c.status === 'succeeded' ? c : undefined }, 30_000)
    expect(up.response).toEqual({ status: 200, payload: { rebooted: 'jd4', asked: { why: 'queued' } } })
    expect(up.attempts).toBe(1)
    expect(calls.get('jd4')).toEqual([{ why: 'queued' }])
    // The edge forgets a delegated command once the cloud acknowledged its result.
    await waitFor('outbox empty', () => { const d = edge.running.hub.sync.status().delegation; return d !== undefined && d.commands === 0 && d.pendingReports === 0 && d.jobs === 0 && d.supported === true }, 20_000)
  })

  it('the delegation routes refuse bad input with IoT Hub error bodies and ignore a repeated outcome', async () => {
    const fail = async (p: Promise<unknown>): Promise<UpstreamError> => { const e = await p.then(() => null, (err: unknown) => err); expect(e).toBeInstanceOf(UpstreamError); return e as UpstreamError }
    expect(await fail(rest.request('GET', '/edges/jd1/jobs'))).toMatchObject({ status: 404, code: 'DeviceNotFound' }) // not a declared edge
    expect(await fail(rest.request('PUT', '/edges/jd1/delegation'))).toMatchObject({ status: 400, code: 'ArgumentInvalid' }) // not an IoT Edge device
    expect(await fail(rest.request('POST', `/edges/${EDGE}/jobs/m1/results`, { outcomes: [{ deviceId: 'jd1', status: 'done' }] }))).toMatchObject({ status: 400, code: 'ArgumentInvalid' })
    expect(await fail(rest.request('POST', `/edges/${EDGE}/jobs/m1/claim`, { deviceIds: 'jd1' }))).toMatchObject({ status: 400, code: 'ArgumentInvalid' })
    const again = await rest.request('POST', `/edges/${EDGE}/jobs/m1/results`, { outcomes: [{ deviceId: 'jd1', status: 'failed', error: { code: 'X', description: 'a late copy' } }] })
    expect(again).toEqual({ recorded: [], ignored: [{ deviceId: 'jd1', reason: 'already recorded' }] })
    expect((await getJob('m1')).deviceJobStatistics).toMatchObject({ succeededCount: 3, failedCount: 0 })

  })
})
