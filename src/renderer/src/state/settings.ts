// Settings store: the hub's settings with store usage, retention and identity; live on
// 'settings.changed' (another admin, or another window) so thresholds and theme apply at once.
import { createStore } from 'zustand/vanilla'
import type { HubApi, HubErrorInfo, HubSettingsView, MethodInput, SettingsView, UiEvent } from '../../../shared/contract/index'

export interface SettingsState {
  view: SettingsView | undefined
  error: HubErrorInfo | undefined
  saving: boolean
}

export function createSettingsStore (api: HubApi) {
  const store = createStore<SettingsState>()(() => ({ view: undefined, error: undefined, saving: false }))
  const listeners = new Set<(s: HubSettingsView) => void>()

  function set (view: SettingsView): void {
    const before = store.getState().view?.settings
    store.setState({ view, error: undefined })
    if (before === undefined || JSON.stringify(before) !== JSON.stringify(view.settings)) for (const l of listeners) l(view.settings)
  }

  async function refresh (): Promise<void> {
    const r = await api.call('settings.get', undefined)
    if (r.ok) set(r.value)
    else store.setState({ error: r.error })
  }

  function onEvents (events: UiEvent[]): void {
    for (const e of events) {
      if (e.type === 'settings.changed') {
        const view = store.getState().view
        if (view === undefined) void refresh()
        else set({ ...view, settings: e.settings })
      } else if (e.type === 'resync') {
        void refresh()
      }
    }
  }

  function start (): () => void {
    void refresh()
    return api.subscribe(onEvents)
  }

  async function save (changes: MethodInput<'settings.update'>): Promise<HubErrorInfo | undefined> {
    store.setState({ saving: true })
    const r = await api.call('settings.update', changes)
    store.setState({ saving: false })
    if (!r.ok) return r.error
    set(r.value)
    return undefined
  }

  /** Called with the settings whenever they change (first load included); returns an unsubscribe function. */
  function onSettings (l: (s: HubSettingsView) => void): () => void {
    listeners.add(l)
    const cur = store.getState().view?.settings
    if (cur !== undefined) l(cur)
    return () => { listeners.delete(l) }
  }

  return { store, refresh, start, onEvents, save, onSettings }
}

export type SettingsStore = ReturnType<typeof createSettingsStore>
