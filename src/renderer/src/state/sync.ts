// Sync store: the link and its queues (live from sync.link / sync.queue events, a slow poll
// for the clock-driven fields), the per-device table of the chosen state (thousands of rows,
// refetched throttled), open conflicts, the upstream settings and the backlog drain.
import { createStore } from 'zustand/vanilla'
import type {
  HubApi, HubErrorInfo, MethodInput, SyncConflictView, SyncDeviceCounts, SyncResolvedConflictView, SyncDeviceRow, SyncDeviceState, SyncResolution,
  SyncSettingsView, SyncStatusView, SyncTestResult, UiEvent
} from '../../../shared/contract/index'
import { nextDrain, type Drain } from '../lib/sync'
import { throttle } from './throttle'

export type SyncFilter = SyncDeviceState | 'all'

export interface SyncState {
  status: SyncStatusView | undefined
  error: HubErrorInfo | undefined
  filter: SyncFilter
  search: string
  rows: SyncDeviceRow[]
  /** Rows of the filter (the table may hold fewer when above the limit). */
  total: number
  counts: SyncDeviceCounts | undefined
  devicesLoaded: boolean
  conflicts: SyncConflictView[]
  conflictsLoaded: boolean
  /** Conflicts that ended, newest first. */
  resolved: SyncResolvedConflictView[]
  settings: SyncSettingsView | undefined
  /** The telemetry backlog while one exists. */
  drain: Drain | undefined
}

const LIMIT = 20_000

