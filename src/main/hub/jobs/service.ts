// Jobs v2 (protocol C.6, E): scheduled direct methods and twin updates over a query condition,
// with per-device records (`devices.jobs`, E.3) and, beyond IoT Hub, a rollout rate, a maximum
// concurrency, an abort threshold, maintenance windows and an in-use guard (docs/jobs.md).
//
// A job's life: create (persist, `queued`) -> `scheduled` until startTime -> `running`: the
// query condition is evaluated once, every target gets a durable `pending` record, then the
// pump starts devices as the gates allow. A device is marked `running` durably BEFORE it is
// touched, so after a crash a `running` record means "may or may not have happened": it is
// failed (HubRestarted), never re-run. All time goes through the injected Scheduler.
import { HubError, isHubError } from '../errors.js'
import type { HubEventBus } from '../events.js'
import { createIndexedCollection } from '../query/collection.js'
import type { QueryService } from '../query/twin-query.js'
import { identityKey, parseIdentityKey } from '../registry/ids.js'
import type { ConnectionManager, MethodService, TwinService } from '../services.js'
import type { HubStore, StoreOp } from '../store/types.js'
import type { Identity, JsonObject, Logger, TwinDocument } from '../types.js'
import { parseJobBody } from './body.js'
import type { Scheduler, TimerHandle } from './scheduler.js'
import {
  ACTIVE_JOB, type DeviceJob, type DeviceJobStatistics, type DeviceJobStatus, type EdgeJob, type EdgeOutcome, type JobDoc, type JobResponse,
  type JobService, type JobStatus
} from './types.js'
import { inWindows, nextOpening, parseWindows, type MaintenanceWindow } from './windows.js'

export interface JobServiceOptions {
  /** Jobs in queued/scheduled/running at once; more -> 429 ThrottlingMaxActiveJobCountExceeded (E.4). Default 10. */
  maxActiveJobs?: number
  /** Time zone of maintenance windows that name none (the site's). Default: the machine's. */
  siteTimeZone?: string
  /** Devices in flight per job when the job sets no maxConcurrency. Default 1000. */
  defaultConcurrency?: number
  /** How long a device that just connected has to subscribe to methods before it counts as offline again. Default 30 s. */
  subscribeGraceMs?: number
  /**
   * Cloud role: how long after a job's end it waits for the outcomes of devices an edge took
   * over before it completes and marks them failed (EdgeOutcomeMissing; a late outcome still
   * replaces that). Default 3600 s.
   */
  delegatedOutcomeWaitSeconds?: number
}

export interface JobServiceDeps extends JobServiceOptions {
  store: HubStore
  twins: TwinService
  methods: MethodService
  connections: ConnectionManager
  events: HubEventBus
  query: QueryService
  scheduler: Scheduler
  logger: Logger
  /** Cloud role: devices served by a delegating edge are left to it (sync/cloud-delegation.ts). */
  delegation?: { edgeOf(identity: Identity): string | null; epoch(): number }
}

type Deferral = 'OutsideMaintenanceWindow' | 'DeviceInUse'
/** What the gates read of a twin. */
interface GateView { tags: JsonObject; properties: { desired: JsonObject; reported: JsonObject } }

interface Run {
  job: JobDoc
  /** Not started, ready to try, in order. */
  queue: Set<string>
  /** Method jobs: devices not connected and subscribed to methods. */
  offline: Set<string>
  /** Devices waiting for a time (window opening, in-use retry): key -> due epoch ms. */
  deferred: Map<string, { due: number; why: Deferral }>
  /** Offline devices with a connections.waitFor in flight. */
  watching: Set<string>
  /** Devices served by a delegating edge, waiting for it to claim them (key -> edge id). */
  reserved: Map<string, string>
  /** Devices an edge claimed whose outcome has not arrived. */
  delegated: Set<string>
  delegationEpoch: number
  graceTimer: TimerHandle | undefined
  running: number
  tokens: number
  tokensAt: number
  closed: boolean
  expired: boolean
  started: boolean
  repumpQueued: boolean
  wake: TimerHandle | undefined
  wakeAt: number | undefined
  startTimer: TimerHandle | undefined
  endTimer: TimerHandle | undefined
}

const TERMINAL_DEVICE: readonly DeviceJobStatus[] = ['completed', 'failed', 'canceled']
const CHUNK = 1000
const ZERO: Record<DeviceJobStatus, number> = { pending: 0, scheduled: 0, running: 0, completed: 0, failed: 0, canceled: 0 }

const rowId = (jobId: string, key: string): string => `${jobId} ${key}` // job ids have no spaces (validateJobId)
const identityOf = (rec: DeviceJob): Identity => (rec.moduleId === undefined ? { deviceId: rec.deviceId } : { deviceId: rec.deviceId, moduleId: rec.moduleId })

function valueAt (doc: unknown, path: readonly string[]): unknown {
  let cur = doc
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined
    cur = (cur as Record<string, unknown>)[seg]
  }
  return cur
}

const sameJson = (a: unknown, b: unknown): boolean => a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b))

