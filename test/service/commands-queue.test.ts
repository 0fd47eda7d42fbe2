// Offline command queue over the REST extension (docs/commands.md) with azure-iot-device
// clients: queued while offline, delivered on connect, results, cancel, restart persistence.
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import type { CommandRecord } from '../../src/main/hub/commands/types.js'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'

const require = createRequire(import.meta.url)
const { Client: DeviceClient } = require('azure-iot-device') as typeof import('azure-iot-device')
const { Mqtt } = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt')

let hub: ServiceHub
let ca: string
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  hub = await startServiceHub()
  ca = readFileSync(hub.endpoints.caFile).toString()
})
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {})
  await hub?.close()
})

function rest (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const p = hub.hub.registry.policies.get('service')!
  const auth = createSasToken({ resource: hub.ip, key: p.primaryKey, expiry: Math.floor(Date.now() / 1000) + 3600, keyName: 'service', encodeResource: false })
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Authorization: auth }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const req = request({ host: hub.ip, port: 443, method, path: `${path}${path.includes('?') ? '&' : '?'}api-version=2021-04-12`, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) })
      })
    })
    req.on('error', reject)
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body))
    req.end()
  })
}

async function openDevice (deviceId: string, methods: Record<string, (payload: unknown) => { status: number; payload: unknown } | null>) {
  const client = DeviceClient.fromConnectionString(hub.hub.registry.deviceConnectionString({ deviceId }), Mqtt)
  client.on('error', () => {})
  await client.setOptions({ ca } as never)
  closers.push(() => client.close())
  for (const [name, fn] of Object.entries(methods)) {
    client.onDeviceMethod(name, (req, res) => {
      const r = fn(req.payload)
      if (r) void res.send(r.status, r.payload as never)
    })
  }
  await client.open()
  return client
}

async function until (commandId: string, status: string, ms = 30_000): Promise<CommandRecord> {
  const end = Date.now() + ms
  for (;;) {
    const r = await rest('GET', `/commands/${encodeURIComponent(commandId)}`)
    if (r.body?.status === status) return r.body as CommandRecord
    if (Date.now() > end) throw new Error(`command ${commandId} is ${String(r.body?.status)}, not ${status}`)
    await new Promise((res) => setTimeout(res, 50))
  }
}

