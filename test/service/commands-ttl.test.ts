// Offline command queue, core level with an injected clock (docs/commands.md): TTL expiry is
// driven by the hub clock, so nothing here sleeps for a TTL. A fake connection stands in for
// the device (the SDK round trip is in commands-queue.test.ts).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub, type Hub } from '../../src/main/hub/index.js'
import { createMemoryStore } from '../../src/main/hub/store/memory-store.js'
import type { DeviceConnection, HubEvents, MethodRequest } from '../../src/main/hub/types.js'

const T0 = Date.UTC(2024, 5, 1, 8, 0, 0)
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function makeHub (): Promise<{ hub: Hub; advance: (ms: number) => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-cmd-'))
  let now = T0
  const hub = await createHub({
    config: { dataDir: dir, hostName: 'hub.local', bind: '127.0.0.1', mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'edge' },
    store: createMemoryStore(),
    clock: { now: () => now },
    commands: { sweepIntervalMs: 0, connectGraceMs: 0 },
    configurations: { intervalMs: 0 }
  })
  cleanups.push(async () => { await hub.close(); rmSync(dir, { recursive: true, force: true }) })
  return { hub, advance: (ms) => { now += ms } }
}

/** A device connection that answers every method with `answer` (or never, when null). */
function fakeDevice (hub: Hub, deviceId: string, answer: ((r: MethodRequest) => { status: number; payload: unknown }) | null): { conn: DeviceConnection; calls: MethodRequest[] } {
  const calls: MethodRequest[] = []
  const conn: DeviceConnection = {
    identity: { deviceId }, key: deviceId, transport: 'mqtt', remote: 'test', connectedAt: new Date(T0).toISOString(),
    sendMethodRequest (req) {
      calls.push(req)
      if (answer) {
        const r = answer(req)
        setImmediate(() => hub.methods.handleResponse({ deviceId }, req.requestId, r.status, r.payload as never))
      }
    },
    sendDesiredPatch () {},
    sendC2d: async () => {},
    close () {}
  }
  return { conn, calls }
}

function connect (hub: Hub, conn: DeviceConnection): void {
  hub.connections.attach(conn, { cleanSession: true })
  hub.connections.subscribe(conn, 'methods', true)
}

