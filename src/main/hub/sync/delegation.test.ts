// Delegation of cloud jobs and queued commands to the edge, with one injected clock shared by a
// cloud hub and an edge hub (no network: the edge's upstream client is a small in-memory adapter
// calling the cloud hub's delegation API, which is what the REST routes call; the wire is
// covered by test/sync/jobs-delegation.test.ts). The edge enforces the job's window, rate and
// abort threshold over its devices while the "link" is down, and reports once it is up.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub, type Hub } from '../index.js'
import { createFakeScheduler, type FakeScheduler } from '../jobs/scheduler.js'
import { createMemoryStore } from '../store/memory-store.js'
import type { HubStore } from '../store/types.js'
import type { DeviceConnection, JsonValue, MethodRequest } from '../types.js'
import { createEdgeDelegation, localJobId } from './jobs-edge.js'
import { LinkError, UpstreamError, type UpstreamClient } from './upstream-client.js'

// Wednesday 2030-01-09 12:00 in Berlin (UTC+1 in winter).
const WED_NOON_BERLIN = Date.parse('2030-01-09T11:00:00Z')
const SCOPE = 'ms-azure-iot-edge://edge1-1'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function makeHub (role: 'edge' | 'cloud', sched: FakeScheduler, extra: { delegatedOutcomeWaitSeconds?: number } = {}, store: HubStore = createMemoryStore()): Promise<Hub> {
  const dir = mkdtempSync(join(tmpdir(), `sitehub-deleg-${role}-`))
  const hub = await createHub({
    config: { dataDir: dir, hostName: `${role}.test`, bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role },
    store, clock: sched, fsync: false,
    jobs: { scheduler: sched, siteTimeZone: 'Europe/Berlin', ...extra },
    commands: { sweepIntervalMs: 0, connectGraceMs: 0, ...extra }
  })
  cleanups.push(async () => { await hub.close(); rmSync(dir, { recursive: true, force: true }) })
  return hub
}

/** The edge's upstream: calls the cloud hub's delegation API as the REST routes do. `down` black-holes it; `loseNextClaimAnswer` applies a claim and then fails. */
function adapter (cloudOf: () => Hub) {
  const ctl = { down: false, loseNextClaimAnswer: false, azure: false, requests: [] as string[] }
  const client = {
    async request (method: string, path: string, body?: { deviceIds?: string[]; outcomes?: never[]; commandIds?: string[]; results?: never[] }) {
      if (ctl.down) throw new LinkError(`${method} ${path}: link down`)
      const cloud = cloudOf()
      ctl.requests.push(`${method} ${path}`)
      if (ctl.azure) throw new UpstreamError(404, 'NotFound', `${method} ${path}: 404 no such resource`) // IoT Hub has no /edges routes
      const seg = path.split('/').map(decodeURIComponent)
      const edge = seg[2] as string
      if (method === 'PUT' && seg[3] === 'delegation') return await cloud.delegation.register(edge)
      cloud.delegation.mustGetEdge(edge)
      if (seg[3] === 'jobs' && seg.length === 4) return cloud.jobs.edgeJobs(edge)
      if (seg[3] === 'jobs' && seg[5] === 'claim') {
        const r = await cloud.jobs.claimForEdge(seg[4] as string, edge, body?.deviceIds ?? [])
        if (ctl.loseNextClaimAnswer) { ctl.loseNextClaimAnswer = false; throw new LinkError('claim answer lost') }
        return r
      }
      if (seg[3] === 'jobs' && seg[5] === 'results') return await cloud.jobs.recordEdgeOutcomes(seg[4] as string, edge, body?.outcomes ?? [])
      if (seg[3] === 'commands' && seg.length === 4) return cloud.commands.edgeCommands(edge)
      if (seg[3] === 'commands' && seg[4] === 'claim') return { claimed: await cloud.commands.claimForEdge(edge, body?.commandIds ?? []) }
      if (seg[3] === 'commands' && seg[4] === 'results') return await cloud.commands.recordEdgeResults(edge, body?.results ?? [])
      throw new Error(`unexpected ${method} ${path}`)
    }
  } as unknown as UpstreamClient
  return { client, ctl }
}

