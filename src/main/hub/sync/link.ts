// The link state machine: offline -> connecting -> online <-> degraded -> offline.
// A heartbeat (GET /statistics/devices) every `heartbeatMs` with a short timeout detects a
// dead link within heartbeatMs * failuresToOffline + timeout; a failure while online makes the
// link degraded, `failuresToOffline` in a row make it offline. Reconnects back off
// exponentially with full jitter between `minBackoffMs` and `maxBackoffMs`.
import type { LinkState } from './types.js'

export interface LinkOptions {
  probe: () => Promise<void>
  onState: (state: LinkState, previous: LinkState, reason: string) => void
  heartbeatMs?: number
  failuresToOffline?: number
  minBackoffMs?: number
  maxBackoffMs?: number
  random?: () => number
}

export interface Link {
  readonly state: LinkState
  start(): void
  stop(): void
  /** Something else (a device connection, a request) saw the link fail: probe now. */
  suspect(reason: string): void
  attempts(): number
  nextRetryAt(): number | null
}

/**
 * The wait before reconnect attempt `attempt` (1 = the first retry): exponential with full
 * jitter, `random() * min(maxMs, minMs * 2^attempt)`, never below `minMs / 2` (so a run of
 * unlucky draws cannot hammer the cloud) and never above the cap.
 */
export function backoffDelay (attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt, 0), 20))
  return Math.max(minMs / 2, Math.floor(random() * cap))
}

export function createLink (opts: LinkOptions): Link {
  const heartbeatMs = opts.heartbeatMs ?? 2000
  const failuresToOffline = opts.failuresToOffline ?? 2
  const minBackoff = opts.minBackoffMs ?? 500
  const maxBackoff = opts.maxBackoffMs ?? 30_000
  const random = opts.random ?? Math.random
  let state: LinkState = 'offline'
  let timer: NodeJS.Timeout | null = null
  let running = false
  let failures = 0
  let attempt = 0
  let retryAt: number | null = null
  let probing = false

  const set = (next: LinkState, reason: string): void => {
    if (next === state) return
    const prev = state
    state = next
    opts.onState(next, prev, reason)
  }
  const schedule = (ms: number, fn: () => void): void => {
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(fn, ms)
    timer.unref?.()
  }
  const backoff = (): number => backoffDelay(attempt, minBackoff, maxBackoff, random)

  const tick = (): void => {
    if (!running || probing) return
    probing = true
    if (state === 'offline') set('connecting', 'retrying')
    opts.probe().then(() => {
      probing = false
      if (!running) return
      failures = 0
      attempt = 0
      retryAt = null
      set('online', 'heartbeat ok')
      schedule(heartbeatMs, tick)
    }, (err: Error) => {
      probing = false
      if (!running) return
      failures++
      if (state === 'online' && failures < failuresToOffline) {
        set('degraded', err.message)
        schedule(Math.min(heartbeatMs, 1000), tick)
        return
      }
      if (state === 'degraded' && failures < failuresToOffline) {
        schedule(Math.min(heartbeatMs, 1000), tick)
        return
      }
      set('offline', err.message)
      attempt++
      const wait = backoff()
      retryAt = Date.now() + wait
      schedule(wait, tick)
    })
  }

  return {
    get state () { return state },
    start () {
      if (running) return
      running = true
      schedule(0, tick)
    },
    stop () {
      running = false
      if (timer !== null) clearTimeout(timer)
      timer = null
      set('offline', 'stopped')
    },
    suspect (reason) {
      if (!running || probing || state === 'offline' || state === 'connecting') return
      set('degraded', reason)
      schedule(0, tick)
    },
    attempts: () => attempt,
    nextRetryAt: () => retryAt
  }
}
