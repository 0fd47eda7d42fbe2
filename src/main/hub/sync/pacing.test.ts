import { describe, expect, it } from 'vitest'
import { createBacklogGate, createOpenLimiter } from './pacing.js'

const deferred = (): { promise: Promise<void>; resolve: () => void } => {
  let resolve = (): void => {}
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('open limiter', () => {
  it('runs at most max at a time and serves live openers before bulk ones', async () => {
    const lim = createOpenLimiter(2)
    const order: string[] = []
    const gates = new Map<string, { promise: Promise<void>; resolve: () => void }>()
    const open = (key: string, prio: 'live' | 'bulk'): Promise<void> => lim.run(key, prio, async () => {
      order.push(key)
      const d = deferred()
      gates.set(key, d)
      await d.promise
    })
    const all = [open('b1', 'bulk'), open('b2', 'bulk'), open('b3', 'bulk'), open('b4', 'bulk'), open('l1', 'live')]
    await tick()
    expect(order).toEqual(['b1', 'b2'])
    expect(lim.stats()).toEqual({ running: 2, live: 1, bulk: 2 })
    lim.promote('b4') // a live caller now needs b4's link: it jumps the bulk queue
    gates.get('b1')?.resolve()
    await tick()
    expect(order).toEqual(['b1', 'b2', 'l1'])
    gates.get('b2')?.resolve()
    await tick()
    expect(order).toEqual(['b1', 'b2', 'l1', 'b4'])
    for (const k of ['l1', 'b4']) gates.get(k)?.resolve()
    await tick()
    gates.get('b3')?.resolve()
    await Promise.all(all)
    expect(order).toEqual(['b1', 'b2', 'l1', 'b4', 'b3'])
    expect(lim.stats()).toEqual({ running: 0, live: 0, bulk: 0 })
  })

  it('frees the slot when an open fails', async () => {
    const lim = createOpenLimiter(1)
    await expect(lim.run('x', 'bulk', async () => { throw new Error('refused') })).rejects.toThrow('refused')
    await expect(lim.run('y', 'live', async () => 7)).resolves.toBe(7)
  })
})

describe('backlog gate', () => {
  it('lets the backlog go at once when nothing live waits', async () => {
    const gate = createBacklogGate({ maxYieldMs: 60_000 })
    await gate.backlogTurn(() => false)
    expect(gate.stats().yields).toBe(0)
  })

  it('yields while a live batch is in flight, until it ends', async () => {
    const gate = createBacklogGate({ maxYieldMs: 60_000 })
    gate.liveStart()
    let passed = false
    const turn = gate.backlogTurn(() => false).then(() => { passed = true })
    await tick()
    expect(passed).toBe(false)
    gate.liveEnd()
    await turn
    expect(passed).toBe(true)
    expect(gate.stats().yields).toBe(1)
  })

  it('never starves the backlog: a yield ends after maxYieldMs under steady live load', async () => {
    const gate = createBacklogGate({ maxYieldMs: 20 })
    gate.liveStart() // never ends
    await gate.backlogTurn(() => true)
    expect(gate.stats().yields).toBe(1)
  })
})