/** An in-process device connection at the edge answering direct methods with 200 and counting calls. */
function connect (hub: Hub, deviceId: string, hold = false): { calls: MethodRequest[]; release: (i: number) => void } {
  const calls: MethodRequest[] = []
  const conn: DeviceConnection = {
    identity: { deviceId }, key: deviceId, transport: 'mqtt', remote: 'test', connectedAt: new Date().toISOString(),
    sendMethodRequest (req) {
      calls.push(req)
      if (!hold) setImmediate(() => hub.methods.handleResponse({ deviceId }, req.requestId, 200, { ran: deviceId } as JsonValue))
    },
    sendDesiredPatch: () => {},
    sendC2d: async () => {},
    close: () => {}
  }
  hub.connections.attach(conn, { cleanSession: true })
  hub.connections.subscribe(conn, 'methods', true)
  return { calls, release: (i) => hub.methods.handleResponse({ deviceId }, (calls[i] as MethodRequest).requestId, 200, { ran: deviceId } as JsonValue) }
}

interface Env { sched: FakeScheduler; cloud: Hub; edge: Hub; restartCloud: () => Promise<Hub>; ctl: ReturnType<typeof adapter>['ctl']; tick: () => Promise<void>; delegation: ReturnType<typeof createEdgeDelegation> }

async function setup (ids: string[], opts: { delegatedOutcomeWaitSeconds?: number; mirrored?: (id: string) => boolean } = {}): Promise<Env> {
  const sched = createFakeScheduler(WED_NOON_BERLIN)
  const cloudStore = createMemoryStore()
  const cloudOpts = opts.delegatedOutcomeWaitSeconds === undefined ? {} : { delegatedOutcomeWaitSeconds: opts.delegatedOutcomeWaitSeconds }
  let cloud = await makeHub('cloud', sched, cloudOpts, cloudStore)
  const edge = await makeHub('edge', sched)
  await cloud.registry.create({ deviceId: 'edge1', capabilities: { iotEdge: true }, deviceScope: SCOPE })
  await cloud.registry.create({ deviceId: 'direct' }) // a device of the cloud itself, not behind the edge
  for (const deviceId of ids) {
    await cloud.registry.create({ deviceId, deviceScope: SCOPE, parentScopes: [SCOPE] })
    await cloud.twins.patchTags({ deviceId }, { line: 'a' })
    await edge.registry.create({ deviceId })
  }
  await cloud.twins.patchTags({ deviceId: 'direct' }, { line: 'a' })
  const { client, ctl } = adapter(() => cloud)
  const restartCloud = async (): Promise<Hub> => { await cloud.close(); cloud = await makeHub('cloud', sched, cloudOpts, cloudStore); return cloud }
  const delegation = createEdgeDelegation({ store: edge.store, jobs: edge.jobs, commands: edge.commands, clock: sched, logger: edge.logger, mirrored: opts.mirrored ?? (() => true), pollMs: 0 })
  cleanups.push(() => delegation.close())
  let session = 1
  const tick = async (): Promise<void> => {
    try { await delegation.tick(client, 'edge1', session) } catch (err) { if (!(err instanceof LinkError)) throw err; session++ }
    await sched.advance(0)
  }
  return { sched, cloud, edge, ctl, tick, delegation, restartCloud }
}

const method = (extra: Record<string, unknown> = {}) => ({
  type: 'scheduleDeviceMethod', queryCondition: "tags.line = 'a'",
  cloudToDeviceMethod: { methodName: 'reboot', payload: { delay: 0 }, responseTimeoutInSeconds: 10 }, ...extra
})
const rows = (hub: Hub, jobId: string): Record<string, string> => Object.fromEntries(hub.jobs.deviceJobs(jobId).map((d) => [d.deviceId, d.status]))

