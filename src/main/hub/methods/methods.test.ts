import { describe, expect, it } from 'vitest'
import { createConnectionManager } from '../connections.js'
import { createEventBus } from '../events.js'
import { silentLogger } from '../logger.js'
import { createMemoryStore } from '../store/memory-store.js'
import type { C2dMessage, DeviceConnection, MethodRequest } from '../types.js'
import { createC2dService } from '../c2d/c2d.js'
import { createMethodService } from './methods.js'

function fakeConnection (deviceId: string) {
  const sent: MethodRequest[] = []
  const c2d: C2dMessage[] = []
  let acks: Array<() => void> = []
  const conn: DeviceConnection & { closedWith?: string } = {
    identity: { deviceId },
    key: deviceId,
    transport: 'mqtt',
    remote: 'test',
    connectedAt: new Date().toISOString(),
    sendMethodRequest: (r) => { sent.push(r) },
    sendDesiredPatch: () => {},
    sendC2d: (m) => new Promise<void>((resolve) => { c2d.push(m); acks.push(resolve) }),
    close (reason) { conn.closedWith = reason }
  }
  return { conn, sent, c2d, ackAll: () => { const a = acks; acks = []; a.forEach((f) => f()) } }
}

function setup () {
  const store = createMemoryStore()
  const events = createEventBus()
  const clock = { now: () => Date.now() }
  const connections = createConnectionManager({ store, events, clock, logger: silentLogger })
  const known = new Set(['d1', 'd2'])
  const exists = (i: { deviceId: string }) => known.has(i.deviceId)
  const methods = createMethodService({ connections, events, exists })
  return { store, events, connections, methods, clock, exists }
}

describe('direct methods (C.5, A.8)', () => {
  it('round-trips and sends a null payload as `null`', async () => {
    const { connections, methods } = setup()
    const f = fakeConnection('d1')
    connections.attach(f.conn, { cleanSession: true })
    connections.subscribe(f.conn, 'methods', true)
    const p = methods.invoke({ deviceId: 'd1' }, { methodName: 'reboot' })
    await new Promise((r) => setImmediate(r))
    expect(f.sent).toHaveLength(1)
    expect(f.sent[0]!.payloadJson).toBe('null')
    // another device cannot answer d1's request
    expect(methods.handleResponse({ deviceId: 'd2' }, f.sent[0]!.requestId, 200, 1)).toBe(false)
    expect(methods.handleResponse({ deviceId: 'd1' }, f.sent[0]!.requestId, 201, { ok: true })).toBe(true)
    await expect(p).resolves.toEqual({ status: 201, payload: { ok: true } })
    expect(methods.pendingCount()).toBe(0)
  })

  it('404103 when offline or not subscribed, 404001 when unknown, 400 on bad names and timeouts', async () => {
    const { connections, methods } = setup()
    await expect(methods.invoke({ deviceId: 'd1' }, { methodName: 'm' })).rejects.toMatchObject({ code: 404103 })
    const f = fakeConnection('d1')
    connections.attach(f.conn, { cleanSession: true })
    await expect(methods.invoke({ deviceId: 'd1' }, { methodName: 'm' })).rejects.toMatchObject({ code: 404103 })
    await expect(methods.invoke({ deviceId: 'zz' }, { methodName: 'm' })).rejects.toMatchObject({ code: 404001 })
    await expect(methods.invoke({ deviceId: 'd1' }, { methodName: 'bad name' })).rejects.toMatchObject({ code: 400004 })
    await expect(methods.invoke({ deviceId: 'd1' }, { methodName: 'm', responseTimeoutInSeconds: 1 })).rejects.toMatchObject({ code: 400004 })
  })

  it('waits up to connectTimeout for the device to subscribe', async () => {
    const { connections, methods } = setup()
    const f = fakeConnection('d1')
    const p = methods.invoke({ deviceId: 'd1' }, { methodName: 'm', connectTimeoutInSeconds: 5 })
    connections.attach(f.conn, { cleanSession: false })
    connections.subscribe(f.conn, 'methods', true)
    await new Promise((r) => setImmediate(r))
    methods.handleResponse({ deviceId: 'd1' }, f.sent[0]!.requestId, 200, null)
    await expect(p).resolves.toEqual({ status: 200, payload: null })
  })

  it('keeps one connection per identity and persists clean=false subscriptions', async () => {
    const { connections } = setup()
    const a = fakeConnection('d1')
    const b = fakeConnection('d1')
    connections.attach(a.conn, { cleanSession: false })
    connections.subscribe(a.conn, 'desired', true)
    connections.attach(b.conn, { cleanSession: false })
    expect(a.conn.closedWith).toMatch(/400027/)
    connections.detach(a.conn, 'closed') // stale detach is ignored
    expect(connections.isConnected({ deviceId: 'd1' })).toBe(true)
    expect(connections.subscriptions({ deviceId: 'd1' }).desired).toBe(true)
    connections.attach(fakeConnection('d1').conn, { cleanSession: true })
    expect(connections.subscriptions({ deviceId: 'd1' }).desired).toBe(false)
  })
})

describe('cloud-to-device queue (A.6)', () => {
  it('queues while offline, delivers in order on subscribe, completes on ack, caps at 50', async () => {
    const { store, events, connections, clock, exists } = setup()
    const c2d = createC2dService({ store, connections, events, clock, logger: silentLogger, exists })
    await c2d.send({ deviceId: 'd1' }, { body: 'one', properties: { a: '1' } })
    await c2d.send({ deviceId: 'd1' }, { body: 'two' })
    expect(c2d.pending({ deviceId: 'd1' })).toHaveLength(2)
    const f = fakeConnection('d1')
    connections.attach(f.conn, { cleanSession: false })
    connections.subscribe(f.conn, 'c2d', true)
    c2d.pump({ deviceId: 'd1' })
    await new Promise((r) => setImmediate(r))
    expect(f.c2d.map((m) => Buffer.from(m.body, 'base64').toString())).toEqual(['one'])
    f.ackAll()
    await new Promise((r) => setTimeout(r, 10))
    f.ackAll()
    await new Promise((r) => setTimeout(r, 10))
    expect(f.c2d.map((m) => Buffer.from(m.body, 'base64').toString())).toEqual(['one', 'two'])
    expect(c2d.pending({ deviceId: 'd1' })).toHaveLength(0)
    connections.detach(f.conn, 'gone')
    for (let i = 0; i < 50; i++) await c2d.send({ deviceId: 'd2' }, { body: String(i) })
    await expect(c2d.send({ deviceId: 'd2' }, { body: 'x' })).rejects.toMatchObject({ code: 403004 })
    await expect(c2d.send({ deviceId: 'nobody' }, { body: 'x' })).rejects.toMatchObject({ code: 404001 })
  })
})