export function createSyncStore (api: HubApi, opts: { refetchMs?: number; pollMs?: number; now?: () => number } = {}) {
  const now = opts.now ?? Date.now
  const store = createStore<SyncState>()(() => ({
    status: undefined, error: undefined, filter: 'all', search: '', rows: [], total: 0, counts: undefined, devicesLoaded: false,
    conflicts: [], conflictsLoaded: false, resolved: [], settings: undefined, drain: undefined
  }))

  function track (s: SyncStatusView): void {
    store.setState(st => ({ drain: nextDrain(st.drain, s.queue.telemetryPending, now()) }))
  }

  /** How long the last status call took: the background poll waits at least 10x that. */
  let statusCost = 0
  async function loadStatus (): Promise<void> {
    const started = Date.now()
    const r = await api.call('sync.status', undefined)
    statusCost = Date.now() - started
    if (!r.ok) { store.setState({ error: r.error }); return }
    store.setState({ status: r.value, error: undefined })
    track(r.value)
  }

  // Only the latest device load may set rows (a filter change races a background refetch).
  let latest = 0
  /** How long the last device load took: background refetches wait at least 10x that. */
  let devicesCost = 0
  async function loadDevices (): Promise<void> {
    const mine = ++latest
    const started = Date.now()
    const { filter, search } = store.getState()
    const input: NonNullable<MethodInput<'sync.devices'>> = { limit: LIMIT }
    if (filter !== 'all') input.state = filter
    if (search.trim() !== '') input.search = search.trim()
    const r = await api.call('sync.devices', input)
    devicesCost = Date.now() - started
    if (mine !== latest) return
    if (!r.ok) { store.setState({ error: r.error }); return }
    store.setState({ rows: r.value.items, total: r.value.total, counts: r.value.counts, devicesLoaded: true })
  }

  async function loadConflicts (): Promise<void> {
    const [r, done] = await Promise.all([api.call('sync.conflicts', undefined), api.call('sync.conflicts.resolved', undefined)])
    if (!r.ok) { store.setState({ error: r.error }); return }
    store.setState({ conflicts: r.value, conflictsLoaded: true, ...(done.ok ? { resolved: done.value } : {}) })
  }

  async function loadSettings (): Promise<void> {
    const r = await api.call('sync.settings.get', undefined)
    if (r.ok) store.setState({ settings: r.value })
  }

  // Thousands of devices make a table load cost something: refetch at most every refetchMs,
  // and never more often than 10x what the last load took.
  const refetchDevices = adaptiveThrottle(() => { void loadDevices() }, () => Math.max(opts.refetchMs ?? 2000, devicesCost * 10))
  const refetchStatus = throttle(() => { void loadStatus() }, 500)
  const refetchConflicts = throttle(() => { void loadConflicts() }, 500)

  function onEvents (events: UiEvent[]): void {
    let devices = false
    for (const e of events) {
      if (e.type === 'sync.link') {
        // show the new state at once; the rest of the status follows
        store.setState(s => (s.status === undefined ? {} : { status: { ...s.status, state: e.state, since: e.at, lastError: e.state === 'offline' ? e.reason : s.status.lastError } }))
        refetchStatus()
        devices = true
      } else if (e.type === 'sync.queue') {
        store.setState(s => (s.status === undefined ? {} : { status: { ...s.status, queue: e.queue, devices: e.devices }, counts: e.devices }))
        const st = store.getState().status
        if (st !== undefined) track(st)
        devices = true
      } else if (e.type === 'sync.conflict') {
        refetchConflicts()
        refetchStatus()
        devices = true
      } else if (e.type === 'resync') {
        void reload()
      } else if (e.type === 'device.registry' || (e.type === 'twin.changed' && e.parts.includes('reported'))) {
        devices = true
      }
    }
    if (devices) refetchDevices()
  }

  async function reload (): Promise<void> {
    await Promise.all([loadStatus(), loadDevices(), loadConflicts(), loadSettings()])
  }

  function start (): () => void {
    void reload()
    const off = api.subscribe(onEvents)
    // last successful sync, reconnect attempts and the like move without events; a status
    // walks every device, so with thousands of them the poll slows down (10x its cost)
    let poll: ReturnType<typeof setTimeout> | undefined
    let stopped = false
    const tick = (): void => {
      poll = setTimeout(() => { void loadStatus().finally(() => { if (!stopped) tick() }) }, Math.max(opts.pollMs ?? 5000, statusCost * 10))
    }
    tick()
    return () => { stopped = true; off(); if (poll !== undefined) clearTimeout(poll); refetchDevices.cancel(); refetchStatus.cancel(); refetchConflicts.cancel() }
  }

  function setFilter (filter: SyncFilter): void {
    store.setState({ filter })
    void loadDevices()
  }
  function setSearch (search: string): void {
    store.setState({ search })
    void loadDevices()
  }

  /** Resolves a conflict; on success it leaves the list (also when the event is late). */
  async function resolve (id: string, resolution: SyncResolution): Promise<HubErrorInfo | undefined> {
    const r = await api.call('sync.resolve', { id, resolution })
    if (!r.ok) { await loadConflicts(); return r.error }
    store.setState(s => ({ conflicts: s.conflicts.filter(c => c.id !== id) }))
    await Promise.all([loadStatus(), loadDevices(), loadConflicts()])
    return undefined
  }

  async function saveSettings (input: MethodInput<'sync.settings.set'>): Promise<HubErrorInfo | undefined> {
    const r = await api.call('sync.settings.set', input)
    if (!r.ok) return r.error
    store.setState({ settings: r.value })
    await loadStatus()
    return undefined
  }

  async function testSettings (input: NonNullable<MethodInput<'sync.settings.test'>>): Promise<SyncTestResult | HubErrorInfo> {
    const r = await api.call('sync.settings.test', input)
    return r.ok ? r.value : r.error
  }

  return { store, start, reload, onEvents, loadStatus, loadDevices, loadConflicts, setFilter, setSearch, resolve, saveSettings, testSettings }
}

export type SyncStore = ReturnType<typeof createSyncStore>

/** Like throttle(), with the wait decided at each call. */
function adaptiveThrottle (fn: () => void, wait: () => number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined
  let last = 0
  const t = (): void => {
    if (timer !== undefined) return
    timer = setTimeout(() => { timer = undefined; last = Date.now(); fn() }, Math.max(0, last + wait() - Date.now()))
  }
  t.cancel = (): void => { if (timer !== undefined) clearTimeout(timer); timer = undefined }
  return t
}