describe('jobs delegated to the edge (fake clock)', () => {
  it('the cloud leaves the edge\'s devices to it; the edge runs them at the job\'s rate while offline and reports once online', async () => {
    const env = await setup(['r1', 'r2', 'r3', 'r4'])
    const { cloud, edge, sched, ctl } = env
    await env.tick() // the edge declares itself
    expect(cloud.delegation.edges().map((e) => e.edgeId)).toEqual(['edge1'])
    const direct = connect(cloud, 'direct')
    const devs = ['r1', 'r2', 'r3', 'r4'].map((id) => connect(edge, id))
    await cloud.jobs.create('rate', method({ devicesPerMinute: 2, maxExecutionTimeInSeconds: 600 }))
    await sched.advance(0)
    // The cloud ran its own device and reserved the edge's four.
    expect(direct.calls).toHaveLength(1)
    expect(rows(cloud, 'rate')).toMatchObject({ direct: 'completed', r1: 'pending', r2: 'pending', r3: 'pending', r4: 'pending' })
    await env.tick()
    expect(cloud.jobs.deviceJobs('rate').filter((d) => d.delegatedTo === 'edge1').map((d) => d.deviceId).sort()).toEqual(['r1', 'r2', 'r3', 'r4'])
    ctl.down = true // the site goes offline right after the claim
    const called = (): number => devs.filter((d) => d.calls.length > 0).length
    expect(called()).toBe(1) // the first device at once, then 2 per minute
    await sched.advance(29_000)
    expect(called()).toBe(1)
    await sched.advance(1_000)
    expect(called()).toBe(2)
    await sched.advance(60_000)
    expect(called()).toBe(4)
    expect(edge.jobs.get(localJobId('rate', 1)).status).toBe('completed')
    expect(cloud.jobs.get('rate').status).toBe('running') // still waiting for the edge
    expect(cloud.jobs.get('rate').deviceJobStatistics).toMatchObject({ succeededCount: 1, pendingCount: 4 })
    await env.tick()
    expect(cloud.jobs.get('rate').deviceJobStatistics).toMatchObject({ succeededCount: 1, pendingCount: 4 }) // link still down
    ctl.down = false
    await env.tick()
    await env.tick()
    const job = cloud.jobs.get('rate')
    expect(job.status).toBe('completed')
    expect(job.deviceJobStatistics).toMatchObject({ deviceCount: 5, succeededCount: 5, failedCount: 0, pendingCount: 0 })
    const r2 = cloud.jobs.deviceJobs('rate').find((d) => d.deviceId === 'r2')
    expect(r2?.outcome).toEqual({ deviceMethodResponse: { status: 200, payload: { ran: 'r2' } } })
    expect(r2?.reportedByEdgeAt).toBeDefined()
    // The start times are the edge's: 30 s apart at 2 devices per minute.
    const starts = cloud.jobs.deviceJobs('rate').filter((d) => d.delegatedTo !== undefined).map((d) => Date.parse(d.startTimeUtc as string)).sort()
    expect(starts[1] as number - (starts[0] as number)).toBeGreaterThanOrEqual(30_000)
    for (const d of devs) expect(d.calls).toHaveLength(1)
    expect(env.delegation.status()).toMatchObject({ supported: true, jobs: 0, pendingReports: 0 })
    // A repeated report changes nothing.
    const again = await cloud.jobs.recordEdgeOutcomes('rate', 'edge1', [{ deviceId: 'r1', status: 'failed', error: { code: 'X', description: 'late copy' } }])
    expect(again).toEqual({ recorded: [], ignored: [{ deviceId: 'r1', reason: 'already recorded' }] })
    expect(rows(cloud, 'rate')['r1']).toBe('completed')
  })

  it('a job scheduled for later is taken over before its start and runs at the edge at the start time, offline', async () => {
    const env = await setup(['s1', 's2'])
    const { cloud, edge, sched, ctl } = env
    await env.tick()
    const devs = ['s1', 's2'].map((id) => connect(edge, id))
    const start = new Date(WED_NOON_BERLIN + 3600_000).toISOString()
    await cloud.jobs.create('later', method({ queryCondition: "deviceId IN ['s1', 's2']", startTime: start, maxExecutionTimeInSeconds: 600 }))
    await sched.advance(0)
    expect(cloud.jobs.get('later').status).toBe('scheduled')
    await env.tick()
    expect(cloud.jobs.deviceJobs('later').map((d) => [d.deviceId, d.delegatedTo])).toEqual([['s1', 'edge1'], ['s2', 'edge1']])
    expect(edge.jobs.get(localJobId('later', 1))).toMatchObject({ status: 'scheduled', startTime: start })
    ctl.down = true
    await sched.advance(3599_000)
    expect(devs.every((d) => d.calls.length === 0)).toBe(true)
    await sched.advance(1_000)
    expect(devs.every((d) => d.calls.length === 1)).toBe(true)
    expect(cloud.jobs.get('later').status).toBe('running')
    ctl.down = false
    await env.tick()
    await env.tick()
    expect(cloud.jobs.get('later')).toMatchObject({ status: 'completed', deviceJobStatistics: { deviceCount: 2, succeededCount: 2 } })
  })

  it('enforces the job\'s maintenance window at the edge, offline', async () => {
    const env = await setup(['w1', 'w2'])
    const { cloud, edge, sched, ctl } = env
    await env.tick()
    const devs = ['w1', 'w2'].map((id) => connect(edge, id))
    await cloud.jobs.create('window', method({ queryCondition: "deviceId IN ['w1', 'w2']", maintenanceWindow: { timeZone: 'Europe/Berlin', start: '22:00', end: '23:00' }, maxExecutionTimeInSeconds: 86_400 }))
    await sched.advance(0)
    await env.tick()
    ctl.down = true
    await sched.advance(0)
    expect(rows(edge, localJobId('window', 1))).toEqual({ w1: 'scheduled', w2: 'scheduled' })
    await sched.set(Date.parse('2030-01-09T20:59:00Z')) // 21:59 in Berlin
    expect(devs.every((d) => d.calls.length === 0)).toBe(true)
    await sched.set(Date.parse('2030-01-09T21:00:30Z')) // 22:00:30
    expect(devs.every((d) => d.calls.length === 1)).toBe(true)
    ctl.down = false
    await env.tick()
    await env.tick()
    expect(cloud.jobs.get('window').status).toBe('completed')
    expect(cloud.jobs.get('window').deviceJobStatistics).toMatchObject({ deviceCount: 2, succeededCount: 2 })
    for (const d of cloud.jobs.deviceJobs('window')) expect(Date.parse(d.startTimeUtc as string)).toBeGreaterThanOrEqual(Date.parse('2030-01-09T21:00:00Z'))
  })

  it('applies the abort threshold over the edge\'s devices; the cloud records failed and canceled devices', async () => {
    const ids = ['t1', 't2', 't3', 't4', 't5']
    const env = await setup(ids)
    const { cloud, edge, sched } = env
    await env.tick()
    await cloud.jobs.create('abort', {
      type: 'scheduleUpdateTwin', queryCondition: "tags.line = 'a' AND deviceId != 'direct'", updateTwin: { etag: '*', properties: { desired: { speed: 3 } } },
      maxConcurrency: 1, devicesPerMinute: 60, abortThreshold: { failurePercent: 50, minDevices: 2 }
    })
    await sched.advance(0)
    await env.tick() // claimed; t1 is written at once, then one device per second
    expect(rows(edge, localJobId('abort', 1))['t1']).toBe('completed')
    // Three devices disappear at the site meanwhile: the next one fails (DeviceNotFound) and 1 of 2 is 50 %.
    for (const id of ['t2', 't3', 't4']) await edge.registry.remove({ deviceId: id })
    await sched.advance(10_000)
    const local = edge.jobs.get(localJobId('abort', 1))
    expect(local.status).toBe('failed')
    expect(local.failureReason).toMatch(/Aborted/)
    expect(local.deviceJobStatistics.failedCount + local.deviceJobStatistics.succeededCount).toBe(2)
    await env.tick()
    const st = cloud.jobs.get('abort')
    expect(st.deviceJobStatistics).toMatchObject({ deviceCount: 5, pendingCount: 0, runningCount: 0 })
    expect(st.deviceJobStatistics.failedCount + st.deviceJobStatistics.succeededCount).toBe(2)
    expect(st.deviceJobStatistics).toMatchObject({ succeededCount: 1, failedCount: 1 })
    expect(cloud.jobs.deviceJobs('abort').filter((d) => d.status === 'canceled')).toHaveLength(3)
    expect(st.status).toBe('failed') // the cloud's own threshold sees the same failures
  })

  it('a lost claim answer: the devices the cloud marked are adopted and run once', async () => {
    const env = await setup(['l1', 'l2'])
    const { cloud, edge, sched, ctl } = env
    await env.tick()
    const devs = ['l1', 'l2'].map((id) => connect(edge, id))
    await cloud.jobs.create('lost', method({ queryCondition: "deviceId IN ['l1', 'l2']" }))
    await sched.advance(0)
    ctl.loseNextClaimAnswer = true
    await env.tick() // the claim is applied at the cloud, its answer lost
    expect(cloud.jobs.deviceJobs('lost').every((d) => d.delegatedTo === 'edge1')).toBe(true)
    expect(devs.every((d) => d.calls.length === 0)).toBe(true)
    await env.tick() // new session: the edge sees them as its own, adopts them
    await env.tick()
    await env.tick()
    expect(cloud.jobs.get('lost').status).toBe('completed')
    for (const d of devs) expect(d.calls).toHaveLength(1)
  })

  it('a device mirrored later is claimed in a second local job, after the first was reported and forgotten', async () => {
    const ready = new Set(['p1'])
    const env = await setup(['p1', 'p2'], { mirrored: (id) => ready.has(id) })
    const { cloud, edge, sched } = env
    await env.tick()
    const devs = ['p1', 'p2'].map((id) => connect(edge, id))
    await cloud.jobs.create('two', method({ queryCondition: "deviceId IN ['p1', 'p2']" }))
    await sched.advance(0)
    await env.tick()
    await env.tick()
    expect(rows(cloud, 'two')).toEqual({ p1: 'completed', p2: 'pending' })
    expect(env.delegation.status().jobs).toBe(0) // p1 reported: the edge forgot the job
    ready.add('p2')
    await env.tick()
    await env.tick()
    expect(edge.jobs.deviceJobs(localJobId('two', 2)).map((d) => d.deviceId)).toEqual(['p2'])
    expect(cloud.jobs.get('two')).toMatchObject({ status: 'completed', deviceJobStatistics: { succeededCount: 2 } })
    for (const d of devs) expect(d.calls).toHaveLength(1)
  })

  it('a cloud restart keeps what the edge claimed: the cloud never runs those devices, their outcomes still land', async () => {
    const env = await setup(['cr1', 'cr2'])
    const { edge, sched } = env
    await env.tick()
    await env.cloud.jobs.create('crs', method({ queryCondition: "deviceId IN ['cr1', 'cr2']" }))
    await sched.advance(0)
    await env.tick()
    expect(env.cloud.jobs.deviceJobs('crs').every((d) => d.delegatedTo === 'edge1')).toBe(true)
    const cloud = await env.restartCloud()
    // Even reachable from the cloud, the devices are the edge's.
    const atCloud = ['cr1', 'cr2'].map((id) => connect(cloud, id))
    await sched.advance(1000)
    expect(atCloud.every((d) => d.calls.length === 0)).toBe(true)
    expect(cloud.jobs.get('crs')).toMatchObject({ status: 'running', deviceJobStatistics: { pendingCount: 2 } })
    const atEdge = ['cr1', 'cr2'].map((id) => connect(edge, id))
    await sched.advance(0)
    await env.tick()
    await env.tick()
    expect(cloud.jobs.get('crs')).toMatchObject({ status: 'completed', deviceJobStatistics: { succeededCount: 2 } })
    expect(atEdge.every((d) => d.calls.length === 1)).toBe(true)
    expect(atCloud.every((d) => d.calls.length === 0)).toBe(true)
  })

  it('1,200 devices: claimed in one request, outcomes reported in chunks, each device once', async () => {
    const ids = Array.from({ length: 1200 }, (_, i) => `b${String(i).padStart(4, '0')}`)
    const env = await setup(ids)
    const { cloud, edge, sched, ctl } = env
    await env.tick()
    await cloud.jobs.create('bulk', { type: 'scheduleUpdateTwin', queryCondition: "tags.line = 'a' AND deviceId != 'direct'", updateTwin: { etag: '*', properties: { desired: { fw: '2.0' } } } })
    await sched.advance(0)
    ctl.requests.length = 0
    await env.tick()
    await sched.advance(1000)
    expect(edge.jobs.get(localJobId('bulk', 1))).toMatchObject({ status: 'completed', deviceJobStatistics: { succeededCount: 1200 } })
    await env.tick()
    expect(cloud.jobs.get('bulk')).toMatchObject({ status: 'completed', deviceJobStatistics: { deviceCount: 1200, succeededCount: 1200 } })
    expect(ctl.requests.filter((r) => r.endsWith('/claim'))).toHaveLength(1)
    expect(ctl.requests.filter((r) => r.endsWith('/results'))).toHaveLength(3) // 500 + 500 + 200
    expect(edge.twins.get({ deviceId: 'b0999' }).properties.desired['fw']).toBe('2.0')
  })

  it('a device the edge is running shows running at the cloud, also across a cloud restart, then its outcome', async () => {
    const env = await setup(['h1'])
    const { edge, sched } = env
    await env.tick()
    const dev = connect(edge, 'h1', true) // receives the call, answers when released
    await env.cloud.jobs.create('held', method({ queryCondition: "deviceId = 'h1'", cloudToDeviceMethod: { methodName: 'flash', payload: null, responseTimeoutInSeconds: 300 } }))
    await sched.advance(0)
    await env.tick()
    expect(dev.calls).toHaveLength(1)
    await env.tick()
    expect(env.cloud.jobs.deviceJobs('held')[0]).toMatchObject({ status: 'running', delegatedTo: 'edge1' })
    expect(env.cloud.jobs.get('held').deviceJobStatistics).toMatchObject({ runningCount: 1, pendingCount: 0 })
    const cloud = await env.restartCloud()
    expect(cloud.jobs.deviceJobs('held')[0]?.status).toBe('running') // the edge's progress, not a HubRestarted here
    dev.release(0)
    await sched.advance(0)
    await env.tick()
    expect(cloud.jobs.get('held')).toMatchObject({ status: 'completed', deviceJobStatistics: { succeededCount: 1, runningCount: 0 } })
    expect(dev.calls).toHaveLength(1)
  })

  it('a job cancelled at the cloud is cancelled at the edge; devices not started there end canceled', async () => {
    const env = await setup(['c1', 'c2', 'c3'])
    const { cloud, edge, sched } = env
    await env.tick()
    const devs = ['c1', 'c2', 'c3'].map((id) => connect(edge, id))
    await cloud.jobs.create('cx', method({ queryCondition: "deviceId IN ['c1', 'c2', 'c3']", devicesPerMinute: 1 }))
    await sched.advance(0)
    await env.tick()
    expect(devs.filter((d) => d.calls.length > 0)).toHaveLength(1)
    await cloud.jobs.cancel('cx')
    expect(cloud.jobs.get('cx').status).toBe('cancelled')
    expect(cloud.jobs.get('cx').deviceJobStatistics.pendingCount).toBe(3) // the edge has not reported yet
    await env.tick()
    await sched.advance(1000)
    await env.tick()
    expect(edge.jobs.get(localJobId('cx', 1)).status).toBe('cancelled')
    await sched.advance(120_000)
    expect(devs.filter((d) => d.calls.length > 0)).toHaveLength(1)
    expect(Object.values(rows(cloud, 'cx')).sort()).toEqual(['canceled', 'canceled', 'completed'])
  })

  it('an edge that never reports: the job completes after the wait, and a late outcome still replaces EdgeOutcomeMissing', async () => {
    const env = await setup(['m1'], { delegatedOutcomeWaitSeconds: 60 })
    const { cloud, sched, ctl } = env
    await env.tick()
    await cloud.jobs.create('miss', method({ queryCondition: "deviceId = 'm1'", maxExecutionTimeInSeconds: 30 }))
    await sched.advance(0)
    await env.tick()
    ctl.down = true
    await sched.advance(31_000)
    expect(cloud.jobs.get('miss').status).toBe('running')
    expect(cloud.jobs.get('miss').statusMessage).toMatch(/Waiting for the outcomes of 1 device/)
    await sched.advance(60_000)
    expect(cloud.jobs.get('miss').status).toBe('completed')
    expect(cloud.jobs.deviceJobs('miss')[0]).toMatchObject({ status: 'failed', error: { code: 'EdgeOutcomeMissing' } })
    ctl.down = false
    await env.tick()
    await env.tick()
    // m1 never connected at the edge: its real outcome is DeviceNotOnline at the end of the window.
    expect(cloud.jobs.deviceJobs('miss')[0]).toMatchObject({ status: 'failed', error: { code: 'DeviceNotOnline' } })
  })

  it('against a cloud without delegation routes (Azure IoT Hub) the edge turns delegation off, and the cloud\'s own engine drives the devices', async () => {
    const env = await setup(['z1'])
    const { cloud, sched, ctl } = env
    ctl.azure = true
    await env.tick()
    await env.tick()
    expect(env.delegation.status().supported).toBe(false)
    expect(ctl.requests).toEqual(['PUT /edges/edge1/delegation']) // asked once per session, then left alone
    expect(cloud.delegation.edges()).toEqual([])
    // The cloud sees z1 as reachable when the edge forwards its methods (here: connected at the cloud directly).
    const z1 = connect(cloud, 'z1')
    await cloud.jobs.create('az', method({ queryCondition: "deviceId = 'z1'" }))
    await sched.advance(0)
    expect(z1.calls).toHaveLength(1)
    expect(cloud.jobs.get('az').status).toBe('completed')
  })

  it('a device reserved for an edge that never claims fails EdgeDidNotClaim at the job\'s end', async () => {
    const env = await setup(['n1'])
    const { cloud, sched, ctl } = env
    await env.tick()
    ctl.down = true
    await cloud.jobs.create('noclaim', method({ queryCondition: "deviceId = 'n1'", maxExecutionTimeInSeconds: 30 }))
    await sched.advance(31_000)
    expect(cloud.jobs.get('noclaim').status).toBe('completed')
    expect(cloud.jobs.deviceJobs('noclaim')[0]).toMatchObject({ status: 'failed', error: { code: 'EdgeDidNotClaim' } })
  })
})

