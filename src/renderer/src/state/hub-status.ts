// Vanilla zustand store for the hub's status (hub.status), refreshed on connection events
// and on a slow poll (endpoint changes have no event).
import { createStore } from 'zustand/vanilla'
import type { HubApi, HubErrorInfo, HubStatus } from '../../../shared/contract/index'

export interface HubStatusState {
  /** 'unavailable': no hub API at all. */
  source: 'desktop' | 'browser' | 'unavailable'
  status: HubStatus | undefined
  /** Why the last status call failed, if it did. */
  error: HubErrorInfo | undefined
}

export function createHubStatusStore (api: HubApi | undefined, source: 'desktop' | 'browser' = 'desktop') {
  const store = createStore<HubStatusState>()(() => ({
    source: api === undefined ? 'unavailable' : source,
    status: undefined,
    error: undefined
  }))

  async function refresh (): Promise<void> {
    if (api === undefined) return
    try {
      const r = await api.call('hub.status', undefined)
      if (r.ok) store.setState({ status: r.value, error: undefined })
      else store.setState({ error: r.error })
    } catch (err) {
      store.setState({ error: { code: 0, name: 'TransportError', message: err instanceof Error ? err.message : String(err) } })
    }
  }

  /** Polls until the returned function is called. */
  function poll (intervalMs = 5000): () => void {
    if (api === undefined) return () => {}
    void refresh()
    const id = setInterval(() => { void refresh() }, intervalMs)
    const off = api.subscribe(events => {
      if (events.some(e => e.type === 'device.connection' || e.type === 'device.registry' || e.type === 'resync')) void refresh()
    })
    return () => { clearInterval(id); off() }
  }

  return { store, refresh, poll }
}

export type HubStatusStore = ReturnType<typeof createHubStatusStore>
