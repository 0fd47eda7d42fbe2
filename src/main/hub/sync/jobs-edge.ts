// The edge side of delegation (docs/sync.md, "Jobs and queued commands delegated to the edge"):
// with a Sitehub cloud, the edge takes over its devices' part of the cloud's jobs v2 and queued
// commands, runs them here with the local engines (jobs: window, rate, concurrency, abort
// threshold, in-use guard; commands: TTL, one at a time, delivered on connect) whether the link
// is up or not, and reports each device's outcome upstream when the link is up.
//
// No device runs twice: the cloud marks a device delegated durably before it answers a claim;
// the edge records the claim (store collection `sync`, `djob:{jobId}`) before it creates the
// local job, and the local engine records a device `running` before it touches it (a crash
// then fails it with HubRestarted, never re-runs it). A device the cloud says this edge claimed
// but that no local batch holds was never started here (the claim's answer was lost): it is
// adopted into a new batch. Outcomes are an outbox derived from the local records (durable by
// construction) minus what the cloud acknowledged (`reported`); the cloud ignores a repeat.
// Commands the same way (`dcmd:{commandId}`, written before the local enqueue).
// Azure IoT Hub has no delegation routes: a 404 on PUT /edges/{id}/delegation turns delegation
// off for the session, and the cloud's own engines drive the devices through method forwarding.
import { createHash } from 'node:crypto'
import { isHubError } from '../errors.js'
import type { CommandRecord, CommandService, EdgeCommandResult } from '../commands/types.js'
import type { EdgeJob, EdgeOutcome, JobService, JobStatus } from '../jobs/types.js'
import { ACTIVE_JOB } from '../jobs/types.js'
import type { HubStore } from '../store/types.js'
import type { Clock, JsonObject, Logger } from '../types.js'
import { UpstreamError, type UpstreamClient } from './upstream-client.js'

export interface EdgeDelegationDeps {
  store: HubStore
  jobs: JobService
  commands: CommandService
  clock: Clock
  logger: Logger
  /** Is this device mirrored upstream (same identity on both sides, no registry conflict)? */
  mirrored: (deviceId: string) => boolean
  /** How often the cloud is asked for work while online. Default 5 s. */
  pollMs?: number
}

export interface EdgeDelegationStatus {
  /** null: not asked yet this session; false: the cloud has no delegation routes (Azure IoT Hub). */
  supported: boolean | null
  lastPoll: string | null
  /** Cloud jobs with devices taken over here whose outcomes are not all upstream yet. */
  jobs: number
  devices: number
  /** Commands taken over here whose final state is not upstream yet. */
  commands: number
  /** Outcomes (devices + commands) final here and not yet acknowledged by the cloud. */
  pendingReports: number
}

interface Batch { localJobId: string; deviceIds: string[] }
/** What the edge keeps per cloud job it took devices of (`djob:{jobId}`). */
interface DelegatedJob {
  jobId: string
  spec: Omit<EdgeJob, 'claimable' | 'delegated' | 'deviceJobStatistics'>
  batches: Batch[]
  /** Devices whose outcome the cloud acknowledged. */
  reported: string[]
  /** Devices whose start (progress `running`) the cloud acknowledged. */
  startedReported?: string[]
  /** Outcomes decided without a local run (the job had ended before the edge could start it). */
  synthetic: Record<string, EdgeOutcome>
  cloudStatus: JobStatus
}
/** A command taken over here (`dcmd:{commandId}`), written before the local enqueue. */
interface DelegatedCommand { command: CommandRecord; synthetic?: EdgeCommandResult }

const C = 'sync'
const TERMINAL_DEVICE = new Set(['completed', 'failed', 'canceled'])
const TERMINAL_COMMAND = new Set(['succeeded', 'failed', 'timed_out', 'expired', 'cancelled'])
const enc = encodeURIComponent
/** Splits a list into request bodies of at most `max` items and about 2 MB of JSON (the cloud reads up to 8 MB). */
function chunks<T> (items: T[], max: number): T[][] {
  const out: T[][] = []
  let cur: T[] = []
  let bytes = 0
  for (const x of items) {
    const n = Buffer.byteLength(JSON.stringify(x))
    if (cur.length > 0 && (cur.length >= max || bytes + n > 2_000_000)) { out.push(cur); cur = []; bytes = 0 }
    cur.push(x)
    bytes += n
  }
  if (cur.length > 0) out.push(cur)
  return out
}

