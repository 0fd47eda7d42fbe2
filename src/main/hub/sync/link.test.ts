// The link state machine on a fake clock: exact heartbeat and reconnect schedules (backoff with
// full jitter), the dead-link detection bound, recovery. No wall-clock timing.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, createLink } from './link.js'
import type { LinkState } from './types.js'

/** A scripted random source: returns `draws` in turn (then repeats the last). */
const scripted = (draws: number[]): (() => number) => { let i = 0; return () => draws[Math.min(i++, draws.length - 1)] as number }

describe('backoffDelay: exponential with full jitter', () => {
  it('the cap doubles per attempt from minMs up to maxMs; the wait is random() of the cap', () => {
    const seq = (r: number): number[] => Array.from({ length: 9 }, (_, i) => backoffDelay(i + 1, 500, 30_000, () => r))
    // random() close to 1: the caps themselves (1 s, 2 s, 4 s ... 30 s, then flat)
    expect(seq(0.999999)).toEqual([999, 1999, 3999, 7999, 15999, 29999, 29999, 29999, 29999])
    // random() = 0.5: half of each cap
    expect(seq(0.5)).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000])
    // random() = 0: never below minMs / 2, so bad luck cannot hammer the cloud
    expect(seq(0)).toEqual([250, 250, 250, 250, 250, 250, 250, 250, 250])
    // huge attempt counts stay at the cap (no overflow to Infinity/NaN)
    expect(backoffDelay(10_000, 500, 30_000, () => 0.5)).toBe(15000)
  })

  it('full jitter: waits are spread over the whole range below the cap, so edges retrying together de-synchronise', () => {
    const cap = 16_000 // attempt 5 with 500 ms / 30 s
    const waits = Array.from({ length: 4000 }, () => backoffDelay(5, 500, 30_000))
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(250)
    expect(Math.max(...waits)).toBeLessThan(cap)
    // every quarter of the range is hit (probability of missing one: (3/4)^4000)
    for (let q = 0; q < 4; q++) expect(waits.some((w) => w >= (q * cap) / 4 && w < ((q + 1) * cap) / 4)).toBe(true)
    expect(new Set(waits).size).toBeGreaterThan(1000)
    // two edges with different draws for the same attempt wait differently
    expect(backoffDelay(3, 500, 30_000, scripted([0.2]))).not.toBe(backoffDelay(3, 500, 30_000, scripted([0.7])))
  })
})

describe('sync link state machine (fake clock)', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 0 }) })
  afterEach(() => { vi.useRealTimers() })

  it('heartbeat while online, degraded on one failure, offline after two, then reconnects on the jittered backoff schedule and recovers', async () => {
    let healthy = true
    const probes: number[] = []
    const states: Array<[LinkState, number]> = []
    const link = createLink({
      probe: async () => { probes.push(Date.now()); if (!healthy) throw new Error('no answer') },
      onState: (s) => states.push([s, Date.now()]),
      heartbeatMs: 2000, failuresToOffline: 2, minBackoffMs: 500, maxBackoffMs: 4000,
      random: scripted([0.5, 0.5, 0.9, 0.1, 0.99])
    })
    link.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(link.state).toBe('online')
    await vi.advanceTimersByTimeAsync(1999)
    expect(probes).toEqual([0]) // next heartbeat at 2000
    healthy = false
    await vi.advanceTimersByTimeAsync(12_460 - 1999)
    // 2000: first failed heartbeat (degraded), 3000: second (offline, attempt 1),
    // then waits of 0.5*1000, 0.5*2000, 0.9*4000, 0.1*4000, 0.99*4000 (cap 4 s)
    expect(probes).toEqual([0, 2000, 3000, 3500, 4500, 8100, 8500, 12_460])
    expect(link.attempts()).toBe(6)
    expect(link.nextRetryAt()).toBe(12_460 + 3960)
    healthy = true
    await vi.advanceTimersByTimeAsync(3960)
    expect(link.state).toBe('online')
    expect(link.attempts()).toBe(0)
    expect(link.nextRetryAt()).toBeNull()
    expect(states).toEqual([
      ['connecting', 0], ['online', 0], ['degraded', 2000], ['offline', 3000],
      ['connecting', 3500], ['offline', 3500], ['connecting', 4500], ['offline', 4500],
      ['connecting', 8100], ['offline', 8100], ['connecting', 8500], ['offline', 8500],
      ['connecting', 12_460], ['offline', 12_460], ['connecting', 16_420], ['online', 16_420]
    ])
    // back online: the heartbeat resumes every 2 s
    await vi.advanceTimersByTimeAsync(4000)
    expect(probes.slice(-3)).toEqual([16_420, 18_420, 20_420])
    link.stop()
    expect(link.state).toBe('offline')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(probes.at(-1)).toBe(20_420) // stopped: no more probes
  })

  it('a black-holed link (probes hang until the request timeout) is offline within heartbeat + 1 s + 2 x timeout of the last good answer', async () => {
    // The production probe is GET /statistics/devices with requestTimeoutMs; a black hole
    // answers nothing, so each probe ends with the client's timeout.
    const timeoutMs = 3000
    let dead = false
    let offlineAt: number | null = null
    const link = createLink({
      probe: () => new Promise<void>((resolve, reject) => {
        if (!dead) { resolve(); return }
        setTimeout(() => reject(new Error('request timed out')), timeoutMs)
      }),
      onState: (s) => { if (s === 'offline') offlineAt ??= Date.now() },
      heartbeatMs: 2000, failuresToOffline: 2, random: () => 0.5
    })
    link.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(link.state).toBe('online')
    // cut right after a good heartbeat (the worst case)
    await vi.advanceTimersByTimeAsync(1)
    dead = true
    await vi.advanceTimersByTimeAsync(20_000)
    // 2000 next beat, +3000 timeout (degraded), +1000 retry, +3000 timeout: offline at 9000
    expect(offlineAt).toBe(9000)
    link.stop()
  })

  it('suspect(): another part that saw the link fail triggers a probe at once instead of waiting for the heartbeat', async () => {
    let healthy = true
    const probes: number[] = []
    const link = createLink({
      probe: async () => { probes.push(Date.now()); if (!healthy) throw new Error('down') },
      onState: () => {}, heartbeatMs: 2000, failuresToOffline: 2, random: () => 0.5
    })
    link.start()
    await vi.advanceTimersByTimeAsync(500)
    healthy = false
    link.suspect('device link closed')
    expect(link.state).toBe('degraded')
    await vi.advanceTimersByTimeAsync(0)
    expect(probes).toEqual([0, 500])
    await vi.advanceTimersByTimeAsync(1000)
    expect(probes).toEqual([0, 500, 1500])
    expect(link.state).toBe('offline')
    // suspect() while offline changes nothing (the backoff decides)
    link.suspect('again')
    expect(link.state).toBe('offline')
    link.stop()
  })
})
