// Devices table store: every row of the current query (10,000 is fine: rows are small),
// a client-side search over them, live connection state from events, and a throttled
// refetch when devices are added or removed or their reported firmware/state changes.
import { createStore } from 'zustand/vanilla'
import type { DeviceRow, DeviceSort, DeviceSortKey, HubApi, HubErrorInfo, UiEvent } from '../../../shared/contract/index'
import { createBulkTagStore } from './bulk-tag'
import { throttle } from './throttle'
import { createViewsStore } from './views'

export interface DevicesState {
  rows: DeviceRow[]
  /** rows filtered by `search` and ordered by `sort`: what the table shows. */
  visible: DeviceRow[]
  search: string
  /** Column order picked in the table header; null = by device id, as the hub answers. */
  sort: DeviceSort | null
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

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

/** Orders rows by one column; empty values (no firmware reported) go last either way; ties by device id. */
export function sortRows (rows: DeviceRow[], sort: DeviceSort): DeviceRow[] {
  const key: DeviceSortKey = sort.column
  const dir = sort.direction === 'asc' ? 1 : -1
  return rows.slice().sort((a, b) => {
    const x = a[key]
    const y = b[key]
    if (x !== y) {
      if (x === null || x === '') return 1
      if (y === null || y === '') return -1
      const c = key === 'lastActivityTime' ? (x < y ? -1 : 1) : collator.compare(x, y)
      if (c !== 0) return c * dir
    }
    return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0
  })
}

function filter (rows: DeviceRow[], search: string, sort: DeviceSort | null = null): DeviceRow[] {
  const s = search.trim().toLowerCase()
  const found = s === '' ? rows : rows.filter(r => r.deviceId.toLowerCase().includes(s))
  return sort === null ? found : sortRows(found, sort)
}

export function createDevicesStore (api: HubApi, opts: { refetchMs?: number } = {}) {
  const store = createStore<DevicesState>()(() => ({
    rows: [], visible: [], search: '', sort: null, query: '', queryError: undefined, error: undefined, loaded: false, loading: false, selected: new Set<string>()
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
    store.setState(s => ({ rows, visible: filter(rows, s.search, s.sort), query, queryError: undefined, error: undefined, loaded: true, loading: false }))
    return true
  }

  /** A refresh the technician did not ask for: new rows only, never touching a query error on screen. */
  async function reload (): Promise<void> {
    const started = latest
    const { query } = store.getState()
    const r = await api.call('devices.list', query.trim() === '' ? { limit: LIMIT } : { limit: LIMIT, query })
    if (started !== latest || !r.ok || store.getState().query !== query) return
    const rows = r.value.items
    store.setState(s => ({ rows, visible: filter(rows, s.search, s.sort) }))
  }

  const refetch = throttle(() => { void reload() }, opts.refetchMs ?? 2000)

  function setSearch (search: string): void {
    store.setState(s => ({ search, visible: filter(s.rows, search, s.sort) }))
  }

  function setSort (sort: DeviceSort | null): void {
    store.setState(s => ({ sort, visible: filter(s.rows, s.search, sort) }))
  }
  /** A header click: ascending, then descending, then back to the hub's order. */
  function cycleSort (column: DeviceSortKey): void {
    const cur = store.getState().sort
    setSort(cur?.column !== column ? { column, direction: 'asc' } : cur.direction === 'asc' ? { column, direction: 'desc' } : null)
  }

  /** Opens a saved view: its search and sort at once, its query as a load (false if it no longer runs). */
  async function applyView (view: { search: string; query: string; sort: DeviceSort | null }): Promise<boolean> {
    store.setState(s => ({ search: view.search, sort: view.sort, visible: filter(s.rows, view.search, view.sort) }))
    return await load(view.query)
  }

  function applyConnection (deviceId: string, connected: boolean, at: string): boolean {
    const { rows } = store.getState()
    const i = rows.findIndex(r => r.deviceId === deviceId)
    const row = rows[i]
    if (row === undefined) return false
    const next = rows.slice()
    next[i] = { ...row, connectionState: connected ? 'Connected' : 'Disconnected', lastActivityTime: at }
    store.setState(s => ({ rows: next, visible: filter(next, s.search, s.sort) }))
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
      store.setState(s => ({ rows: next, visible: filter(next, s.search, s.sort) }))
    }
    // a query on connectionState or reported values may now match other devices
    if (again || (conns.size > 0 && store.getState().query !== '')) refetch()
  }

  // The screen's tools live as long as the table: the open view survives a visit to a device.
  const views = createViewsStore(api)
  const bulkTag = createBulkTagStore(api)

  function start (): () => void {
    void load(store.getState().query)
    const off = api.subscribe(onEvents)
    const offViews = views.start()
    return () => { off(); offViews(); refetch.cancel() }
  }

  async function setStatus (deviceIds: string[], status: 'enabled' | 'disabled'): Promise<HubErrorInfo | undefined> {
    for (const deviceId of deviceIds) {
      const r = await api.call('devices.setStatus', { deviceId, status })
      if (!r.ok) return r.error
    }
    await load(store.getState().query)
    return undefined
  }

  return { store, views, bulkTag, load, setSearch, setSort, cycleSort, applyView, applyConnection, onEvents, start, setStatus, toggle, toggleAllVisible, clearSelection, selectionCondition }
}

export type DevicesStore = ReturnType<typeof createDevicesStore>
