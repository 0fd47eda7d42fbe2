// One device's telemetry as a stream: the latest messages once, then on each
// `telemetry.received` event only the messages after the last sequence number we hold
// (`telemetry.since`), never the last hundred again. Keeps the chart's window (a few minutes)
// and at least the last few messages for the list, however old.
import { createStore } from 'zustand/vanilla'
import type { HubApi, HubErrorInfo, TelemetryItem, UiEvent } from '../../../shared/contract/index'

export interface TelemetryStreamState {
  items: TelemetryItem[]
  /** Sequence number of the newest message held (0 = none yet). */
  lastSeq: number
  loaded: boolean
  /** More messages arrived at once than one fetch carries: some in between are not shown. */
  gap: boolean
  error: HubErrorInfo | undefined
  /** Fetches made (for the curious and for tests). */
  fetches: number
}

export interface TelemetryStreamOptions {
  /** What the chart shows; older messages are dropped (default 5 minutes). */
  windowMs?: number
  /** Kept whatever their age, for the message list (default 50). */
  keepLast?: number
  /** Hard cap on messages held (default 3,000: 10 a second for 5 minutes). */
  max?: number
  /** Messages per fetch (the contract allows 100). */
  batch?: number
  now?: () => number
}

/** Drops messages older than the window, keeping at least `keepLast` and at most `max`. */
export function pruneTelemetry (items: TelemetryItem[], now: number, windowMs: number, keepLast: number, max: number): TelemetryItem[] {
  const cutoff = now - windowMs
  let first = 0
  while (first < items.length - keepLast && Date.parse((items[first] as TelemetryItem).enqueuedTime) < cutoff) first++
  first = Math.max(first, items.length - max)
  return first <= 0 ? items : items.slice(first)
}

export function createTelemetryStream (api: HubApi, deviceId: string, opts: TelemetryStreamOptions = {}) {
  const windowMs = opts.windowMs ?? 5 * 60_000
  const keepLast = opts.keepLast ?? 50
  const max = opts.max ?? 3000
  const batch = opts.batch ?? 100
  const now = opts.now ?? (() => Date.now())
  const store = createStore<TelemetryStreamState>()(() => ({ items: [], lastSeq: 0, loaded: false, gap: false, error: undefined, fetches: 0 }))

  let inFlight = false
  let again = false
  let stopped = false

  /** Fetches everything after lastSeq; one fetch at a time, events during it cause one more. */
  async function pull (): Promise<void> {
    if (inFlight) { again = true; return }
    inFlight = true
    try {
      do {
        again = false
        const { lastSeq } = store.getState()
        const r = await api.call('telemetry.since', { deviceId, afterSeq: lastSeq, limit: batch })
        if (stopped) return
        if (!r.ok) { store.setState(s => ({ error: r.error, loaded: true, fetches: s.fetches + 1 })); return }
        store.setState(s => {
          const fresh = r.value.items.filter(m => m.seq > s.lastSeq)
          const items = pruneTelemetry(fresh.length === 0 ? s.items : [...s.items, ...fresh], now(), windowMs, keepLast, max)
          return {
            items,
            lastSeq: fresh.at(-1)?.seq ?? s.lastSeq,
            loaded: true,
            // a first load that could not reach back is not a gap: there was nothing before
            gap: s.gap || (r.value.truncated && s.lastSeq > 0),
            error: undefined,
            fetches: s.fetches + 1
          }
        })
      } while (again)
    } finally {
      inFlight = false
    }
  }

  function onEvents (events: UiEvent[]): void {
    for (const e of events) {
      if (e.type === 'resync' || (e.type === 'telemetry.received' && e.deviceId === deviceId && e.lastSeq > store.getState().lastSeq)) {
        void pull()
        return
      }
    }
  }

  function start (): () => void {
    stopped = false
    void pull()
    const off = api.subscribe(onEvents)
    // the window slides even when the device is quiet
    const timer = setInterval(() => {
      store.setState(s => {
        const items = pruneTelemetry(s.items, now(), windowMs, keepLast, max)
        return items === s.items ? s : { items }
      })
    }, 10_000)
    return () => { stopped = true; off(); clearInterval(timer) }
  }

  return { store, start, pull, onEvents }
}

export type TelemetryStream = ReturnType<typeof createTelemetryStream>
