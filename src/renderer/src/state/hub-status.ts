// Vanilla zustand store for the hub's status. Polled for now; hub events replace the poll later.
import { createStore } from 'zustand/vanilla'
import type { HubApi, HubStatus } from '../../../shared/contract'

export interface HubStatusState {
  /** 'unavailable': no desktop API (the page runs in a plain browser). */
  source: 'desktop' | 'unavailable'
  status: HubStatus | undefined
  /** Why the last status call failed, if it did. */
  error: string | undefined
}

export function createHubStatusStore (api: HubApi | undefined) {
  const store = createStore<HubStatusState>()(() => ({
    source: api === undefined ? 'unavailable' : 'desktop',
    status: undefined,
    error: undefined
  }))

  async function refresh (): Promise<void> {
    if (api === undefined) return
    try {
      store.setState({ status: await api.status(), error: undefined })
    } catch (err) {
      store.setState({ error: err instanceof Error ? err.message : String(err) })
    }
  }

  /** Polls until the returned function is called. */
  function poll (intervalMs = 2000): () => void {
    if (api === undefined) return () => {}
    void refresh()
    const id = setInterval(() => { void refresh() }, intervalMs)
    return () => { clearInterval(id) }
  }

  return { store, refresh, poll }
}

export type HubStatusStore = ReturnType<typeof createHubStatusStore>
