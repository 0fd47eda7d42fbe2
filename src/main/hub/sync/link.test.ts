import { describe, expect, it } from 'vitest'
import { createLink } from './link.js'
import type { LinkState } from './types.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('sync link state machine', () => {
  it('connecting -> online; degraded on one failed heartbeat; offline after two; backs off and recovers', async () => {
    let healthy = true
    let probes = 0
    const seen: LinkState[] = []
    const link = createLink({
      probe: async () => { probes++; if (!healthy) throw new Error('no answer') },
      onState: (s) => seen.push(s),
      heartbeatMs: 20, failuresToOffline: 2, minBackoffMs: 20, maxBackoffMs: 80, random: () => 1
    })
    link.start()
    await sleep(60)
    expect(seen).toEqual(['connecting', 'online'])
    healthy = false
    await sleep(150)
    expect(seen.slice(0, 4)).toEqual(['connecting', 'online', 'degraded', 'offline'])
    expect(link.attempts()).toBeGreaterThan(0)
    const before = probes
    await sleep(200)
    // backoff capped at 80 ms: a handful of retries, not one every heartbeat
    expect(probes - before).toBeLessThan(8)
    healthy = true
    await sleep(200)
    expect(link.state).toBe('online')
    expect(link.attempts()).toBe(0)
    link.stop()
    expect(link.state).toBe('offline')
  })

  it('jitter spreads retries: the wait is random within the exponential cap', async () => {
    const waits: number[] = []
    let last = Date.now()
    const link = createLink({
      probe: async () => { const now = Date.now(); waits.push(now - last); last = now; throw new Error('down') },
      onState: () => {}, heartbeatMs: 10, failuresToOffline: 1, minBackoffMs: 10, maxBackoffMs: 40, random: () => 0.5
    })
    link.start()
    await sleep(200)
    link.stop()
    // with random = 0.5 the waits are 10, 20, 20, 20 ... (half of min(40, 10 * 2^n), floored at 5)
    expect(waits.length).toBeGreaterThan(4)
    expect(Math.max(...waits.slice(2))).toBeLessThan(60)
  })
})