async function until<T> (fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v) return v
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('offline command queue with an injected clock', () => {
  it('expires a queued command when its TTL passes on the hub clock, never sending it', async () => {
    const { hub, advance } = await makeHub()
    await hub.registry.create({ deviceId: 'ttl-1' })
    const events: Array<HubEvents['command.stateChanged']> = []
    hub.events.on('command.stateChanged', (e) => events.push(e))
    const c = await hub.commands.enqueue({ deviceId: 'ttl-1' }, { methodName: 'reboot', payload: { delay: 1 }, ttlInSeconds: 600 })
    expect(c).toMatchObject({ status: 'queued', attempts: 0, ttlInSeconds: 600, expiryTimeUtc: new Date(T0 + 600_000).toISOString() })
    advance(599_000)
    expect(await hub.commands.sweep()).toBe(0)
    expect(hub.commands.get(c.commandId)?.status).toBe('queued')
    advance(1000)
    expect(await hub.commands.sweep()).toBe(1)
    const expired = hub.commands.get(c.commandId)
    expect(expired).toMatchObject({ status: 'expired', attempts: 0, endTimeUtc: new Date(T0 + 600_000).toISOString(), error: { code: 'Expired' } })
    expect(events.map((e) => [e.previousStatus, e.status])).toEqual([[null, 'queued'], ['queued', 'expired']])
    // Connecting later delivers nothing.
    const dev = fakeDevice(hub, 'ttl-1', () => ({ status: 200, payload: null }))
    connect(hub, dev.conn)
    await new Promise((r) => setTimeout(r, 50))
    expect(dev.calls).toEqual([])
    expect(hub.commands.list({ identity: { deviceId: 'ttl-1' }, status: 'expired' })).toHaveLength(1)
  })

  it('does not deliver a command whose TTL passed before the device connected, even without a sweep', async () => {
    const { hub, advance } = await makeHub()
    await hub.registry.create({ deviceId: 'ttl-2' })
    const old = await hub.commands.enqueue({ deviceId: 'ttl-2' }, { methodName: 'old', ttlInSeconds: 60 })
    advance(30_000)
    const fresh = await hub.commands.enqueue({ deviceId: 'ttl-2' }, { methodName: 'fresh', ttlInSeconds: 60 })
    advance(31_000) // old is past its TTL, fresh is not
    const dev = fakeDevice(hub, 'ttl-2', (r) => ({ status: 200, payload: { ran: r.methodName } }))
    connect(hub, dev.conn)
    await until(() => hub.commands.get(fresh.commandId)?.status === 'succeeded')
    expect(dev.calls.map((c) => c.methodName)).toEqual(['fresh'])
    expect(hub.commands.get(old.commandId)?.status).toBe('expired')
    expect(hub.commands.get(fresh.commandId)).toMatchObject({ attempts: 1, response: { status: 200, payload: { ran: 'fresh' } } })
  })

  it('delivers in order one at a time, records failures, and cancels only queued commands', async () => {
    const { hub } = await makeHub()
    await hub.registry.create({ deviceId: 'ord' })
    const a = await hub.commands.enqueue({ deviceId: 'ord' }, { methodName: 'a' })
    const b = await hub.commands.enqueue({ deviceId: 'ord' }, { methodName: 'b', payload: [1, 2] })
    const c = await hub.commands.enqueue({ deviceId: 'ord' }, { methodName: 'c' })
    const cancelled = await hub.commands.cancel(c.commandId, 'changed my mind')
    expect(cancelled).toMatchObject({ status: 'cancelled', statusReason: 'changed my mind' })
    await expect(hub.commands.cancel(c.commandId)).rejects.toMatchObject({ httpStatus: 409, errorName: 'CommandNotCancellable' })
    await expect(hub.commands.cancel('nope')).rejects.toMatchObject({ httpStatus: 404, errorName: 'CommandNotFound' })
    const dev = fakeDevice(hub, 'ord', (r) => (r.methodName === 'b' ? { status: 500, payload: 'broken' } : { status: 200, payload: null }))
    connect(hub, dev.conn)
    await until(() => hub.commands.get(b.commandId)?.status === 'failed')
    expect(dev.calls.map((x) => [x.methodName, x.payloadJson])).toEqual([['a', 'null'], ['b', '[1,2]']])
    expect(hub.commands.get(a.commandId)?.status).toBe('succeeded')
    expect(hub.commands.get(b.commandId)).toMatchObject({ response: { status: 500, payload: 'broken' }, statusReason: expect.stringContaining('500') })
    expect(hub.commands.list({ identity: { deviceId: 'ord' } }).map((x) => x.methodName)).toEqual(['c', 'b', 'a'])
    expect(hub.commands.stats()).toMatchObject({ succeeded: 1, failed: 1, cancelled: 1, queued: 0 })
  })

  it('validates input and limits the queue depth', async () => {
    const { hub } = await makeHub()
    await hub.registry.create({ deviceId: 'val' })
    await expect(hub.commands.enqueue({ deviceId: 'ghost' }, { methodName: 'x' })).rejects.toMatchObject({ errorName: 'DeviceNotFound' })
    await expect(hub.commands.enqueue({ deviceId: 'val' }, { methodName: 'bad name' })).rejects.toMatchObject({ errorName: 'ArgumentInvalid' })
    await expect(hub.commands.enqueue({ deviceId: 'val' }, { methodName: 'x', ttlInSeconds: 0 })).rejects.toMatchObject({ errorName: 'ArgumentInvalid' })
    await expect(hub.commands.enqueue({ deviceId: 'val' }, { methodName: 'x', responseTimeoutInSeconds: 1 })).rejects.toMatchObject({ errorName: 'ArgumentInvalid' })
    await hub.commands.enqueue({ deviceId: 'val' }, { methodName: 'x', commandId: 'mine-1' })
    await expect(hub.commands.enqueue({ deviceId: 'val' }, { methodName: 'x', commandId: 'mine-1' })).rejects.toMatchObject({ httpStatus: 409 })
    for (let i = 1; i < 50; i++) await hub.commands.enqueue({ deviceId: 'val' }, { methodName: 'x' })
    await expect(hub.commands.enqueue({ deviceId: 'val' }, { methodName: 'x' })).rejects.toMatchObject({ errorName: 'DeviceMaximumQueueDepthExceeded' })
  })

  it('fails queued commands of a deleted device', async () => {
    const { hub } = await makeHub()
    await hub.registry.create({ deviceId: 'gone' })
    const c = await hub.commands.enqueue({ deviceId: 'gone' }, { methodName: 'x' })
    await hub.registry.remove({ deviceId: 'gone' })
    await until(() => hub.commands.get(c.commandId)?.status === 'failed')
    expect(hub.commands.get(c.commandId)?.error?.code).toBe('DeviceNotFound')
  })
})
