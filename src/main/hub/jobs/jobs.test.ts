// Jobs v2 with an injected clock: maintenance windows, rollout rate, concurrency, abort
// threshold, in-use guard, offline devices, expiry and restart. No sleeps: time moves only
// when a test calls sched.advance()/set().
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub, type Hub } from '../index.js'
import { createMemoryStore } from '../store/memory-store.js'
import type { HubStore } from '../store/types.js'
import type { DeviceConnection, JsonValue, MethodRequest } from '../types.js'
import { createFakeScheduler, type FakeScheduler } from './scheduler.js'
import { inWindows, localTime, nextOpening, parseWindows } from './windows.js'

// Wednesday 2030-01-09 12:00 in Berlin (UTC+1 in winter).
const WED_NOON_BERLIN = Date.parse('2030-01-09T11:00:00Z')

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

interface Env { hub: Hub; sched: FakeScheduler; store: HubStore; dir: string }

async function makeHub (opts: { start?: number; store?: HubStore; dir?: string; maxActiveJobs?: number } = {}): Promise<Env> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sitehub-jobs-'))
  const sched = createFakeScheduler(opts.start ?? WED_NOON_BERLIN)
  const store = opts.store ?? createMemoryStore()
  const hub = await createHub({
    config: { dataDir: dir, hostName: 'hub.test', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role: 'edge' },
    store, clock: sched, fsync: false,
    jobs: { scheduler: sched, siteTimeZone: 'Europe/Berlin', ...(opts.maxActiveJobs === undefined ? {} : { maxActiveJobs: opts.maxActiveJobs }) }
  })
  cleanups.push(async () => { await hub.close() })
  if (opts.dir === undefined) cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return { hub, sched, store, dir }
}

/** A device connected and subscribed to methods that answers with `answer` (or holds calls when it returns undefined). */
function connect (hub: Hub, deviceId: string, answer: (req: MethodRequest) => { status: number; payload: JsonValue } | undefined = () => ({ status: 200, payload: { ok: true } })) {
  const calls: MethodRequest[] = []
  const conn: DeviceConnection = {
    identity: { deviceId },
    key: deviceId,
    transport: 'mqtt',
    remote: 'test',
    connectedAt: new Date().toISOString(),
    sendMethodRequest (req) {
      calls.push(req)
      const a = answer(req)
      if (a !== undefined) setImmediate(() => hub.methods.handleResponse({ deviceId }, req.requestId, a.status, a.payload))
    },
    sendDesiredPatch: () => {},
    sendC2d: async () => {},
    close: () => {}
  }
  hub.connections.attach(conn, { cleanSession: true })
  hub.connections.subscribe(conn, 'methods', true)
  return {
    calls,
    reply: (i: number, status = 200) => hub.methods.handleResponse({ deviceId }, (calls[i] as MethodRequest).requestId, status, null),
    disconnect: () => hub.connections.detach(conn, 'test')
  }
}

async function devices (hub: Hub, ids: string[], tags: Record<string, JsonValue> = { line: 'a' }): Promise<void> {
  for (const deviceId of ids) {
    await hub.registry.create({ deviceId })
    await hub.twins.patchTags({ deviceId }, tags)
  }
}

const method = (extra: Record<string, unknown> = {}) => ({
  type: 'scheduleDeviceMethod', queryCondition: "tags.line = 'a'",
  cloudToDeviceMethod: { methodName: 'reboot', payload: { delay: 0 }, responseTimeoutInSeconds: 10 }, ...extra
})
const statuses = (hub: Hub, jobId: string): Record<string, string> =>
  Object.fromEntries(hub.jobs.deviceJobs(jobId).map((d) => [d.deviceId, d.status]))