describe('queued commands delegated to the edge (fake clock)', () => {
  it('a command queued at the cloud for an offline edge device is delivered when it connects at the site, and its result goes up', async () => {
    const env = await setup(['q1'])
    const { cloud, edge, sched, ctl } = env
    await env.tick()
    const cmd = await cloud.commands.enqueue({ deviceId: 'q1' }, { methodName: 'reboot', payload: { now: true }, ttlInSeconds: 3600 })
    const wipe = await cloud.commands.enqueue({ deviceId: 'q1' }, { methodName: 'wipe', ttlInSeconds: 3600 })
    await env.tick()
    expect(cloud.commands.get(cmd.commandId)).toMatchObject({ status: 'queued', delegatedTo: 'edge1' })
    expect(edge.commands.get(cmd.commandId)).toMatchObject({ status: 'queued', methodName: 'reboot' })
    // Cancelled at the cloud while the edge holds it: the edge cancels it (not sent yet) and reports.
    expect(await cloud.commands.cancel(wipe.commandId, 'wrong device')).toMatchObject({ status: 'queued', cancelRequestedAt: expect.any(String) })
    await env.tick()
    expect(edge.commands.get(wipe.commandId)?.status).toBe('cancelled')
    await env.tick()
    expect(cloud.commands.get(wipe.commandId)).toMatchObject({ status: 'cancelled', error: { code: 'Cancelled' } })
    ctl.down = true
    const dev = connect(edge, 'q1')
    await sched.advance(100)
    await new Promise((r) => setTimeout(r, 50))
    await sched.advance(100)
    expect(dev.calls).toHaveLength(1)
    expect(edge.commands.get(cmd.commandId)?.status).toBe('succeeded')
    ctl.down = false
    await env.tick()
    await env.tick()
    expect(cloud.commands.get(cmd.commandId)).toMatchObject({ status: 'succeeded', response: { status: 200, payload: { ran: 'q1' } }, attempts: 1 })
    expect(env.delegation.status().commands).toBe(0)
    // Another command while the device is connected at the site: delivered at once there.
    const short = await cloud.commands.enqueue({ deviceId: 'q1' }, { methodName: 'later', ttlInSeconds: 60 })
    await env.tick()
    expect(cloud.commands.get(short.commandId)?.delegatedTo).toBe('edge1')
    await env.tick()
    expect(dev.calls.map((c) => c.methodName)).toEqual(['reboot', 'later'])
    await env.tick()
    expect(cloud.commands.get(short.commandId)?.status).toBe('succeeded')
  })
})
