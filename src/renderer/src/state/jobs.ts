// Jobs store: the job list (polled: the hub has no job events yet; fast while a job is
// active), the selected job's per-device results, creation with a live target count, cancel.
import { createStore } from 'zustand/vanilla'
import type { HubApi, HubErrorInfo, JobDeviceResult, JobView, JsonObject, JsonValue } from '../../../shared/contract/index'

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

export type JobDraft =
  | { kind: 'method'; queryCondition: string; methodName: string; payload?: JsonValue }
  | { kind: 'twin'; queryCondition: string; desired?: JsonObject; tags?: JsonObject }

const ACTIVE = new Set(['queued', 'scheduled', 'running'])
export const isActive = (j: JobView): boolean => ACTIVE.has(j.status)

export function createJobsStore (api: HubApi, opts: { fastMs?: number; slowMs?: number } = {}) {
  const store = createStore<JobsState>()(() => ({
    jobs: [], loaded: false, error: undefined, selected: undefined, devices: [], targetCount: undefined, targetError: undefined
  }))
  let countSeq = 0

  async function refresh (): Promise<void> {
    const r = await api.call('jobs.list', undefined)
    if (!r.ok) { store.setState({ error: r.error }); return }
    store.setState({ jobs: r.value, loaded: true, error: undefined })
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

  async function create (draft: JobDraft): Promise<{ ok: true; job: JobView } | { ok: false; error: HubErrorInfo }> {
    const input = draft.kind === 'method'
      ? { queryCondition: draft.queryCondition, methodName: draft.methodName, ...(draft.payload === undefined ? {} : { payload: draft.payload }) }
      : { queryCondition: draft.queryCondition, ...(draft.desired === undefined ? {} : { desired: draft.desired }), ...(draft.tags === undefined ? {} : { tags: draft.tags }) }
    const r = await api.call('jobs.create', input)
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

  /** Polls until the returned function is called: every fastMs while a job is active, else slowMs. */
  function start (): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined
    let stopped = false
    const tick = async (): Promise<void> => {
      await refresh()
      if (stopped) return
      const active = store.getState().jobs.some(isActive)
      timer = setTimeout(() => { void tick() }, active ? (opts.fastMs ?? 1000) : (opts.slowMs ?? 5000))
    }
    void tick()
    return () => { stopped = true; if (timer !== undefined) clearTimeout(timer) }
  }

  return { store, refresh, select, countTargets, create, cancel, start }
}

export type JobsStore = ReturnType<typeof createJobsStore>
