// Saved views of the devices table (the hub keeps them for everyone on the site): the list,
// live as anyone saves, renames or deletes one, and which view is open on this screen.
import { createStore } from 'zustand/vanilla'
import type { DeviceSort, HubApi, HubErrorInfo, SavedView, UiEvent } from '../../../shared/contract/index'
import { throttle } from './throttle'

export interface ViewsState {
  views: SavedView[]
  loaded: boolean
  /** Name of the view open on the devices screen, if one is. */
  active: string | undefined
  error: HubErrorInfo | undefined
  busy: boolean
}

/** What the devices table shows now, comparable with a saved view. */
export interface TableState { search: string; query: string; sort: DeviceSort | null }

const sameSort = (a: DeviceSort | null, b: DeviceSort | null): boolean =>
  a === b || (a !== null && b !== null && a.column === b.column && a.direction === b.direction)

/** The table no longer shows exactly what the view saved (search, query or order changed). */
export function differsFromView (view: SavedView, table: TableState): boolean {
  return view.search !== table.search.trim() || view.query !== table.query.trim() || !sameSort(view.sort, table.sort)
}

/** A view name as the technician types it: the problem in plain words, or undefined when it can be saved. */
export function viewNameProblem (raw: string, views: SavedView[], except?: string): string | undefined {
  const name = raw.trim().replace(/\s+/g, ' ')
  if (name === '') return 'Give the view a name.'
  if (name.length > 64) return 'Use at most 64 characters.'
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'Use letters, digits and punctuation only.'
  const clash = views.find(v => v.name.toLowerCase() === name.toLowerCase() && v.name.toLowerCase() !== except?.toLowerCase())
  if (clash !== undefined) return `A view named “${clash.name}” already exists.`
  return undefined
}

export function createViewsStore (api: HubApi, opts: { refetchMs?: number } = {}) {
  const store = createStore<ViewsState>()(() => ({ views: [], loaded: false, active: undefined, error: undefined, busy: false }))

  async function load (): Promise<void> {
    const r = await api.call('views.list', undefined)
    if (!r.ok) { store.setState({ error: r.error }); return }
    // the open view was renamed or deleted by someone else: forget it
    store.setState(s => ({ views: r.value, loaded: true, active: r.value.some(v => v.name === s.active) ? s.active : undefined }))
  }
  const reload = throttle(() => { void load() }, opts.refetchMs ?? 250)

  function onEvents (events: UiEvent[]): void {
    if (events.some(e => e.type === 'views.changed' || e.type === 'resync')) reload()
  }

  function start (): () => void {
    void load()
    const off = api.subscribe(onEvents)
    return () => { off(); reload.cancel() }
  }

  async function act<T> (fn: () => Promise<{ ok: true; value: T } | { ok: false; error: HubErrorInfo }>): Promise<T | undefined> {
    store.setState({ busy: true, error: undefined })
    const r = await fn()
    store.setState({ busy: false, ...(r.ok ? {} : { error: r.error }) })
    if (!r.ok) return undefined
    await load()
    return r.value
  }

  /** Saves the table's state under `name`; `overwrite` replaces a view of that name. */
  async function save (name: string, table: TableState, overwrite = false): Promise<SavedView | undefined> {
    const input = { name, search: table.search, query: table.query, ...(table.sort === null ? {} : { sort: table.sort }), ...(overwrite ? { overwrite } : {}) }
    const v = await act(() => api.call('views.save', input))
    if (v !== undefined) store.setState({ active: v.name })
    return v
  }

  async function rename (name: string, newName: string): Promise<SavedView | undefined> {
    const wasOpen = store.getState().active === name
    const v = await act(() => api.call('views.rename', { name, newName }))
    if (v !== undefined && wasOpen) store.setState({ active: v.name })
    return v
  }

  async function remove (name: string): Promise<boolean> {
    const r = await act(() => api.call('views.remove', { name }))
    if (r !== undefined && store.getState().active === name) store.setState({ active: undefined })
    return r !== undefined
  }

  const setActive = (name: string | undefined): void => { store.setState({ active: name }) }
  const clearError = (): void => { store.setState({ error: undefined }) }

  return { store, load, start, onEvents, save, rename, remove, setActive, clearError }
}

export type ViewsStore = ReturnType<typeof createViewsStore>
