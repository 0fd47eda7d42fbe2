// Automatic configurations: the list with applied/targeted counts, refetched (throttled) when
// a configuration changes or twins' configuration status moves.
import { createStore } from 'zustand/vanilla'
import type { ConfigurationView, HubApi, HubErrorInfo, JsonObject, UiEvent } from '../../../shared/contract/index'
import { throttle } from './throttle'

export interface ConfigurationsState { items: ConfigurationView[]; loaded: boolean; error: HubErrorInfo | undefined }

export function createConfigurationsStore (api: HubApi, opts: { refetchMs?: number } = {}) {
  const store = createStore<ConfigurationsState>()(() => ({ items: [], loaded: false, error: undefined }))
  async function refresh (): Promise<void> {
    const r = await api.call('configurations.list', undefined)
    store.setState(r.ok ? { items: r.value, loaded: true, error: undefined } : { error: r.error })
  }
  const later = throttle(() => { void refresh() }, opts.refetchMs ?? 1000)
  function onEvents (events: UiEvent[]): void {
    if (events.some(e => e.type === 'configuration.changed' || e.type === 'resync' || (e.type === 'twin.changed' && e.parts.includes('configurations')))) later()
  }
  function start (): () => void {
    void refresh()
    const off = api.subscribe(onEvents)
    return () => { off(); later.cancel() }
  }
  async function create (input: { id: string; targetCondition: string; priority: number; content: JsonObject }): Promise<HubErrorInfo | undefined> {
    const r = await api.call('configurations.create', input)
    if (!r.ok) return r.error
    await refresh()
    return undefined
  }
  async function remove (id: string): Promise<HubErrorInfo | undefined> {
    const r = await api.call('configurations.remove', { id })
    await refresh()
    return r.ok ? undefined : r.error
  }
  return { store, refresh, start, onEvents, create, remove }
}

export type ConfigurationsStore = ReturnType<typeof createConfigurationsStore>
