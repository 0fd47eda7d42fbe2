// Jobs store: the job list, live from `job.changed` events (a throttled refetch per burst, no
// polling), the selected job's per-device results, creation with a plan (schedule, window,
// rate, threshold, guard) after a dry-run review, and cancel.
import { createStore } from 'zustand/vanilla'
import type {
  HubApi, HubErrorInfo, JobDeviceResult, JobView, JsonObject, JsonValue, MethodInput, UiEvent, WindowSpec
} from '../../../shared/contract/index'
import { throttle } from './throttle'

export interface JobsState {
  jobs: JobView[]
  loaded: boolean
  error: HubErrorInfo | undefined
  selected: string | undefined
  devices: JobDeviceResult[]
  /** Devices the draft's query condition matches; undefined while unknown. */
  targetCount: number | undefined
  targetError: HubErrorInfo | undefined
}

/** The optional plan of a job; absent fields are the hub's defaults. */
export interface JobPlanDraft {
  /** ISO 8601 with a zone; absent = now. */
  startTime?: string
  maxExecutionTimeInSeconds?: number
  responseTimeoutInSeconds?: number
  devicesPerMinute?: number
  maxConcurrency?: number
  abortThreshold?: { failurePercent: number; minDevices?: number }
  maintenanceWindow?: WindowSpec[]
  timeZone?: string
  /** null: ignore devices' own windows. */
  deviceWindowTag?: string | null
  inUseGuard?: { path: string; values: JsonValue[]; retryAfterSeconds?: number }
}

export type JobDraft =
  | ({ kind: 'method'; queryCondition: string; methodName: string; payload?: JsonValue } & JobPlanDraft)
  | ({ kind: 'twin'; queryCondition: string; desired?: JsonObject; tags?: JsonObject } & JobPlanDraft)

const ACTIVE = new Set(['queued', 'scheduled', 'running'])
export const isActive = (j: JobView): boolean => ACTIVE.has(j.status)

const PLAN_KEYS = ['startTime', 'maxExecutionTimeInSeconds', 'devicesPerMinute', 'maxConcurrency', 'abortThreshold', 'maintenanceWindow', 'timeZone', 'deviceWindowTag', 'inUseGuard'] as const

/** The contract input for a draft: only the fields that are set. */
export function jobInput (draft: JobDraft): MethodInput<'jobs.create'> {
  const input: MethodInput<'jobs.create'> = draft.kind === 'method'
    ? {
        queryCondition: draft.queryCondition,
        methodName: draft.methodName,
        ...(draft.payload === undefined ? {} : { payload: draft.payload }),
        ...(draft.responseTimeoutInSeconds === undefined ? {} : { responseTimeoutInSeconds: draft.responseTimeoutInSeconds })
      }
    : { queryCondition: draft.queryCondition, ...(draft.desired === undefined ? {} : { desired: draft.desired }), ...(draft.tags === undefined ? {} : { tags: draft.tags }) }
  const out = input as Record<string, unknown>
  for (const k of PLAN_KEYS) if (draft[k] !== undefined) out[k] = draft[k]
  return input
}

export function createJobsStore (api: HubApi, opts: { refetchMs?: number; devicesRefetchMs?: number } = {}) {
  const store = createStore<JobsState>()(() => ({
    jobs: [], loaded: false, error: undefined, selected: undefined, devices: [], targetCount: undefined, targetError: undefined
  }))
  let countSeq = 0
  let listSeq = 0

  async function refreshList (): Promise<void> {
    const mine = ++listSeq
    const r = await api.call('jobs.list', undefined)
    if (mine !== listSeq) return // a newer refresh is on its way
    if (!r.ok) { store.setState({ error: r.error }); return }
    store.setState({ jobs: r.value, loaded: true, error: undefined })
  }

  /** The list and the open job's device results. */
  async function refresh (): Promise<void> {
    await refreshList()
    const sel = store.getState().selected
    if (sel !== undefined) await loadDevices(sel)
  }

  async function loadDevices (jobId: string): Promise<void> {
    const r = await api.call('jobs.devices', { jobId })
    if (r.ok && store.getState().selected === jobId) store.setState({ devices: r.value })
  }

  function select (jobId: string | undefined): void {
    store.setState({ selected: jobId, devices: [] })
    if (jobId !== undefined) void loadDevices(jobId)
  }

  /** How many devices a query condition targets (the answer to the latest call wins). */
  async function countTargets (queryCondition: string): Promise<void> {
    const mine = ++countSeq
    if (queryCondition.trim() === '') { store.setState({ targetCount: undefined, targetError: undefined }); return }
    const r = await api.call('devices.list', { query: queryCondition, limit: 1 })
    if (mine !== countSeq) return
    store.setState(r.ok ? { targetCount: r.value.total, targetError: undefined } : { targetCount: undefined, targetError: r.error })
  }

  /** Asks the hub to check the job without creating it: the review step's numbers and errors. */
  async function review (draft: JobDraft): Promise<{ ok: true; job: JobView } | { ok: false; error: HubErrorInfo }> {
    const r = await api.call('jobs.create', { ...jobInput(draft), dryRun: true })
    return r.ok ? { ok: true, job: r.value } : { ok: false, error: r.error }
  }

  async function create (draft: JobDraft): Promise<{ ok: true; job: JobView } | { ok: false; error: HubErrorInfo }> {
    const r = await api.call('jobs.create', jobInput(draft))
    if (!r.ok) return { ok: false, error: r.error }
    await refresh()
    select(r.value.jobId)
    return { ok: true, job: r.value }
  }

  async function cancel (jobId: string): Promise<HubErrorInfo | undefined> {
    const r = await api.call('jobs.cancel', { jobId })
    await refresh()
    return r.ok ? undefined : r.error
  }

  const later = throttle(() => { void refreshList() }, opts.refetchMs ?? 300)
  // a big job's per-device results are heavier: at most once a second, and only for the open job
  const laterDevices = throttle(() => { const sel = store.getState().selected; if (sel !== undefined) void loadDevices(sel) }, opts.devicesRefetchMs ?? 1000)
  function onEvents (events: UiEvent[]): void {
    if (events.some(e => e.type === 'resync')) { later(); laterDevices(); return }
    const sel = store.getState().selected
    let any = false
    for (const e of events) {
      if (e.type !== 'job.changed') continue
      any = true
      if (e.jobId === sel) laterDevices()
    }
    if (any) later()
  }

  /** Loads the list and follows job events until the returned function is called. */
  function start (): () => void {
    void refresh()
    const off = api.subscribe(onEvents)
    return () => { off(); later.cancel(); laterDevices.cancel() }
  }

  return { store, refresh, select, countTargets, review, create, cancel, onEvents, start }
}

export type JobsStore = ReturnType<typeof createJobsStore>