describe('maintenance windows (Intl, site time zone)', () => {
  const w = parseWindows({ timeZone: 'Europe/Berlin', days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '22:00', end: '05:00' }, 'w')

  it('is open overnight from the listed days and closed in the day', () => {
    expect(localTime(WED_NOON_BERLIN, 'Europe/Berlin')).toEqual({ day: 3, minute: 12 * 60, second: 0 })
    expect(inWindows(w, WED_NOON_BERLIN, 'UTC')).toBe(false)
    expect(inWindows(w, Date.parse('2030-01-09T21:00:00Z'), 'UTC')).toBe(true) // Wed 22:00 Berlin
    expect(inWindows(w, Date.parse('2030-01-10T03:59:00Z'), 'UTC')).toBe(true) // Thu 04:59 Berlin
    expect(inWindows(w, Date.parse('2030-01-10T04:00:00Z'), 'UTC')).toBe(false) // Thu 05:00 Berlin
    // Saturday night: Sat is not listed; the Fri-night window's tail ends Sat 05:00.
    expect(inWindows(w, Date.parse('2030-01-12T02:00:00Z'), 'UTC')).toBe(true) // Sat 03:00
    expect(inWindows(w, Date.parse('2030-01-12T22:00:00Z'), 'UTC')).toBe(false) // Sat 23:00
    expect(inWindows(w, Date.parse('2030-01-13T23:30:00Z'), 'UTC')).toBe(false) // Mon 00:30: no Sunday-night window
  })

  it('finds the next opening, across a weekend and across daylight saving', () => {
    expect(new Date(nextOpening(w, WED_NOON_BERLIN, 'UTC')).toISOString()).toBe('2030-01-09T21:00:00.000Z')
    expect(new Date(nextOpening(w, Date.parse('2030-01-11T22:00:00Z'), 'UTC')).toISOString()).toBe('2030-01-14T21:00:00.000Z') // Fri 23:00 -> Mon 22:00
    // Summer time starts Sun 2030-03-31 in Berlin: Sat 12:00 CET -> Mon 22:00 CEST (20:00Z).
    expect(new Date(nextOpening(w, Date.parse('2030-03-30T11:00:00Z'), 'UTC')).toISOString()).toBe('2030-04-01T20:00:00.000Z')
    // ...and back: Sat 2030-10-26 12:00 CEST -> Mon 22:00 CET (21:00Z).
    expect(new Date(nextOpening(w, Date.parse('2030-10-26T10:00:00Z'), 'UTC')).toISOString()).toBe('2030-10-28T21:00:00.000Z')
    expect(inWindows(w, Date.parse('2030-04-01T20:00:00Z'), 'UTC')).toBe(true)
    expect(inWindows(w, Date.parse('2030-04-01T19:59:00Z'), 'UTC')).toBe(false)
  })

  it('rejects bad windows with a clear error', () => {
    expect(() => parseWindows({ start: '25:00', end: '05:00' }, 'maintenanceWindow')).toThrow(/maintenanceWindow.start must be a 24-hour 'HH:MM'/)
    expect(() => parseWindows({ start: '22:00', end: '05:00', timeZone: 'Mars/Base' }, 'maintenanceWindow')).toThrow(/not a time zone/)
    expect(() => parseWindows({ start: '22:00', end: '05:00', days: ['Funday'] }, 'maintenanceWindow')).toThrow(/days must be/)
  })
})