describe('offline command queue over REST with SDK devices', () => {
  it('queues for an offline device, delivers on connect and records the result; times out a silent device', async () => {
    await hub.hub.registry.create({ deviceId: 'cq-1' })
    const states: string[] = []
    hub.hub.events.on('command.stateChanged', (e) => { if (e.deviceId === 'cq-1') states.push(`${e.methodName}:${e.status}`) })
    const q = await rest('POST', '/twins/cq-1/commands', { methodName: 'reboot', payload: { delay: 0 }, ttlInSeconds: 300 })
    expect(q.status).toBe(201)
    expect(q.body).toMatchObject({ deviceId: 'cq-1', methodName: 'reboot', payload: { delay: 0 }, status: 'queued', ttlInSeconds: 300, responseTimeoutInSeconds: 30, idempotent: false, attempts: 0 })
    const silent = await rest('POST', '/twins/cq-1/commands', { methodName: 'silent', responseTimeoutInSeconds: 5 })
    expect((await rest('GET', '/twins/cq-1/commands?status=queued')).body.map((c: CommandRecord) => c.methodName)).toEqual(['silent', 'reboot'])

    const seen: unknown[] = []
    await openDevice('cq-1', {
      reboot: (p) => { seen.push(p); return { status: 200, payload: { rebooted: true } } },
      silent: () => null
    })
    const done = await until(q.body.commandId, 'succeeded')
    expect(done).toMatchObject({ attempts: 1, response: { status: 200, payload: { rebooted: true } } })
    expect(typeof done.startTimeUtc).toBe('string')
    expect(typeof done.endTimeUtc).toBe('string')
    expect(seen).toEqual([{ delay: 0 }])
    const timedOut = await until(silent.body.commandId, 'timed_out', 20_000)
    expect(timedOut.error?.code).toBe('GatewayTimeout')
    await new Promise((r) => setTimeout(r, 100)) // the event follows the durable write
    expect(states).toEqual(['reboot:queued', 'silent:queued', 'reboot:in_progress', 'reboot:succeeded', 'silent:in_progress', 'silent:timed_out'])
    // Sent to an online device: delivered at once; a device error status is a failure with the answer kept.
    const failing = await rest('POST', '/twins/cq-1/commands', { methodName: 'reboot', payload: 'again' })
    expect((await until(failing.body.commandId, 'succeeded')).response?.payload).toEqual({ rebooted: true })
    const all = await rest('GET', '/commands?deviceId=cq-1&status=succeeded,timed_out')
    expect(all.body).toHaveLength(3)
  }, 60_000)

  it('cancels a queued command and answers with IoT Hub error bodies', async () => {
    await hub.hub.registry.create({ deviceId: 'cq-2' })
    const q = await rest('POST', '/twins/cq-2/commands', { methodName: 'factoryReset', commandId: 'reset-cq-2' })
    expect(q.body.commandId).toBe('reset-cq-2')
    const c = await rest('POST', '/commands/reset-cq-2/cancel', { reason: 'wrong device' })
    expect(c.status).toBe(200)
    expect(c.body).toMatchObject({ status: 'cancelled', statusReason: 'wrong device' })
    const again = await rest('POST', '/commands/reset-cq-2/cancel')
    expect(again.status).toBe(409)
    expect(again.body.Message).toMatch(/^ErrorCode:CommandNotCancellable;/)
    const missing = await rest('GET', '/commands/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.Message).toMatch(/^ErrorCode:CommandNotFound;/)
    const noDevice = await rest('POST', '/twins/ghost/commands', { methodName: 'x' })
    expect(noDevice.status).toBe(404)
    expect(noDevice.body.errorCode).toBe(404001)
    const bad = await rest('POST', '/twins/cq-2/commands', { methodName: 'x', ttlInSeconds: -1 })
    expect(bad.status).toBe(400)
    expect(bad.body.errorCode).toBe(400004)
    expect((await rest('GET', '/twins/cq-2/commands?status=bogus')).status).toBe(400)
    // Connecting later sends nothing.
    let calls = 0
    await openDevice('cq-2', { factoryReset: () => { calls++; return { status: 200, payload: null } } })
    await hub.hub.connections.waitFor({ deviceId: 'cq-2' }, 'methods', 10_000)
    await new Promise((r) => setTimeout(r, 200))
    expect(calls).toBe(0)
  }, 60_000)

  it('survives a restart: queued commands are delivered later; in-progress ones fail unless idempotent', async () => {
    await hub.hub.registry.create({ deviceId: 'cq-3' })
    await hub.hub.registry.create({ deviceId: 'cq-4' })
    await hub.hub.registry.create({ deviceId: 'cq-5' })
    const queued = await rest('POST', '/twins/cq-3/commands', { methodName: 'configure', payload: { rate: 5 } })
    // cq-4 and cq-5 do not answer before the restart, so the commands are in progress then.
    let slowCalls = 0
    let idemCalls = 0
    let answer = false
    await openDevice('cq-4', { slow: () => { slowCalls++; return null } })
    await openDevice('cq-5', { idem: () => { idemCalls++; return answer ? { status: 200, payload: { n: idemCalls } } : null } })
    await hub.hub.connections.waitFor({ deviceId: 'cq-4' }, 'methods', 10_000)
    await hub.hub.connections.waitFor({ deviceId: 'cq-5' }, 'methods', 10_000)
    const slow = await rest('POST', '/twins/cq-4/commands', { methodName: 'slow', responseTimeoutInSeconds: 60 })
    const idem = await rest('POST', '/twins/cq-5/commands', { methodName: 'idem', responseTimeoutInSeconds: 60, idempotent: true })
    await until(slow.body.commandId, 'in_progress')
    await until(idem.body.commandId, 'in_progress')
    // The request is sent only after in_progress is durable: once the devices saw it, the restart is meaningful.
    for (let i = 0; i < 200 && (slowCalls === 0 || idemCalls === 0); i++) await new Promise((r) => setTimeout(r, 25))
    expect([slowCalls, idemCalls]).toEqual([1, 1])

    await hub.restart()
    answer = true

    expect((await rest('GET', `/commands/${queued.body.commandId}`)).body.status).toBe('queued')
    const failed = (await rest('GET', `/commands/${slow.body.commandId}`)).body
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'HubRestarted' } })
    expect(failed.statusReason).toMatch(/not idempotent/)
    // The idempotent one is re-queued and re-delivered once the SDK client reconnects by itself.
    const redelivered = await until(idem.body.commandId, 'succeeded', 45_000)
    expect(redelivered).toMatchObject({ attempts: 2, response: { status: 200, payload: { n: 2 } } })
    expect(slowCalls).toBe(1)
    // The queued one reaches its device when it first connects.
    const got: unknown[] = []
    await openDevice('cq-3', { configure: (p) => { got.push(p); return { status: 200, payload: null } } })
    await until(queued.body.commandId, 'succeeded')
    expect(got).toEqual([{ rate: 5 }])
  }, 90_000)
})
