// Pacing of the telemetry backlog against live traffic (docs/sync.md, "Live first").
// Two pieces, both used by the sync service:
// - an open limiter: at most `max` device-link handshakes at a time, live openers served
//   before backlog/control ones (and a queued backlog open promoted when live data needs it);
// - a backlog gate: before each backlog batch the backlog pump yields while live messages are
//   waiting or in flight, for at most `maxYieldMs`, so it neither delays live data much nor
//   starves itself under a steady live load.

export type OpenPriority = 'live' | 'bulk'

export interface OpenLimiter {
  /** Run `fn` once a handshake slot is free. `key` lets a later live caller promote a queued open. */
  run<T>(key: string, priority: OpenPriority, fn: () => Promise<T>): Promise<T>
  /** Move a queued open for `key` to the live queue (no-op when running or not queued). */
  promote(key: string): void
  /** Handshakes running and waiting (tests, status). */
  stats(): { running: number; live: number; bulk: number }
}

export function createOpenLimiter (max: number): OpenLimiter {
  let running = 0
  const live: Array<{ key: string; go: () => void }> = []
  const bulk: Array<{ key: string; go: () => void }> = []
  const next = (): void => {
    while (running < max) {
      const e = live.shift() ?? bulk.shift()
      if (e === undefined) return
      running++
      e.go()
    }
  }
  return {
    async run (key, priority, fn) {
      if (running >= max || live.length > 0 || bulk.length > 0) {
        await new Promise<void>((resolve) => { (priority === 'live' ? live : bulk).push({ key, go: resolve }); next() })
      } else running++
      try { return await fn() } finally { running--; next() }
    },
    promote (key) {
      const i = bulk.findIndex((e) => e.key === key)
      if (i < 0) return
      const [e] = bulk.splice(i, 1)
      if (e !== undefined) live.push(e)
    },
    stats: () => ({ running, live: live.length, bulk: bulk.length })
  }
}

export interface BacklogGate {
  /** The live pump starts / ends sending a batch. */
  liveStart(): void
  liveEnd(): void
  /**
   * The backlog pump's turn: resolves at once when no live message waits (`liveWaiting()`) or
   * is in flight; otherwise when the live pump is idle again, or after `maxYieldMs`.
   */
  backlogTurn(liveWaiting: () => boolean): Promise<void>
  /** How often (and how long in total) the backlog yielded. */
  stats(): { yields: number; yieldedMs: number }
}

export function createBacklogGate (opts: { maxYieldMs: number; now?: () => number }): BacklogGate {
  const now = opts.now ?? (() => performance.now())
  let liveBusy = 0
  let waiters: Array<() => void> = []
  let yields = 0
  let yieldedMs = 0
  const wake = (): void => { const w = waiters; waiters = []; for (const f of w) f() }
  return {
    liveStart () { liveBusy++ },
    liveEnd () { liveBusy = Math.max(0, liveBusy - 1); if (liveBusy === 0) wake() },
    async backlogTurn (liveWaiting) {
      if (liveBusy === 0 && !liveWaiting()) return
      yields++
      const t0 = now()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, opts.maxYieldMs)
        function done (): void { clearTimeout(timer); resolve() }
        waiters.push(done)
      })
      yieldedMs += now() - t0
    },
    stats: () => ({ yields, yieldedMs: Math.round(yieldedMs) })
  }
}