export function createJobService (deps: JobServiceDeps): JobService & { resume(): Promise<void>; close(): void } {
  const { store, scheduler: sched, logger } = deps
  const maxActive = deps.maxActiveJobs ?? 10
  const siteZone = deps.siteTimeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone
  const defaultConcurrency = deps.defaultConcurrency ?? 1000
  const graceMs = deps.subscribeGraceMs ?? 30_000
  const delegatedWaitMs = (deps.delegatedOutcomeWaitSeconds ?? 3600) * 1000

  const jobs = new Map<string, JobDoc>()
  const records = new Map<string, Map<string, DeviceJob>>()
  const counts = new Map<string, Record<DeviceJobStatus, number>>()
  const rows = createIndexedCollection<DeviceJob>({ indexes: [['deviceId'], ['jobId']] })
  const runs = new Map<string, Run>()
  const waiters = new Map<string, Array<(j: JobResponse) => void>>()
  let stopped = false

  deps.query.setJobSource(rows)
  const iso = (ms = sched.now()): string => new Date(ms).toISOString()

  // ---- persistence ---------------------------------------------------------------------------

  const jobOp = (job: JobDoc): StoreOp => ({ op: 'put', c: 'jobs', id: job.jobId, doc: { ...job, kind: 'v2' } as unknown as JsonObject })
  const recOp = (rec: DeviceJob): StoreOp => ({ op: 'put', c: 'deviceJobs', id: rowId(rec.jobId, identityKey(identityOf(rec))), doc: { ...rec } as unknown as JsonObject })

  async function write (ops: StoreOp[]): Promise<void> {
    if (stopped || ops.length === 0) return
    for (let i = 0; i < ops.length; i += CHUNK) await store.batch(ops.slice(i, i + CHUNK))
  }
  const saveJob = (job: JobDoc): Promise<void> => write([jobOp(job)])
  const saveRec = (rec: DeviceJob): Promise<void> => write([recOp(rec)])
  const background = (p: Promise<void>, what: string): void => {
    p.catch((err: Error) => logger.error(`jobs: could not persist ${what}`, { error: err.message }))
  }

  function countsOf (jobId: string): Record<DeviceJobStatus, number> {
    let c = counts.get(jobId)
    if (c === undefined) counts.set(jobId, c = { ...ZERO })
    return c
  }

  function deviceEvent (rec: DeviceJob, previous: DeviceJobStatus | null): void {
    deps.events.emit('job.deviceChanged', {
      jobId: rec.jobId, deviceId: rec.deviceId, ...(rec.moduleId === undefined ? {} : { moduleId: rec.moduleId }), status: rec.status, previous
    })
  }

  function addRecord (rec: DeviceJob, announce = true): void {
    const key = identityKey(identityOf(rec))
    let m = records.get(rec.jobId)
    if (m === undefined) records.set(rec.jobId, m = new Map())
    m.set(key, rec)
    countsOf(rec.jobId)[rec.status]++
    rows.upsert(rowId(rec.jobId, key), rec)
    if (announce) deviceEvent(rec, null)
  }

  /** Changes a record's status in memory (counters, query rows); the caller persists it. */
  function setStatus (rec: DeviceJob, status: DeviceJobStatus, extra: { error?: DeviceJob['error']; outcome?: DeviceJob['outcome'] } = {}): void {
    const c = countsOf(rec.jobId)
    const previous = rec.status
    c[rec.status]--
    c[status]++
    rec.status = status
    const now = iso()
    rec.lastUpdatedDateTimeUtc = now
    if (status === 'running') rec.startTimeUtc = now
    if (TERMINAL_DEVICE.includes(status)) rec.endTimeUtc = now
    if (extra.error !== undefined) rec.error = extra.error
    else if (status !== 'failed') delete rec.error
    if (extra.outcome !== undefined) rec.outcome = extra.outcome
    rows.upsert(rowId(rec.jobId, identityKey(identityOf(rec))), rec)
    deviceEvent(rec, previous)
  }

  // ---- rendering -----------------------------------------------------------------------------

  function statistics (jobId: string): DeviceJobStatistics {
    const c = counts.get(jobId) ?? ZERO
    return {
      deviceCount: c.pending + c.scheduled + c.running + c.completed + c.failed + c.canceled,
      failedCount: c.failed,
      succeededCount: c.completed,
      runningCount: c.running,
      pendingCount: c.pending + c.scheduled
    }
  }

  function render (job: JobDoc): JobResponse {
    const { targetsResolved: _t, targetIds: _ids, cloudToDeviceMethod, updateTwin, failureReason, statusMessage, ...rest } = job
    const out: JobResponse = { ...rest, deviceJobStatistics: statistics(job.jobId) }
    if (cloudToDeviceMethod !== null) out.cloudToDeviceMethod = cloudToDeviceMethod
    if (updateTwin !== null) out.updateTwin = updateTwin
    if (failureReason !== null) out.failureReason = failureReason
    if (statusMessage !== null) out.statusMessage = statusMessage
    return JSON.parse(JSON.stringify(out)) as JobResponse
  }

  function mustGet (jobId: string): JobDoc {
    const job = jobs.get(jobId)
    if (job === undefined) throw new HubError('JobNotFound', `Job ${jobId} not found.`)
    return job
  }

  function statusEvent (job: JobDoc, previous: JobStatus | null): void {
    deps.events.emit('job.statusChanged', { jobId: job.jobId, type: job.type, status: job.status, previous, at: iso() })
  }

  async function setJobStatus (job: JobDoc, status: JobStatus, failureReason?: string, statusMessage?: string): Promise<void> {
    const previous = job.status
    job.status = status
    if (failureReason !== undefined) job.failureReason = failureReason
    if (statusMessage !== undefined) job.statusMessage = statusMessage
    if (!ACTIVE_JOB.includes(status)) job.endTime = iso()
    await saveJob(job)
    statusEvent(job, previous)
    if (!ACTIVE_JOB.includes(status)) {
      const ws = waiters.get(job.jobId) ?? []
      waiters.delete(job.jobId)
      for (const w of ws) w(render(job))
    }
  }

  // ---- gates ---------------------------------------------------------------------------------

  /** The windows that apply to a device: its own tag (unless disabled) or the job's. */
  function windowsFor (job: JobDoc, twin: GateView | undefined): MaintenanceWindow[] | Error {
    const tag = job.deviceWindowTag === undefined ? 'maintenanceWindow' : job.deviceWindowTag
    if (tag !== null && twin !== undefined) {
      const own = valueAt(twin.tags, tag.split('.'))
      if (own !== undefined && own !== null) {
        try {
          return parseWindows(own, `tags.${tag}`)
        } catch (err) {
          return err as Error
        }
      }
    }
    return job.maintenanceWindow ?? []
  }

  type Gate = { go: true } | { offline: true } | { reserved: string } | { defer: number; why: Deferral } | { fail: { code: string; description: string } }

  /** An edge can take over method jobs and twin jobs that match any etag (it cannot check the cloud's etags). */
  const delegable = (job: JobDoc): boolean => deps.delegation !== undefined && (job.type === 'scheduleDeviceMethod' || job.updateTwin?.etag === '*')

  function gate (run: Run, rec: DeviceJob, now: number): Gate {
    const job = run.job
    const identity = identityOf(rec)
    if (delegable(job)) {
      const edge = deps.delegation?.edgeOf(identity) ?? null
      if (edge !== null) return { reserved: edge }
    }
    if (job.type === 'scheduleDeviceMethod') {
      if (!(deps.connections.isConnected(identity) && deps.connections.subscriptions(identity).methods)) return { offline: true }
    }
    // The stored twin record, viewed with the rendered paths (tags, properties.*): rendering the
    // full twin for every device of a 10,000-device job would cost more than the call itself.
    // Undefined when deleted since the job started: the call then reports DeviceNotFound.
    const stored = store.get('twins', identityKey(identity))
    const twin: GateView | undefined = stored === undefined ? undefined : { tags: stored.tags, properties: { desired: stored.desired, reported: stored.reported } }
    const windows = windowsFor(job, twin)
    if (windows instanceof Error) return { fail: { code: 'ArgumentInvalid', description: `The device's maintenance window tag is invalid, so the job does not touch it: ${windows.message}` } }
    const zone = job.timeZone ?? siteZone
    if (!inWindows(windows, now, zone)) return { defer: nextOpening(windows, now, zone), why: 'OutsideMaintenanceWindow' }
    const guard = job.inUseGuard
    if (guard !== undefined && twin !== undefined) {
      const v = valueAt(twin, guard.path.split('.'))
      if (v !== undefined && guard.values.some((b) => sameJson(b, v))) return { defer: now + guard.retryAfterSeconds * 1000, why: 'DeviceInUse' }
    }
    return { go: true }
  }

  // ---- the pump ------------------------------------------------------------------------------

  function refill (run: Run, now: number): void {
    const rate = run.job.devicesPerMinute
    if (rate === undefined) return
    const cap = Math.max(1, rate / 60) // at most one second's worth in a burst
    run.tokens = Math.min(cap, run.tokens + ((now - run.tokensAt) * rate) / 60_000)
    run.tokensAt = now
  }

  function armWake (run: Run, at: number | undefined): void {
    let due = at
    for (const d of run.deferred.values()) if (due === undefined || d.due < due) due = d.due
    if (due === undefined) {
      sched.clearTimeout(run.wake)
      run.wake = undefined
      run.wakeAt = undefined
      return
    }
    if (run.wake !== undefined && run.wakeAt === due) return
    sched.clearTimeout(run.wake)
    run.wakeAt = due
    run.wake = sched.setTimeout(() => { run.wake = undefined; run.wakeAt = undefined; pump(run) }, due - sched.now())
  }

  function pump (run: Run): void {
    if (run.closed || !run.started || stopped) return
    const job = run.job
    const now = sched.now()
    for (const [key, d] of run.deferred) {
      if (d.due <= now) { run.deferred.delete(key); run.queue.add(key) }
    }
    const epoch = deps.delegation?.epoch() ?? 0
    if (epoch !== run.delegationEpoch) {
      // An edge started or stopped taking over its devices: reserved devices are sorted again.
      run.delegationEpoch = epoch
      for (const key of run.reserved.keys()) run.queue.add(key)
      run.reserved.clear()
    }
    const max = job.maxConcurrency ?? defaultConcurrency
    let rateWake: number | undefined
    const changed: DeviceJob[] = []
    for (const key of run.queue) {
      if (run.running >= max) break
      const rec = records.get(job.jobId)?.get(key)
      if (rec === undefined || TERMINAL_DEVICE.includes(rec.status)) { run.queue.delete(key); continue }
      const g = gate(run, rec, now)
      if ('reserved' in g) {
        run.queue.delete(key)
        run.reserved.set(key, g.reserved)
        if (rec.status !== 'pending') { setStatus(rec, 'pending'); changed.push(rec) }
        continue
      }
      if ('offline' in g) {
        run.queue.delete(key)
        if (rec.status !== 'pending') { setStatus(rec, 'pending'); changed.push(rec) }
        goOffline(run, key)
        continue
      }
      if ('defer' in g) {
        run.queue.delete(key)
        run.deferred.set(key, { due: g.defer, why: g.why })
        if (rec.status !== 'scheduled') { setStatus(rec, 'scheduled'); changed.push(rec) }
        continue
      }
      if ('fail' in g) {
        run.queue.delete(key)
        setStatus(rec, 'failed', { error: g.fail })
        changed.push(rec)
        continue
      }
      if (job.devicesPerMinute !== undefined) {
        refill(run, now)
        if (run.tokens < 1) {
          rateWake = now + Math.ceil(((1 - run.tokens) * 60_000) / job.devicesPerMinute)
          break
        }
        run.tokens -= 1
      }
      run.queue.delete(key)
      void execute(run, rec)
    }
    if (changed.length > 0) background(write(changed.map(recOp)), 'device job records')
    armWake(run, rateWake)
    maybeComplete(run)
  }

  function goOffline (run: Run, key: string): void {
    run.offline.add(key)
    if (deps.connections.isConnected(parseIdentityKey(key))) watch(run, key)
  }

  /** A connected device gets `graceMs` to subscribe to methods; then it is tried again. */
  function watch (run: Run, key: string): void {
    if (run.watching.has(key)) return
    run.watching.add(key)
    deps.connections.waitFor(parseIdentityKey(key), 'methods', graceMs).then((ok) => {
      run.watching.delete(key)
      if (ok && !run.closed && run.offline.delete(key)) {
        run.queue.add(key)
        pump(run)
      }
    }, (err: Error) => logger.warn('jobs: waiting for a device failed', { key, error: err.message }))
  }

  const offDeviceConnected = deps.events.on('device.connected', (e) => {
    const key = identityKey(e)
    for (const run of runs.values()) if (!run.closed && run.offline.has(key)) watch(run, key)
  })

  async function execute (run: Run, rec: DeviceJob): Promise<void> {
    const job = run.job
    run.running++
    setStatus(rec, 'running')
    try {
      // Durable before the device is touched: after a crash this record says "maybe done".
      await saveRec(rec)
    } catch (err) {
      run.running--
      setStatus(rec, 'failed', { error: { code: 'ServerError', description: `The hub could not record the start of this device job, so it did not run it: ${(err as Error).message}` } })
      background(saveRec(rec), 'device job record')
      afterDevice(run)
      return
    }
    const identity = identityOf(rec)
    try {
      if (job.type === 'scheduleDeviceMethod' && job.cloudToDeviceMethod !== null) {
        const m = job.cloudToDeviceMethod
        const r = await deps.methods.invoke(identity, { methodName: m.methodName, payload: m.payload, responseTimeoutInSeconds: m.responseTimeoutInSeconds, connectTimeoutInSeconds: 0 })
        setStatus(rec, 'completed', { outcome: { deviceMethodResponse: { status: r.status, payload: r.payload } } })
      } else if (job.updateTwin !== null) {
        const { etag, tags, properties } = job.updateTwin
        const patch: JsonObject = {}
        if (tags !== undefined) patch['tags'] = tags
        if (properties !== undefined) patch['properties'] = { desired: properties.desired }
        await deps.twins.patch(identity, patch, etag === '*' ? undefined : etag, { by: `job:${job.jobId}` })
        setStatus(rec, 'completed', { outcome: { deviceMethodResponse: null } })
      }
    } catch (err) {
      const offlineRace = isHubError(err) && err.errorName === 'DeviceNotOnline' && !run.closed && !run.expired
      if (offlineRace) {
        // Dropped off between the gate and the publish: nothing reached the device, so it may be tried again.
        setStatus(rec, 'pending')
        run.running--
        background(saveRec(rec), 'device job record')
        goOffline(run, identityKey(identity))
        afterDevice(run)
        return
      }
      if (isHubError(err) && err.errorName === 'DeviceNotOnline' && run.closed) {
        // Cancelled while this device was being tried, and nothing reached it: canceled, not failed.
        setStatus(rec, 'canceled')
        run.running--
        background(saveRec(rec), 'device job record')
        return
      }
      const code = isHubError(err) ? err.errorName : 'ServerError'
      if (!isHubError(err)) logger.error('jobs: device job failed unexpectedly', { jobId: job.jobId, deviceId: rec.deviceId, error: String((err as Error)?.stack ?? err) })
      setStatus(rec, 'failed', { error: { code, description: (err as Error).message } })
    }
    run.running--
    try {
      await saveRec(rec)
    } catch (err) {
      logger.error('jobs: could not persist a device job result', { jobId: job.jobId, deviceId: rec.deviceId, error: (err as Error).message })
    }
    afterDevice(run)
  }

  /** After any device change: the abort threshold, the next devices, the end of the job. */
  function afterDevice (run: Run): void {
    if (run.closed || stopped) return
    const job = run.job
    const c = countsOf(job.jobId)
    const t = job.abortThreshold
    if (t !== undefined) {
      const finished = c.completed + c.failed
      if (finished >= t.minDevices && (c.failed * 100) / finished >= t.failurePercent) {
        void stopRun(run, 'failed', `Aborted: ${c.failed} of ${finished} finished devices failed (${Math.round((c.failed * 1000) / finished) / 10}%), at or above the abort threshold of ${t.failurePercent}% after at least ${t.minDevices} devices; devices not yet started were canceled.`)
        return
      }
    }
    // Start the next devices on a later turn: coalesces a burst of completions into one pump.
    if (!run.repumpQueued) {
      run.repumpQueued = true
      setImmediate(() => { run.repumpQueued = false; pump(run) })
    }
  }

  function maybeComplete (run: Run): void {
    if (run.closed || stopped) return
    if (run.queue.size === 0 && run.offline.size === 0 && run.deferred.size === 0 && run.reserved.size === 0 && run.delegated.size === 0 && run.running === 0) void stopRun(run, 'completed')
  }

  /** Ends a run: devices not started become canceled (or failed, on expiry), the job gets `status`. */
  async function stopRun (run: Run, status: 'completed' | 'failed' | 'cancelled', failureReason?: string): Promise<void> {
    if (run.closed) return
    run.closed = true
    sched.clearTimeout(run.wake)
    sched.clearTimeout(run.startTimer)
    sched.clearTimeout(run.endTimer)
    sched.clearTimeout(run.graceTimer)
    run.queue.clear(); run.offline.clear(); run.deferred.clear(); run.reserved.clear(); run.delegated.clear()
    const changed: DeviceJob[] = []
    // Every device not yet started is canceled, including one whose record exists but that the
    // run has not sorted into its queue/offline/deferred sets yet; a call in flight finishes.
    // A device an edge took over keeps waiting for the edge's outcome (the edge learns of the
    // end on its next poll and cancels what it has not started).
    for (const rec of records.get(run.job.jobId)?.values() ?? []) {
      if (TERMINAL_DEVICE.includes(rec.status) || rec.status === 'running' || rec.delegatedTo !== undefined) continue
      setStatus(rec, 'canceled')
      changed.push(rec)
    }
    runs.delete(run.job.jobId)
    try {
      await write(changed.map(recOp))
      await setJobStatus(run.job, status, failureReason)
    } catch (err) {
      logger.error('jobs: could not persist the end of a job', { jobId: run.job.jobId, error: (err as Error).message })
    }
  }

  /** startTime + maxExecutionTimeInSeconds passed: devices not started fail; running ones finish. */
  function expire (run: Run): void {
    if (run.closed) return
    run.expired = true
    sched.clearTimeout(run.wake)
    const changed: DeviceJob[] = []
    const fail = (key: string, code: string, description: string): void => {
      const rec = records.get(run.job.jobId)?.get(key)
      if (rec === undefined || TERMINAL_DEVICE.includes(rec.status)) return
      setStatus(rec, 'failed', { error: { code, description } })
      changed.push(rec)
    }
    const end = 'before the job ended (startTime + maxExecutionTimeInSeconds)'
    for (const key of run.offline) fail(key, 'DeviceNotOnline', `The device did not connect and subscribe to direct methods ${end}.`)
    for (const [key, d] of run.deferred) {
      fail(key, d.why, d.why === 'DeviceInUse' ? `The device reported it was in use every time it was tried ${end}.` : `No maintenance window of the device opened ${end}.`)
    }
    for (const key of run.queue) fail(key, 'JobExpired', `The device was not reached ${end} (rollout rate or concurrency limit).`)
    for (const [key, edge] of run.reserved) fail(key, 'EdgeDidNotClaim', `The device is served by edge ${edge}, which did not take over its part of the job ${end} (the site was offline or its hub not running).`)
    run.queue.clear(); run.offline.clear(); run.deferred.clear(); run.reserved.clear()
    if (run.delegated.size > 0) {
      const endAt = Date.parse(run.job.startTime) + run.job.maxExecutionTimeInSeconds * 1000
      run.job.statusMessage = `Waiting for the outcomes of ${run.delegated.size} device(s) run by their edge; the job completes when they arrive or at ${iso(endAt + delegatedWaitMs)}.`
      background(saveJob(run.job), 'job status message')
      sched.clearTimeout(run.graceTimer)
      run.graceTimer = sched.setTimeout(() => giveUpDelegated(run), endAt + delegatedWaitMs - sched.now())
    }
    background(write(changed.map(recOp)), 'expired device jobs')
    maybeComplete(run)
  }

  /** The edge did not report in time after the job's end: its devices fail (a late outcome still replaces this). */
  function giveUpDelegated (run: Run): void {
    if (run.closed) return
    const changed: DeviceJob[] = []
    for (const key of run.delegated) {
      const rec = records.get(run.job.jobId)?.get(key)
      if (rec === undefined || TERMINAL_DEVICE.includes(rec.status)) continue
      setStatus(rec, 'failed', { error: { code: 'EdgeOutcomeMissing', description: `Edge ${rec.delegatedTo ?? ''} took over this device but had not reported its outcome ${Math.round(delegatedWaitMs / 1000)} s after the job ended; if it reports later, its outcome replaces this.` } })
      changed.push(rec)
    }
    run.delegated.clear()
    run.job.statusMessage = null
    background(write(changed.map(recOp)), 'delegated device jobs')
    maybeComplete(run)
  }

  // ---- job start -----------------------------------------------------------------------------

  function newRun (job: JobDoc): Run {
    const run: Run = {
      job, queue: new Set(), offline: new Set(), deferred: new Map(), watching: new Set(), reserved: new Map(), delegated: new Set(), delegationEpoch: deps.delegation?.epoch() ?? 0, graceTimer: undefined, running: 0,
      tokens: 1, tokensAt: sched.now(), closed: false, expired: false, started: false, repumpQueued: false,
      wake: undefined, wakeAt: undefined, startTimer: undefined, endTimer: undefined
    }
    runs.set(job.jobId, run)
    return run
  }

  async function begin (run: Run): Promise<void> {
    if (run.closed || stopped) return
    const job = run.job
    const now = sched.now()
    const startAt = Date.parse(job.startTime)
    if (startAt > now) {
      if (job.status !== 'scheduled') await setJobStatus(job, 'scheduled')
      run.startTimer = sched.setTimeout(() => { void begin(run).catch(failRun(run)) }, startAt - now)
      return
    }
    if (job.status !== 'running') await setJobStatus(job, 'running')
    if (run.closed) return // cancelled while the status was being written
    if (!job.targetsResolved) {
      let targets: Array<Pick<TwinDocument, 'deviceId' | 'moduleId'>>
      try {
        // A job run for an upstream job (sync/jobs-edge.ts) names its devices; one not registered here gets no record.
        targets = job.targetIds !== undefined
          ? job.targetIds.filter((deviceId) => store.has('devices', identityKey({ deviceId }))).map((deviceId) => ({ deviceId }))
          : deps.query.select(job.queryCondition)
      } catch (err) {
        await stopRun(run, 'failed', `The queryCondition could not be evaluated: ${(err as Error).message}`)
        return
      }
      const have = records.get(job.jobId)
      const created = iso()
      const fresh: DeviceJob[] = []
      for (const twin of targets) {
        const identity: Identity = twin.moduleId === undefined ? { deviceId: twin.deviceId } : { deviceId: twin.deviceId, moduleId: twin.moduleId }
        if (have?.has(identityKey(identity))) continue
        const rec: DeviceJob = {
          deviceId: twin.deviceId,
          ...(twin.moduleId === undefined ? {} : { moduleId: twin.moduleId }),
          jobId: job.jobId,
          jobType: job.type,
          status: 'pending',
          startTimeUtc: job.startTime,
          createdDateTimeUtc: created,
          lastUpdatedDateTimeUtc: created,
          outcome: { deviceMethodResponse: null }
        }
        addRecord(rec)
        fresh.push(rec)
      }
      await write(fresh.map(recOp))
      if (run.closed) {
        // Cancelled while the records were being written: they were not in the queue yet.
        const late = fresh.filter((r) => r.status === 'pending')
        for (const r of late) setStatus(r, 'canceled')
        await write(late.map(recOp))
        return
      }
      job.targetsResolved = true
      await saveJob(job)
    }
    for (const [key, rec] of records.get(job.jobId) ?? []) {
      if (rec.delegatedTo !== undefined && !TERMINAL_DEVICE.includes(rec.status)) run.delegated.add(key)
      else if (rec.status === 'pending' || rec.status === 'scheduled') run.queue.add(key)
    }
    run.started = true
    const endAt = startAt + job.maxExecutionTimeInSeconds * 1000
    if (endAt <= sched.now()) {
      expire(run)
      return
    }
    run.endTimer = sched.setTimeout(() => expire(run), endAt - sched.now())
    pump(run)
  }

  const failRun = (run: Run) => (err: Error): void => {
    logger.error('jobs: job failed', { jobId: run.job.jobId, error: String(err?.stack ?? err) })
    void stopRun(run, 'failed', `Internal error: ${err.message}`)
  }

  // ---- delegation before the start ----------------------------------------------------------

  /** A delegable job whose targets are not resolved yet (scheduled for later): an edge may take its devices now. */
  const preStart = (run: Run): boolean => !run.started && !run.closed && !run.job.targetsResolved && ACTIVE_JOB.includes(run.job.status) && delegable(run.job)

  /** The edge's devices matching the job's condition now, without a record yet. */
  function preStartTargets (job: JobDoc, edgeId: string): string[] {
    let twins: TwinDocument[]
    try { twins = deps.query.select(job.queryCondition) } catch { return [] }
    const have = records.get(job.jobId)
    return twins.filter((t) => t.moduleId === undefined && !(have?.has(identityKey({ deviceId: t.deviceId })) ?? false) && deps.delegation?.edgeOf({ deviceId: t.deviceId }) === edgeId).map((t) => t.deviceId)
  }

  // ---- the service ---------------------------------------------------------------------------

  const activeCount = (): number => { let n = 0; for (const j of jobs.values()) if (ACTIVE_JOB.includes(j.status)) n++; return n }

  return {
    async create (jobId, body, opts = {}) {
      if (stopped) throw new HubError('ServiceUnavailable', 'The hub is shutting down.')
      const p = parseJobBody(jobId, body)
      if (jobs.has(jobId)) throw new HubError('DeviceAlreadyExists', `A job with id ${jobId} already exists.`)
      if (activeCount() >= maxActive) {
        throw new HubError('ThrottlingMaxActiveJobCountExceeded', `There are already ${maxActive} active jobs (queued, scheduled or running), the most this hub allows at once; wait for one to finish or cancel one.`)
      }
      const now = sched.now()
      const { startTimeMs, ...fields } = p
      const job: JobDoc = {
        jobId,
        ...fields,
        createdTime: iso(now),
        startTime: iso(startTimeMs === null || startTimeMs < now ? now : startTimeMs),
        endTime: null,
        status: 'queued',
        failureReason: null,
        statusMessage: null,
        targetsResolved: false,
        ...(opts.deviceIds === undefined ? {} : { targetIds: [...opts.deviceIds] })
      }
      jobs.set(jobId, job)
      counts.set(jobId, { ...ZERO })
      try {
        await saveJob(job)
      } catch (err) {
        jobs.delete(jobId)
        throw err
      }
      statusEvent(job, null)
      const run = newRun(job)
      // The reply says `queued` (C.6) whatever happens next; the job moves on after it.
      setImmediate(() => { void begin(run).catch(failRun(run)) })
      return { jobId, type: job.type, status: 'queued' }
    },

    get: (jobId) => render(mustGet(jobId)),

    async cancel (jobId) {
      const job = mustGet(jobId)
      if (ACTIVE_JOB.includes(job.status)) {
        const run = runs.get(jobId)
        if (run !== undefined) await stopRun(run, 'cancelled')
        else await setJobStatus(job, 'cancelled')
      }
      return render(job)
    },

    query (opts = {}) {
      const list = [...jobs.values()]
        .filter((j) => (opts.jobType === undefined || j.type === opts.jobType) && (opts.jobStatus === undefined || j.status === opts.jobStatus))
        .sort((a, b) => (a.createdTime < b.createdTime ? 1 : a.createdTime > b.createdTime ? -1 : a.jobId < b.jobId ? -1 : 1))
      let offset = 0
      if (opts.continuation !== undefined) {
        const m = /^o(\d+)$/.exec(Buffer.from(opts.continuation, 'base64url').toString('utf8'))
        if (m === null) throw new HubError('ArgumentInvalid', 'The continuation token is not one this hub issued.')
        offset = Number(m[1])
      }
      const size = Math.min(Math.max(1, opts.pageSize ?? 100), 1000)
      const items = list.slice(offset, offset + size).map(render)
      const next = offset + items.length
      return next < list.length ? { items, continuation: Buffer.from(`o${next}`).toString('base64url') } : { items }
    },

    deviceJobs (jobId) {
      mustGet(jobId)
      return [...(records.get(jobId)?.values() ?? [])].map((r) => ({ ...r }))
    },

    wait (jobId) {
      const job = mustGet(jobId)
      if (!ACTIVE_JOB.includes(job.status)) return Promise.resolve(render(job))
      return new Promise((resolve) => { waiters.set(jobId, [...(waiters.get(jobId) ?? []), resolve]) })
    },

    activeCount,

    runState (jobId) {
      mustGet(jobId)
      const run = runs.get(jobId)
      if (run === undefined || !run.started || run.closed) return undefined
      let waitingForWindow = 0
      let inUse = 0
      for (const d of run.deferred.values()) {
        if (d.why === 'DeviceInUse') inUse++
        else waitingForWindow++
      }
      return { waitingForWindow, inUse, offline: run.offline.size, inFlight: run.running, nextWakeAt: run.wakeAt === undefined ? null : iso(run.wakeAt) }
    },

    // ---- delegation to edges (cloud role; docs/sync.md) -----------------------------------------

    edgeJobs (edgeId) {
      const out: EdgeJob[] = []
      for (const job of jobs.values()) {
        const claimable: string[] = []
        const delegated: string[] = []
        const run = runs.get(job.jobId)
        const open = run !== undefined && run.started && !run.closed && !run.expired && delegable(job)
        for (const rec of records.get(job.jobId)?.values() ?? []) {
          if (rec.moduleId !== undefined) continue
          if (rec.delegatedTo === edgeId) { if (rec.reportedByEdgeAt === undefined && !TERMINAL_DEVICE.includes(rec.status)) delegated.push(rec.deviceId); continue }
          if (open && rec.delegatedTo === undefined && (rec.status === 'pending' || rec.status === 'scheduled') && deps.delegation?.edgeOf({ deviceId: rec.deviceId }) === edgeId) claimable.push(rec.deviceId)
        }
        if (run !== undefined && preStart(run)) claimable.push(...preStartTargets(job, edgeId))
        if (claimable.length > 0 || delegated.length > 0) out.push({ ...render(job), claimable, delegated })
      }
      return out
    },

    async claimForEdge (jobId, edgeId, deviceIds) {
      const job = mustGet(jobId)
      const run = runs.get(jobId)
      const open = run !== undefined && run.started && !run.closed && !run.expired && delegable(job)
      const claimed: string[] = []
      const changed: DeviceJob[] = []
      const at = iso()
      // Before the start: the devices of the edge that match the condition now get their records, already delegated.
      const early = run !== undefined && preStart(run) ? new Set(preStartTargets(job, edgeId)) : new Set<string>()
      // Synchronous up to the write: the pump cannot start a device between the check and the mark.
      for (const deviceId of new Set(deviceIds)) {
        const key = identityKey({ deviceId })
        const rec = records.get(jobId)?.get(key)
        if (rec === undefined) {
          if (!early.has(deviceId)) continue
          const fresh: DeviceJob = {
            deviceId, jobId, jobType: job.type, status: 'pending', startTimeUtc: job.startTime, createdDateTimeUtc: at, lastUpdatedDateTimeUtc: at,
            outcome: { deviceMethodResponse: null }, delegatedTo: edgeId, delegatedAt: at
          }
          addRecord(fresh)
          changed.push(fresh)
          claimed.push(deviceId)
          continue
        }
        if (rec.delegatedTo === edgeId) { if (rec.reportedByEdgeAt === undefined) claimed.push(deviceId); continue } // a repeated claim (the edge lost the answer)
        if (!open || rec.delegatedTo !== undefined || (rec.status !== 'pending' && rec.status !== 'scheduled')) continue
        if (deps.delegation?.edgeOf({ deviceId }) !== edgeId) continue
        run.queue.delete(key); run.offline.delete(key); run.deferred.delete(key); run.reserved.delete(key)
        run.delegated.add(key)
        if (rec.status !== 'pending') setStatus(rec, 'pending')
        rec.delegatedTo = edgeId
        rec.delegatedAt = at
        rec.lastUpdatedDateTimeUtc = at
        rows.upsert(rowId(jobId, key), rec)
        changed.push(rec)
        claimed.push(deviceId)
      }
      await write(changed.map(recOp))
      const view = this.edgeJobs(edgeId).find((j) => j.jobId === jobId) ?? { ...render(job), claimable: [], delegated: [] }
      return { claimed, job: view }
    },

    async recordEdgeOutcomes (jobId, edgeId, outcomes) {
      const job = mustGet(jobId)
      const run = runs.get(jobId)
      const recorded: string[] = []
      const ignored: Array<{ deviceId: string; reason: string }> = []
      const changed: DeviceJob[] = []
      for (const o of outcomes) {
        const key = identityKey({ deviceId: o.deviceId })
        const rec = records.get(jobId)?.get(key)
        if (rec === undefined || rec.delegatedTo !== edgeId) { ignored.push({ deviceId: o.deviceId, reason: `not a device of job ${jobId} taken over by ${edgeId}` }); continue }
        if (rec.reportedByEdgeAt !== undefined) { ignored.push({ deviceId: o.deviceId, reason: 'already recorded' }); continue }
        if (o.status === 'running') {
          // Progress: the edge started this device (its final outcome follows).
          if (rec.status === 'pending' || rec.status === 'scheduled') {
            setStatus(rec, 'running')
            if (o.startTimeUtc !== undefined) rec.startTimeUtc = o.startTimeUtc
            rows.upsert(rowId(jobId, key), rec)
            changed.push(rec)
          }
          recorded.push(o.deviceId)
          continue
        }
        setStatus(rec, o.status, {
          ...(o.error === undefined ? {} : { error: o.error }),
          outcome: o.outcome ?? { deviceMethodResponse: null }
        })
        if (o.status !== 'failed') delete rec.error
        if (o.startTimeUtc !== undefined) rec.startTimeUtc = o.startTimeUtc
        if (o.endTimeUtc !== undefined) rec.endTimeUtc = o.endTimeUtc
        rec.reportedByEdgeAt = rec.lastUpdatedDateTimeUtc as string
        rows.upsert(rowId(jobId, key), rec)
        run?.delegated.delete(key)
        changed.push(rec)
        recorded.push(o.deviceId)
      }
      await write(changed.map(recOp))
      if (run !== undefined && !run.closed && changed.some((r) => TERMINAL_DEVICE.includes(r.status))) {
        if (run.expired && run.delegated.size === 0) { job.statusMessage = null; sched.clearTimeout(run.graceTimer) }
        afterDevice(run)
      }
      return { recorded, ignored }
    },

    async resume () {
      for (const [id, doc] of store.entries('jobs')) {
        if ((doc as { kind?: unknown }).kind !== 'v2') continue
        const job = { ...doc } as unknown as JobDoc & { kind?: string }
        delete job.kind
        jobs.set(id, job)
        counts.set(id, { ...ZERO })
      }
      for (const [, doc] of store.entries('deviceJobs')) {
        const rec = { ...doc } as unknown as DeviceJob
        if (jobs.has(rec.jobId)) addRecord(rec, false)
      }
      // [restart] A device recorded `running` may or may not have received the call: never run it twice.
      const fixed: DeviceJob[] = []
      for (const m of records.values()) {
        for (const rec of m.values()) {
          // A device an edge runs is the edge's to report (its `running` is the edge's progress, not ours).
          if (rec.status !== 'running' || rec.delegatedTo !== undefined) continue
          setStatus(rec, 'failed', {
            error: {
              code: 'HubRestarted',
              description: 'The hub stopped while this device job was in progress; whether the device received it is unknown, so it was not run again. Check the device and schedule a new job for it if needed.'
            }
          })
          fixed.push(rec)
        }
      }
      await write(fixed.map(recOp))
      for (const job of jobs.values()) {
        if (!ACTIVE_JOB.includes(job.status)) continue
        const run = newRun(job)
        void begin(run).catch(failRun(run))
      }
    },

    close () {
      stopped = true
      offDeviceConnected()
      for (const run of runs.values()) {
        sched.clearTimeout(run.wake)
        sched.clearTimeout(run.startTimer)
        sched.clearTimeout(run.endTimer)
        sched.clearTimeout(run.graceTimer)
        run.closed = true
      }
      runs.clear()
    }
  }
}
