// Time for the jobs service: a clock plus setTimeout semantics behind one small interface, so
// that windows, rollout rates and thresholds are tested by driving a fake clock, never by sleeping.
import type { Clock } from '../types.js'

export interface TimerHandle { readonly id: number }

export interface Scheduler {
  now(): number
  /** Calls `fn` once, `ms` from now (negative or zero: on the next turn). */
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle | undefined): void
}

/** Real timers over an injected clock (hub.clock). Timers are unref'd: they never keep a process alive. */
export function createScheduler (deps: { clock: Clock }): Scheduler {
  const timers = new Map<number, NodeJS.Timeout>()
  let seq = 0
  return {
    now: () => deps.clock.now(),
    setTimeout (fn, ms) {
      const id = ++seq
      // Node clamps delays above 2^31-1 ms to 1 ms: wake at most every ~24 days and let the caller re-check.
      const t = setTimeout(() => { timers.delete(id); fn() }, Math.max(0, Math.min(ms, 0x7fffffff)))
      t.unref()
      timers.set(id, t)
      return { id }
    },
    clearTimeout (handle) {
      if (handle === undefined) return
      const t = timers.get(handle.id)
      if (t !== undefined) { clearTimeout(t); timers.delete(handle.id) }
    }
  }
}

export interface FakeScheduler extends Scheduler, Clock {
  /** Moves time forward by `ms`, firing due timers in time order (each sees its own `now`). */
  advance(ms: number): Promise<void>
  /** Sets the absolute time (must not go backwards) and fires due timers. */
  set(epochMs: number): Promise<void>
  /** Timers not yet fired. */
  pending(): number
}

/** A manual clock with timers, for tests. Between timers it yields to the event loop so awaited work settles. */
export function createFakeScheduler (startMs: number): FakeScheduler {
  let t = startMs
  let seq = 0
  const timers = new Map<number, { at: number; fn: () => void }>()
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  async function runUntil (target: number): Promise<void> {
    await settle()
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined
      for (const e of timers) if (e[1].at <= target && (next === undefined || e[1].at < next[1].at || (e[1].at === next[1].at && e[0] < next[0]))) next = e
      if (next === undefined) break
      timers.delete(next[0])
      t = Math.max(t, next[1].at)
      next[1].fn()
      await settle()
    }
    t = target
    await settle()
  }
  return {
    now: () => t,
    setTimeout (fn, ms) {
      const id = ++seq
      timers.set(id, { at: t + Math.max(0, ms), fn })
      return { id }
    },
    clearTimeout (handle) { if (handle !== undefined) timers.delete(handle.id) },
    advance: (ms) => runUntil(t + ms),
    async set (epochMs) {
      if (epochMs < t) throw new Error('the fake clock cannot go backwards')
      await runUntil(epochMs)
    },
    pending: () => timers.size
  }
}
