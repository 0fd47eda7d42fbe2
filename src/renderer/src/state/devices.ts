// Devices table store: every row of the current query (10,000 is fine: rows are small),
// a client-side search over them, live connection state from events, and a throttled
// refetch when devices are added or removed or their reported firmware/state changes.
import { createStore } from 'zustand/vanilla'
import type { DeviceRow, HubApi, HubErrorInfo, UiEvent } from '../../../shared/contract/index'
import { throttle } from './throttle'

export interface DevicesState {
  rows: DeviceRow[]
  /** rows filtered by `search`: what the table shows. */
  visible: DeviceRow[]
  search: string
  /** The query (WHERE condition or full SELECT) the rows come from; '' = all devices. */
  query: string
  /** Set when `query` did not run; `query` keeps the last good one. */
  queryError: (HubErrorInfo & { text: string }) | undefined
  error: HubErrorInfo | undefined
  loaded: boolean
  loading: boolean
  /** Device ids picked for a bulk action. */
  selected: ReadonlySet<string>
}

const LIMIT = 20_000

function filter (rows: DeviceRow[], search: string): DeviceRow[] {
  const s = search.trim().toLowerCase()
  return s === '' ? rows : rows.filter(r => r.deviceId.toLowerCase().includes(s))
}

export function createDevicesStore (api: HubApi, opts: { refetchMs?: number } = {}) {
  const store = createStore<DevicesState>()(() => ({
    rows: [], visible: [], search: '', query: '', queryError: undefined, error: undefined, loaded: false, loading: false, selected: new Set<string>()
  }))

  function toggle (deviceId: string): void {
    store.setState(s => {
      const next = new Set(s.selected)
      if (next.has(deviceId)) next.delete(deviceId)
      else next.add(deviceId)
      return { selected: next }
    })
  }
  /** Selects every visible row (or clears the selection when they all are). */
  function toggleAllVisible (): void {
    store.setState(s => {
      const all = s.visible.length > 0 && s.visible.every(r => s.selected.has(r.deviceId))
      return { selected: all ? new Set<string>() : new Set(s.visible.map(r => r.deviceId)) }
    })
  }
  const clearSelection = (): void => { store.setState({ selected: new Set<string>() }) }
  /** A job query condition for the selection: deviceId IN ['a', 'b']. */
  function selectionCondition (): string {
    const ids = [...store.getState().selected].sort().map(id => `'${id.replaceAll("'", "''")}'`)
    return `deviceId IN [${ids.join(', ')}]`
  }

  // Only the latest load may set state: an older answer arriving late must not undo a newer one.
  let latest = 0

  async function load (query: string): Promise<boolean> {
    const mine = ++latest
    store.setState({ loading: true })
    const r = await api.call('devices.list', query.trim() === '' ? { limit: LIMIT } : { limit: LIMIT, query })
    if (mine !== latest) return false
    if (!r.ok) {
      if (r.error.query !== undefined || r.error.name === 'ArgumentInvalid') store.setState({ queryError: { ...r.error, text: query }, loading: false })
      else store.setState({ error: r.error, loading: false })
      return false
    }
    const rows = r.value.items
    store.setState(s => ({ rows, visible: filter(rows, s.search), query, queryError: undefined, error: undefined, loaded: true, loading: false }))
    return true
  }

  /** A refresh the technician did not ask for: new rows only, never touching a query error on screen. */
  async function reload (): Promise<void> {
    const started = latest
    const { query } = store.getState()
    const r = await api.call('devices.list', query.trim() === '' ? { limit: LIMIT } : { limit: LIMIT, query })
    if (started !== latest || !r.ok || store.getState().query !== query) return
    const rows = r.value.items
    store.setState(s => ({ rows, visible: filter(rows, s.search) }))
  }

  const refetch = throttle(() => { void reload() }, opts.refetchMs ?? 2000)

  function setSearch (search: string): void {
    store.setState(s => ({ search, visible: filter(s.rows, search) }))
  }

  function applyConnection (deviceId: string, connected: boolean, at: string): boolean {
    const { rows } = store.getState()
    const i = rows.findIndex(r => r.deviceId === deviceId)
    const row = rows[i]
    if (row === undefined) return false
    const next = rows.slice()
    next[i] = { ...row, connectionState: connected ? 'Connected' : 'Disconnected', lastActivityTime: at }
    store.setState(s => ({ rows: next, visible: filter(next, s.search) }))
    return true
  }

  function onEvents (events: UiEvent[]): void {
    let again = false
    const conns = new Map<string, { connected: boolean; at: string }>()
    for (const e of events) {
      if (e.type === 'device.connection') conns.set(e.deviceId, { connected: e.connected, at: e.at })
      else if (e.type === 'device.registry' || e.type === 'resync') again = true
      else if (e.type === 'twin.changed' && (e.parts.includes('reported') || e.parts.includes('tags'))) again = true
    }
    if (conns.size > 0) {
      // one array copy per batch, not per event
      const { rows } = store.getState()
      const next = rows.map(r => {
        const c = conns.get(r.deviceId)
        return c === undefined ? r : { ...r, connectionState: c.connected ? 'Connected' as const : 'Disconnected' as const, lastActivityTime: c.at }
      })
      store.setState(s => ({ rows: next, visible: filter(next, s.search) }))
    }
    // a query on connectionState or reported values may now match other devices
    if (again || (conns.size > 0 && store.getState().query !== '')) refetch()
  }

  function start (): () => void {
    void load(store.getState().query)
    const off = api.subscribe(onEvents)
    return () => { off(); refetch.cancel() }
  }

  async function setStatus (deviceIds: string[], status: 'enabled' | 'disabled'): Promise<HubErrorInfo | undefined> {
    for (const deviceId of deviceIds) {
      const r = await api.call('devices.setStatus', { deviceId, status })
      if (!r.ok) return r.error
    }
    await load(store.getState().query)
    return undefined
  }

  return { store, load, setSearch, applyConnection, onEvents, start, setStatus, toggle, toggleAllVisible, clearSelection, selectionCondition }
}

export type DevicesStore = ReturnType<typeof createDevicesStore>