describe('jobs v2 service with a fake clock', () => {
  it('holds every device outside the job window; a device tag window overrides the job one', async () => {
    const { hub, sched } = await makeHub()
    await devices(hub, ['a1', 'a2', 'a3'])
    await hub.twins.patchTags({ deviceId: 'a3' }, { maintenanceWindow: { start: '01:00', end: '02:00' } })
    const dev = ['a1', 'a2', 'a3'].map((id) => connect(hub, id))
    await hub.jobs.create('win', method({ maintenanceWindow: { days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '22:00', end: '05:00' }, maxExecutionTimeInSeconds: 86_400 }))
    await sched.advance(0)
    expect(hub.jobs.get('win').status).toBe('running')
    expect(statuses(hub, 'win')).toEqual({ a1: 'scheduled', a2: 'scheduled', a3: 'scheduled' })
    expect(dev.map((d) => d.calls.length)).toEqual([0, 0, 0])
    await sched.set(Date.parse('2030-01-09T20:59:00Z')) // 21:59 Berlin
    expect(dev.map((d) => d.calls.length)).toEqual([0, 0, 0])
    await sched.set(Date.parse('2030-01-09T21:00:00Z')) // 22:00 Berlin: the job window opens
    expect(statuses(hub, 'win')).toEqual({ a1: 'completed', a2: 'completed', a3: 'scheduled' })
    expect(hub.jobs.get('win').deviceJobStatistics).toMatchObject({ deviceCount: 3, succeededCount: 2, pendingCount: 1 })
    await sched.set(Date.parse('2030-01-10T00:00:00Z')) // 01:00 Berlin: a3's own window
    expect(statuses(hub, 'win')).toEqual({ a1: 'completed', a2: 'completed', a3: 'completed' })
    expect(hub.jobs.get('win')).toMatchObject({ status: 'completed', deviceJobStatistics: { deviceCount: 3, succeededCount: 3, failedCount: 0, pendingCount: 0, runningCount: 0 } })
  })

  it('starts at most devicesPerMinute devices a minute', async () => {
    const { hub, sched } = await makeHub()
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5']
    await devices(hub, ids)
    const dev = ids.map((id) => connect(hub, id))
    await hub.jobs.create('rate', method({ devicesPerMinute: 6 }))
    await sched.advance(0)
    const called = (): number => dev.filter((d) => d.calls.length > 0).length
    expect(called()).toBe(1)
    await sched.advance(9_999)
    expect(called()).toBe(1)
    await sched.advance(1)
    expect(called()).toBe(2)
    await sched.advance(30_000)
    expect(called()).toBe(5)
    expect(hub.jobs.get('rate').status).toBe('completed')
    expect(dev.every((d) => d.calls.length === 1)).toBe(true)
  })

  it('keeps at most maxConcurrency devices in flight', async () => {
    const { hub, sched } = await makeHub()
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5']
    await devices(hub, ids)
    const dev = ids.map((id) => connect(hub, id, () => undefined)) // answers only when told
    await hub.jobs.create('conc', method({ maxConcurrency: 2 }))
    await sched.advance(0)
    const called = (): number => dev.filter((d) => d.calls.length > 0).length
    expect(called()).toBe(2)
    expect(hub.jobs.get('conc').deviceJobStatistics).toMatchObject({ runningCount: 2, pendingCount: 3 })
    dev[0]?.reply(0)
    await sched.advance(0)
    expect(called()).toBe(3)
    for (const d of dev) if (d.calls.length > 0) d.reply(0)
    await sched.advance(0)
    for (const d of dev) if (d.calls.length > 0) d.reply(0, 500)
    await sched.advance(0)
    expect(called()).toBe(5)
    const job = hub.jobs.get('conc')
    expect(job.status).toBe('completed')
    // Any device reply completes the device job; the status is kept in the outcome.
    const recs = hub.jobs.deviceJobs('conc')
    expect(recs.every((r) => r.status === 'completed')).toBe(true)
    expect(recs.filter((r) => r.outcome?.deviceMethodResponse?.status === 500).length).toBe(2)
  })

  it('aborts when failures reach the threshold after the minimum; the rest is canceled', async () => {
    const { hub, sched } = await makeHub()
    const ids = Array.from({ length: 10 }, (_, i) => `t${i}`)
    await devices(hub, ids)
    await hub.jobs.create('abort', {
      type: 'scheduleUpdateTwin', queryCondition: "tags.line = 'a'",
      updateTwin: { etag: 'no-such-etag', properties: { desired: { mode: 'eco' } } },
      maxConcurrency: 1, abortThreshold: { failurePercent: 50, minDevices: 3 }
    })
    await sched.advance(0)
    const job = hub.jobs.get('abort')
    expect(job.status).toBe('failed')
    expect(job.failureReason).toMatch(/Aborted: 3 of 3 finished devices failed/)
    expect(job.deviceJobStatistics).toMatchObject({ deviceCount: 10, failedCount: 3, succeededCount: 0, pendingCount: 0, runningCount: 0 })
    const recs = hub.jobs.deviceJobs('abort')
    expect(recs.filter((r) => r.status === 'canceled').length).toBe(7)
    expect(recs.find((r) => r.status === 'failed')?.error?.code).toBe('PreconditionFailed')
    expect(hub.twins.get({ deviceId: 't9' }).properties.desired['mode']).toBeUndefined()
  })

  it('skips a busy device and retries it until it is free', async () => {
    const { hub, sched } = await makeHub()
    await devices(hub, ['u1', 'u2'])
    await hub.twins.patchReported({ deviceId: 'u1' }, { state: 'busy' })
    const dev = ['u1', 'u2'].map((id) => connect(hub, id))
    await hub.jobs.create('guard', method({ inUseGuard: { path: 'properties.reported.state', values: ['busy', 'updating'], retryAfterSeconds: 120 } }))
    await sched.advance(0)
    expect(statuses(hub, 'guard')).toEqual({ u1: 'scheduled', u2: 'completed' })
    await sched.advance(120_000)
    expect(dev[0]?.calls.length).toBe(0)
    await hub.twins.patchReported({ deviceId: 'u1' }, { state: 'idle' })
    await sched.advance(119_000)
    expect(dev[0]?.calls.length).toBe(0)
    await sched.advance(1_000)
    expect(dev[0]?.calls.length).toBe(1)
    expect(hub.jobs.get('guard').status).toBe('completed')
  })

  it('invokes a device that connects after the start; fails the one that never does at the end of the job', async () => {
    const { hub, sched } = await makeHub()
    await devices(hub, ['o1', 'o2', 'o3'])
    connect(hub, 'o1')
    await hub.jobs.create('late', method({ maxExecutionTimeInSeconds: 600 }))
    await sched.advance(0)
    expect(statuses(hub, 'late')).toEqual({ o1: 'completed', o2: 'pending', o3: 'pending' })
    await sched.advance(300_000)
    const late = connect(hub, 'o2')
    await sched.advance(0)
    expect(late.calls.length).toBe(1)
    expect(statuses(hub, 'late')).toMatchObject({ o2: 'completed', o3: 'pending' })
    await sched.advance(300_000)
    const job = hub.jobs.get('late')
    expect(job).toMatchObject({ status: 'completed', deviceJobStatistics: { deviceCount: 3, succeededCount: 2, failedCount: 1 } })
    expect(hub.jobs.deviceJobs('late').find((r) => r.deviceId === 'o3')?.error?.code).toBe('DeviceNotOnline')
    // A device connecting after the end is not invoked.
    const after = connect(hub, 'o3')
    await sched.advance(0)
    expect(after.calls.length).toBe(0)
  })

  it('schedules for a future start, cancels, limits active jobs, rejects duplicates and unknown ids', async () => {
    const { hub, sched } = await makeHub({ maxActiveJobs: 2 })
    await devices(hub, ['s1'])
    const dev = connect(hub, 's1')
    const future = new Date(WED_NOON_BERLIN + 3_600_000).toISOString()
    expect(await hub.jobs.create('later', method({ startTime: future }))).toEqual({ jobId: 'later', type: 'scheduleDeviceMethod', status: 'queued' })
    await sched.advance(0)
    expect(hub.jobs.get('later').status).toBe('scheduled')
    await expect(hub.jobs.create('later', method())).rejects.toMatchObject({ httpStatus: 409 })
    await hub.jobs.create('later2', method({ startTime: future }))
    await expect(hub.jobs.create('third', method())).rejects.toMatchObject({ errorName: 'ThrottlingMaxActiveJobCountExceeded', httpStatus: 429 })
    expect((await hub.jobs.cancel('later2')).status).toBe('cancelled')
    await hub.jobs.create('third', method({ startTime: future }))
    await sched.advance(3_600_000)
    expect(hub.jobs.get('later').status).toBe('completed')
    expect(dev.calls.length).toBe(2) // 'later' and 'third', not the cancelled one
    expect(() => hub.jobs.get('nope')).toThrow(expect.objectContaining({ errorName: 'JobNotFound' }))
    expect(hub.jobs.query({ jobStatus: 'cancelled' }).items.map((j) => j.jobId)).toEqual(['later2'])
  })

  it('resumes after a restart without running a device twice', async () => {
    const store = createMemoryStore()
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-jobs-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const first = await makeHub({ store, dir })
    await devices(first.hub, ['x1', 'x2', 'x3'])
    const x1 = connect(first.hub, 'x1', () => undefined) // receives the call, never answers
    await first.hub.jobs.create('rs', method({ maxExecutionTimeInSeconds: 3600 }))
    await first.sched.advance(0)
    expect(x1.calls.length).toBe(1)
    expect(statuses(first.hub, 'rs')).toEqual({ x1: 'running', x2: 'pending', x3: 'pending' })
    await first.hub.close()

    const second = await makeHub({ store, dir, start: WED_NOON_BERLIN + 60_000 })
    const x1b = connect(second.hub, 'x1')
    const x2 = connect(second.hub, 'x2')
    await second.sched.advance(0)
    expect(x1b.calls.length).toBe(0)
    expect(x2.calls.length).toBe(1)
    const recs = second.hub.jobs.deviceJobs('rs')
    expect(recs.find((r) => r.deviceId === 'x1')).toMatchObject({ status: 'failed', error: { code: 'HubRestarted' } })
    expect(statuses(second.hub, 'rs')).toEqual({ x1: 'failed', x2: 'completed', x3: 'pending' })
    expect(second.hub.jobs.get('rs').status).toBe('running')
    // The job window still counts from the original start.
    await second.sched.set(WED_NOON_BERLIN + 3_600_000)
    expect(second.hub.jobs.get('rs')).toMatchObject({ status: 'completed', deviceJobStatistics: { succeededCount: 1, failedCount: 2 } })
    // devices.jobs through the query language.
    const rows = second.hub.query.run("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'rs' AND devices.jobs.status = 'failed'") as Array<{ deviceId: string }>
    expect(rows.map((r) => r.deviceId).sort()).toEqual(['x1', 'x3'])
  })
})
