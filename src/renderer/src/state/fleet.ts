// Fleet overview store: fleet.summary (counts, firmware GROUP BY, alerts), refetched when
// devices come and go, plus the live telemetry rate from telemetry.rate events.
import { createStore } from 'zustand/vanilla'
import type { FleetSummary, HubApi, HubErrorInfo, UiEvent } from '../../../shared/contract/index'
import { throttle } from './throttle'

export interface FleetState {
  summary: FleetSummary | undefined
  error: HubErrorInfo | undefined
  /** Messages per second over the last few seconds. */
  ratePerSecond: number
  loading: boolean
}

const RATE_WINDOW_MS = 5000

export function createFleetStore (api: HubApi, opts: { refetchMs?: number; now?: () => number } = {}) {
  const now = opts.now ?? Date.now
  const store = createStore<FleetState>()(() => ({ summary: undefined, error: undefined, ratePerSecond: 0, loading: false }))
  const samples: Array<{ at: number; messages: number; windowMs: number }> = []

  async function refresh (): Promise<void> {
    store.setState({ loading: true })
    const r = await api.call('fleet.summary', undefined)
    store.setState(r.ok ? { summary: r.value, error: undefined, loading: false } : { error: r.error, loading: false })
  }
  const later = throttle(() => { void refresh() }, opts.refetchMs ?? 2000)

  function onEvents (events: UiEvent[]): void {
    let refetch = false
    for (const e of events) {
      if (e.type === 'telemetry.rate') {
        const t = now()
        samples.push({ at: t, messages: e.messages, windowMs: e.windowMs })
        while (samples.length > 0 && (samples[0]?.at ?? 0) < t - RATE_WINDOW_MS) samples.shift()
        const messages = samples.reduce((n, s) => n + s.messages, 0)
        const ms = samples.reduce((n, s) => n + s.windowMs, 0)
        store.setState({ ratePerSecond: ms > 0 ? (messages * 1000) / ms : 0 })
      } else if (e.type !== 'telemetry.received' && e.type !== 'serial.status' && e.type !== 'firmware.changed') {
        refetch = true
      }
    }
    if (refetch) later()
  }

  /** Loads, then follows events until the returned function is called. */
  function start (): () => void {
    void refresh()
    const off = api.subscribe(onEvents)
    return () => { off(); later.cancel() }
  }

  /** An approval: marks an alert acknowledged (supervisors and admins), then reloads. */
  async function acknowledge (id: string): Promise<HubErrorInfo | undefined> {
    const r = await api.call('alerts.acknowledge', { id })
    await refresh()
    return r.ok ? undefined : r.error
  }

  return { store, refresh, start, onEvents, acknowledge }
}

export type FleetStore = ReturnType<typeof createFleetStore>