/** Local job id of batch n of a cloud job (job ids are at most 128 characters). */
export function localJobId (jobId: string, n: number): string {
  const id = `cloud-${jobId}-${n}`
  return id.length <= 128 ? id : `cloud-${createHash('sha256').update(jobId).digest('hex').slice(0, 40)}-${n}`
}

export function createEdgeDelegation (deps: EdgeDelegationDeps): {
  tick(c: UpstreamClient, edgeId: string, session: number): Promise<void>
  status(): EdgeDelegationStatus
  /** Nothing final here that the cloud has not acknowledged. */
  settled(): boolean
  close(): void
} {
  const { store, jobs, commands, clock, logger } = deps
  const pollMs = deps.pollMs ?? 5000
  const iso = (ms = clock.now()): string => new Date(ms).toISOString()
  const djobs = new Map<string, DelegatedJob>()
  const dcmds = new Map<string, DelegatedCommand>()
  for (const [k, v] of store.entries(C)) {
    if (k.startsWith('djob:')) djobs.set(k.slice(5), v as unknown as DelegatedJob)
    else if (k.startsWith('dcmd:')) dcmds.set(k.slice(5), v as unknown as DelegatedCommand)
  }
  const putJob = (st: DelegatedJob): Promise<void> => store.put(C, `djob:${st.jobId}`, st as unknown as JsonObject)
  const putCmd = (id: string, d: DelegatedCommand): Promise<void> => store.put(C, `dcmd:${id}`, d as unknown as JsonObject)
  let supported: boolean | null = null
  let session = -1
  let lastPoll: string | null = null
  let lastPollAt = 0
  let busy = false
  let closed = false
  const warned = new Set<string>()
  const warnOnce = (key: string, msg: string, meta: Record<string, unknown>): void => { if (!warned.has(key)) { warned.add(key); logger.warn(msg, meta) } }

  // ---- local side: runs whether the link is up or not --------------------------------------

  const localJobExists = (id: string): boolean => {
    try { jobs.get(id); return true } catch (err) { if (isHubError(err) && err.errorName === 'JobNotFound') return false; throw err }
  }

  async function ensureLocalJob (st: DelegatedJob, b: Batch): Promise<void> {
    if (localJobExists(b.localJobId) || b.deviceIds.every((id) => st.synthetic[id] !== undefined)) return
    const s = st.spec
    const now = clock.now()
    const start = Date.parse(s.startTime)
    const endAt = start + s.maxExecutionTimeInSeconds * 1000
    if (endAt <= now + 1000) {
      for (const id of b.deviceIds) st.synthetic[id] = { deviceId: id, status: 'failed', endTimeUtc: iso(now), error: { code: 'JobExpired', description: 'The job had ended before this edge could start the device (its hub was not running).' } }
      await putJob(st)
      return
    }
    const body: JsonObject = {
      type: s.type,
      queryCondition: s.queryCondition, // shown as the cloud's; the targets are the claimed devices
      startTime: s.startTime,
      maxExecutionTimeInSeconds: Math.ceil((endAt - Math.max(now, start)) / 1000)
    }
    if (s.cloudToDeviceMethod !== undefined) body['cloudToDeviceMethod'] = s.cloudToDeviceMethod as unknown as JsonObject
    if (s.updateTwin !== undefined) body['updateTwin'] = s.updateTwin as unknown as JsonObject
    for (const k of ['devicesPerMinute', 'maxConcurrency', 'abortThreshold', 'maintenanceWindow', 'timeZone', 'deviceWindowTag', 'inUseGuard'] as const) {
      if (s[k] !== undefined) body[k] = s[k] as unknown as JsonObject
    }
    try {
      await jobs.create(b.localJobId, body, { deviceIds: b.deviceIds })
      logger.info('sync: running a cloud job here', { jobId: st.jobId, localJobId: b.localJobId, devices: b.deviceIds.length })
    } catch (err) {
      if (isHubError(err) && err.errorName === 'DeviceAlreadyExists') return
      if (isHubError(err) && err.errorName === 'ArgumentInvalid') {
        // The local engine refuses what the cloud accepted (should not happen between two Sitehubs): fail the devices honestly.
        for (const id of b.deviceIds) st.synthetic[id] = { deviceId: id, status: 'failed', endTimeUtc: iso(), error: { code: 'ArgumentInvalid', description: `The edge could not run this job: ${(err as Error).message}` } }
        await putJob(st)
        return
      }
      // e.g. ThrottlingMaxActiveJobCountExceeded: tried again on the next tick.
      warnOnce(`create:${b.localJobId}`, 'sync: could not start a cloud job here yet', { jobId: st.jobId, error: (err as Error).message })
    }
  }

  async function ensureLocalCommand (id: string, d: DelegatedCommand): Promise<void> {
    if (d.synthetic !== undefined || commands.get(id) !== undefined) return
    const c = d.command
    const now = clock.now()
    if (c.cancelRequestedAt !== undefined) {
      d.synthetic = { commandId: id, status: 'cancelled', attempts: 0, endTimeUtc: iso(now), statusReason: 'Cancelled at the cloud before the edge queued it.', error: { code: 'Cancelled', message: 'Cancelled at the cloud.' } }
      await putCmd(id, d)
      return
    }
    const ttl = Math.ceil((Date.parse(c.expiryTimeUtc) - now) / 1000)
    if (ttl <= 0) {
      d.synthetic = { commandId: id, status: 'expired', attempts: 0, endTimeUtc: iso(now), statusReason: 'The time-to-live passed before the device was reachable.', error: { code: 'Expired', message: `Not delivered within ${c.ttlInSeconds} s.` } }
      await putCmd(id, d)
      return
    }
    try {
      await commands.enqueue(c.moduleId === undefined ? { deviceId: c.deviceId } : { deviceId: c.deviceId, moduleId: c.moduleId }, {
        commandId: id, methodName: c.methodName, payload: c.payload, responseTimeoutInSeconds: c.responseTimeoutInSeconds, ttlInSeconds: Math.min(ttl, 30 * 86_400), idempotent: c.idempotent
      })
    } catch (err) {
      const code = isHubError(err) ? err.errorName : (err as { errorName?: string }).errorName ?? 'ServerError'
      if (code === 'CommandAlreadyExists') return
      if (isHubError(err) || code !== 'ServerError') {
        d.synthetic = { commandId: id, status: 'failed', attempts: 0, endTimeUtc: iso(), statusReason: 'The edge could not queue it.', error: { code, message: (err as Error).message } }
        await putCmd(id, d)
        return
      }
      warnOnce(`cmd:${id}`, 'sync: could not queue a cloud command here yet', { commandId: id, error: (err as Error).message })
    }
  }

  let localBusy = false
  async function localTick (): Promise<void> {
    if (localBusy || closed) return
    localBusy = true
    try {
      for (const st of djobs.values()) {
        for (const b of st.batches) {
          await ensureLocalJob(st, b)
          // The cloud ended the job (cancelled, or aborted by its threshold): stop what has not started here.
          if (!ACTIVE_JOB.includes(st.cloudStatus) && localJobExists(b.localJobId) && ACTIVE_JOB.includes(jobs.get(b.localJobId).status)) await jobs.cancel(b.localJobId)
        }
      }
      for (const [id, d] of dcmds) await ensureLocalCommand(id, d)
    } catch (err) {
      logger.warn('sync: delegated work could not be set up', { error: (err as Error).message })
    } finally {
      localBusy = false
    }
  }
  const localTimer = setInterval(() => { void localTick() }, 1000)
  localTimer.unref()
  void localTick()

  // ---- outbox: outcomes final here that the cloud has not acknowledged ------------------------

  function jobOutcomes (st: DelegatedJob): EdgeOutcome[] {
    const done = new Set(st.reported)
    const started = new Set(st.startedReported ?? [])
    const out: EdgeOutcome[] = []
    for (const b of st.batches) {
      const local = localJobExists(b.localJobId) ? jobs.get(b.localJobId) : null
      const recs = local === null ? [] : jobs.deviceJobs(b.localJobId)
      const byId = new Map(recs.filter((r) => r.moduleId === undefined).map((r) => [r.deviceId, r]))
      for (const id of b.deviceIds) {
        if (done.has(id)) continue
        const syn = st.synthetic[id]
        if (syn !== undefined) { out.push(syn); continue }
        const r = byId.get(id)
        if (r !== undefined && r.status === 'running' && !started.has(id)) {
          out.push({ deviceId: id, status: 'running', ...(r.startTimeUtc === undefined ? {} : { startTimeUtc: r.startTimeUtc }) })
        } else if (r !== undefined && TERMINAL_DEVICE.has(r.status)) {
          const o: EdgeOutcome = { deviceId: id, status: r.status as EdgeOutcome['status'] }
          if (r.startTimeUtc !== undefined) o.startTimeUtc = r.startTimeUtc
          if (r.endTimeUtc !== undefined) o.endTimeUtc = r.endTimeUtc
          if (r.outcome !== undefined) o.outcome = r.outcome
          if (r.error !== undefined) o.error = r.error
          out.push(o)
        } else if (r === undefined && local !== null && !ACTIVE_JOB.includes(local.status)) {
          out.push({ deviceId: id, status: 'failed', endTimeUtc: local.endTime ?? iso(), error: { code: 'DeviceNotFound', description: 'The device was no longer registered at the edge when its part of the job started.' } })
        }
      }
    }
    return out
  }

  function commandResult (id: string, d: DelegatedCommand): EdgeCommandResult | null {
    if (d.synthetic !== undefined) return d.synthetic
    const c = commands.get(id)
    if (c === undefined || !TERMINAL_COMMAND.has(c.status)) return null
    const r: EdgeCommandResult = { commandId: id, status: c.status, attempts: c.attempts }
    for (const k of ['statusReason', 'startTimeUtc', 'endTimeUtc', 'response', 'error'] as const) if (c[k] !== undefined) (r as unknown as Record<string, unknown>)[k] = c[k]
    return r
  }

  async function report (c: UpstreamClient, edgeId: string): Promise<void> {
    for (const st of [...djobs.values()]) {
      const outs = jobOutcomes(st)
      for (const chunk of chunks(outs, 500)) {
        let ack: { recorded: string[]; ignored: Array<{ deviceId: string; reason: string }> }
        try {
          ack = await c.request('POST', `/edges/${enc(edgeId)}/jobs/${enc(st.jobId)}/results`, { outcomes: chunk as unknown as JsonObject[] })
        } catch (err) {
          if (err instanceof UpstreamError && err.status === 404 && err.code === 'JobNotFound') { ack = { recorded: [], ignored: chunk.map((o) => ({ deviceId: o.deviceId, reason: 'job gone upstream' })) } } else throw err
        }
        for (const x of ack.ignored) if (x.reason !== 'already recorded') logger.warn('sync: the cloud did not take a delegated outcome', { jobId: st.jobId, deviceId: x.deviceId, reason: x.reason })
        const progress = new Set(chunk.filter((o) => o.status === 'running').map((o) => o.deviceId))
        st.startedReported = [...new Set([...(st.startedReported ?? []), ...[...progress].filter((id) => ack.recorded.includes(id))])]
        st.reported = [...new Set([...st.reported, ...ack.recorded.filter((id) => !progress.has(id)), ...ack.ignored.map((x) => x.deviceId)])]
        await putJob(st)
      }
      const all = st.batches.flatMap((b) => b.deviceIds)
      const done = new Set(st.reported)
      if (all.every((id) => done.has(id))) {
        await store.del(C, `djob:${st.jobId}`)
        djobs.delete(st.jobId)
      }
    }
    const results: EdgeCommandResult[] = []
    for (const [id, d] of dcmds) { const r = commandResult(id, d); if (r !== null) results.push(r) }
    for (const chunk of chunks(results, 500)) {
      const ack = await c.request<{ recorded: string[]; ignored: Array<{ commandId: string; reason: string }> }>('POST', `/edges/${enc(edgeId)}/commands/results`, { results: chunk as unknown as JsonObject[] })
      for (const x of ack.ignored) if (x.reason !== 'already recorded') logger.warn('sync: the cloud did not take a delegated command result', { commandId: x.commandId, reason: x.reason })
      for (const id of [...ack.recorded, ...ack.ignored.map((x) => x.commandId)]) {
        await store.del(C, `dcmd:${id}`)
        dcmds.delete(id)
      }
    }
  }

  // ---- claims ----------------------------------------------------------------------------------

  const specOf = (j: EdgeJob): DelegatedJob['spec'] => {
    const { claimable: _c, delegated: _d, deviceJobStatistics: _s, ...spec } = j
    return spec
  }

  async function pollJobs (c: UpstreamClient, edgeId: string): Promise<void> {
    const list = await c.request<EdgeJob[]>('GET', `/edges/${enc(edgeId)}/jobs`)
    for (let j of list) {
      let st = djobs.get(j.jobId)
      const known = new Set(st?.batches.flatMap((b) => b.deviceIds) ?? [])
      const want = ACTIVE_JOB.includes(j.status) ? j.claimable.filter((id) => !known.has(id) && deps.mirrored(id)) : []
      let claimed: string[] = []
      for (const part of chunks(want, 2000)) {
        const r = await c.request<{ claimed: string[]; job: EdgeJob }>('POST', `/edges/${enc(edgeId)}/jobs/${enc(j.jobId)}/claim`, { deviceIds: part })
        claimed.push(...r.claimed)
        j = r.job
      }
      // Claimed by this edge at the cloud but in no local batch: never started here (the answer to the claim was lost).
      const fresh = [...new Set([...j.delegated, ...claimed])].filter((id) => !known.has(id))
      if (st === undefined && fresh.length === 0) continue
      st ??= { jobId: j.jobId, spec: specOf(j), batches: [], reported: [], synthetic: {}, cloudStatus: j.status }
      st.spec = specOf(j)
      st.cloudStatus = j.status
      if (fresh.length > 0) {
        // A new local job: never one that exists already (an earlier batch of the same cloud job, all reported and forgotten).
        let n = st.batches.length + 1
        while (localJobExists(localJobId(j.jobId, n))) n++
        st.batches.push({ localJobId: localJobId(j.jobId, n), deviceIds: fresh })
      }
      djobs.set(st.jobId, st)
      await putJob(st) // durable before the local job is created
    }
    // A job this edge holds that the cloud no longer lists ended there with every outcome it waits for recorded, or is gone.
    const listed = new Set(list.map((j) => j.jobId))
    for (const st of djobs.values()) {
      if (!listed.has(st.jobId) && ACTIVE_JOB.includes(st.cloudStatus)) { st.cloudStatus = 'completed'; await putJob(st) }
    }
  }

  async function pollCommands (c: UpstreamClient, edgeId: string): Promise<void> {
    const r = await c.request<{ claimable: CommandRecord[]; delegated: CommandRecord[] }>('GET', `/edges/${enc(edgeId)}/commands`)
    const want = r.claimable.filter((x) => x.moduleId === undefined && deps.mirrored(x.deviceId) && !dcmds.has(x.commandId)).map((x) => x.commandId)
    let claimed: CommandRecord[] = []
    for (const part of chunks(want, 2000)) claimed.push(...(await c.request<{ claimed: CommandRecord[] }>('POST', `/edges/${enc(edgeId)}/commands/claim`, { commandIds: part })).claimed)
    for (const x of [...r.delegated, ...claimed]) {
      const held = dcmds.get(x.commandId)
      if (held !== undefined && x.cancelRequestedAt !== undefined && held.command.cancelRequestedAt === undefined) {
        // Cancelled at the cloud: cancel here unless it was already sent (then its real outcome goes up).
        held.command.cancelRequestedAt = x.cancelRequestedAt
        await putCmd(x.commandId, held)
        if (commands.get(x.commandId)?.status === 'queued') await commands.cancel(x.commandId, 'Cancelled at the cloud.').catch(() => {})
      }
      if (dcmds.has(x.commandId) || commands.get(x.commandId) !== undefined) continue
      const d: DelegatedCommand = { command: x }
      await putCmd(x.commandId, d) // durable before the local enqueue
      dcmds.set(x.commandId, d)
    }
  }

  return {
    async tick (c, edgeId, sess) {
      if (busy || closed) return
      busy = true
      try {
        if (sess !== session) {
          session = sess
          supported = null
          try {
            await c.request('PUT', `/edges/${enc(edgeId)}/delegation`)
            supported = true
          } catch (err) {
            if (err instanceof UpstreamError && [400, 404, 405].includes(err.status)) {
              supported = false
              logger.info('sync: the cloud has no delegation routes (Azure IoT Hub?): its own job engine drives the site\'s devices while the link is up', { status: err.status, error: err.message })
              return
            }
            session = -1 // try again on the next tick
            throw err
          }
          lastPollAt = 0
        }
        if (supported !== true) return
        if (Date.now() - lastPollAt >= pollMs) {
          await pollJobs(c, edgeId)
          await pollCommands(c, edgeId)
          lastPollAt = Date.now()
          lastPoll = iso()
          await localTick()
        }
        await report(c, edgeId)
      } finally {
        busy = false
      }
    },
    status () {
      let devices = 0
      let pendingReports = 0
      for (const st of djobs.values()) { devices += st.batches.reduce((n, b) => n + b.deviceIds.length, 0) - st.reported.length; pendingReports += jobOutcomes(st).length }
      for (const [id, d] of dcmds) if (commandResult(id, d) !== null) pendingReports++
      return { supported, lastPoll, jobs: djobs.size, devices, commands: dcmds.size, pendingReports }
    },
    settled () {
      for (const st of djobs.values()) if (jobOutcomes(st).length > 0) return false
      for (const [id, d] of dcmds) if (commandResult(id, d) !== null) return false
      return true
    },
    close () {
      closed = true
      clearInterval(localTimer)
    }
  }
}

