// Jobs v2 (protocol C.6, E): the job document, the per-device record (`devices.jobs`, E.3) and
// the plant-floor extensions a job body may carry beyond IoT Hub's fields.
import type { DeviceJobRecord } from '../query/engine.js'
import type { JsonObject, JsonValue } from '../types.js'
import type { MaintenanceWindow } from './windows.js'

export type JobType = 'scheduleDeviceMethod' | 'scheduleUpdateTwin'
/** [E.1] Job status strings (cancelled with a double L). */
export type JobStatus = 'queued' | 'scheduled' | 'running' | 'completed' | 'failed' | 'cancelled'
/** [E.3] Per-device status strings (canceled with a single L). */
export type DeviceJobStatus = 'pending' | 'scheduled' | 'running' | 'completed' | 'failed' | 'canceled'

export const ACTIVE_JOB: readonly JobStatus[] = ['queued', 'scheduled', 'running']

export interface CloudToDeviceMethod {
  methodName: string
  payload: JsonValue
  responseTimeoutInSeconds: number
  connectTimeoutInSeconds?: number
}

export interface UpdateTwin {
  etag: string
  tags?: JsonObject
  properties?: { desired: JsonObject }
}

/** A busy device is left alone and retried later. */
export interface InUseGuard {
  /** Twin path, e.g. 'properties.reported.state'. */
  path: string
  /** Values at `path` meaning "busy", e.g. ['busy']. */
  values: JsonValue[]
  /** Seconds before a busy device is tried again. Default 60. */
  retryAfterSeconds: number
}

export interface AbortThreshold {
  /** Abort when failed / finished devices * 100 >= this. */
  failurePercent: number
  /** ...but only once at least this many devices finished. Default 10. */
  minDevices: number
}

/** Sitehub extensions to the job body (all optional; the official SDK sends none). */
export interface PlantOptions {
  devicesPerMinute?: number
  maxConcurrency?: number
  abortThreshold?: AbortThreshold
  maintenanceWindow?: MaintenanceWindow[]
  timeZone?: string
  /** Twin tag holding a device's own window (overrides the job's). Default 'maintenanceWindow'; null disables. */
  deviceWindowTag?: string | null
  inUseGuard?: InUseGuard
}

/** What is stored (collection `jobs`, `kind: 'v2'`). */
export interface JobDoc extends PlantOptions {
  jobId: string
  type: JobType
  queryCondition: string
  createdTime: string
  /** As requested; null/past means "when created". */
  startTime: string
  /** When the job reached a terminal status. */
  endTime: string | null
  maxExecutionTimeInSeconds: number
  cloudToDeviceMethod: CloudToDeviceMethod | null
  updateTwin: UpdateTwin | null
  status: JobStatus
  failureReason: string | null
  statusMessage: string | null
  /** The target set was evaluated and every target has a device record. */
  targetsResolved: boolean
  /** Explicit targets instead of the condition (a job run for an upstream job; the condition is then informational). */
  targetIds?: string[]
}

export interface DeviceJobStatistics {
  deviceCount: number
  failedCount: number
  succeededCount: number
  runningCount: number
  pendingCount: number
}

/** JobResponse (C.6 swagger) plus the extension fields the job was created with. */
export interface JobResponse extends PlantOptions {
  jobId: string
  type: JobType
  queryCondition: string
  createdTime: string
  startTime: string
  endTime: string | null
  maxExecutionTimeInSeconds: number
  cloudToDeviceMethod?: CloudToDeviceMethod
  updateTwin?: UpdateTwin
  status: JobStatus
  failureReason?: string
  statusMessage?: string
  deviceJobStatistics: DeviceJobStatistics
}

export interface DeviceJob extends DeviceJobRecord {
  status: DeviceJobStatus
  jobType: JobType
  /** Cloud role: the edge that took over this device's part of the job (docs/sync.md). */
  delegatedTo?: string
  delegatedAt?: string
  /** When the edge's outcome for this device arrived (a second report changes nothing). */
  reportedByEdgeAt?: string
}

/** What an edge sees of a job it may take over (GET /edges/{edgeId}/jobs). */
export interface EdgeJob extends JobResponse {
  /** Devices of the edge not started yet: the edge may claim them. */
  claimable: string[]
  /** Devices this edge claimed whose outcome has not arrived. */
  delegated: string[]
}

/** One device's outcome, as the edge reports it. */
export interface EdgeOutcome {
  deviceId: string
  /** A final status, or `running`: progress (the edge started the device; its outcome follows). */
  status: 'running' | 'completed' | 'failed' | 'canceled'
  startTimeUtc?: string
  endTimeUtc?: string
  outcome?: DeviceJob['outcome']
  error?: { code: string; description: string }
}

/** Jobs taken over by edges (cloud role; routes /edges/{edgeId}/jobs...). */
export interface JobDelegationApi {
  /** Jobs with devices this edge may claim or has claimed without an outcome yet. */
  edgeJobs(edgeId: string): EdgeJob[]
  /** Atomically claims the listed devices that are still claimable (or already claimed by this edge). Durable before it resolves. */
  claimForEdge(jobId: string, edgeId: string, deviceIds: string[]): Promise<{ claimed: string[]; job: EdgeJob }>
  /** Records the edge's per-device outcomes; idempotent per device. */
  recordEdgeOutcomes(jobId: string, edgeId: string, outcomes: EdgeOutcome[]): Promise<{ recorded: string[]; ignored: Array<{ deviceId: string; reason: string }> }>
}

export interface JobQueryOptions {
  jobType?: string
  jobStatus?: string
  pageSize?: number
  continuation?: string
}

/** What a running job is waiting on right now (for the UI; not part of IoT Hub's JobResponse). */
export interface JobRunState {
  /** Devices waiting for a maintenance window to open (job's or their own). */
  waitingForWindow: number
  /** Devices skipped by the in-use guard, to be tried again. */
  inUse: number
  /** Method jobs: devices not connected (or not subscribed to methods). */
  offline: number
  /** Devices with a call or twin write in flight. */
  inFlight: number
  /** When the run next wakes up by itself (window opening, guard retry, rate token), ISO; null if nothing is timed. */
  nextWakeAt: string | null
}

export interface JobService extends JobDelegationApi {
  /** PUT /jobs/v2/{id}: validates and persists the job, then starts or schedules it. Resolves {jobId, type, status: 'queued'}. */
  create(jobId: string, body: unknown, opts?: { deviceIds?: string[] }): Promise<{ jobId: string; type: JobType; status: JobStatus }>
  /** Throws JobNotFound. */
  get(jobId: string): JobResponse
  /** Cancels a queued, scheduled or running job (devices not yet started become canceled). A terminal job is returned as is. */
  cancel(jobId: string): Promise<JobResponse>
  /** GET /jobs/v2/query: newest first, filtered by type and status. */
  query(opts?: JobQueryOptions): { items: JobResponse[]; continuation?: string }
  /** Per-device records of one job (the `devices.jobs` rows). */
  deviceJobs(jobId: string): DeviceJob[]
  /** Resolves with the job once it is terminal (tests, CLI, UI). */
  wait(jobId: string): Promise<JobResponse>
  /** Jobs in queued, scheduled or running. */
  activeCount(): number
  /** What a started, active job is waiting on; undefined for a job that is not running (yet). */
  runState(jobId: string): JobRunState | undefined
}
