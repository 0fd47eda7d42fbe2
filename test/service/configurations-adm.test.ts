// Automatic device configurations (protocol C.7, F) through the official azure-iothub Registry
// configuration calls, with azure-iot-device clients receiving the desired patches.
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import iothub from 'azure-iothub'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'

const require = createRequire(import.meta.url)
const { Client: DeviceClient } = require('azure-iot-device') as typeof import('azure-iot-device')
const { Mqtt } = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt')
const { Registry } = iothub
type Cfg = import('azure-iothub').Configuration

let hub: ServiceHub
let ca: string
let registry: InstanceType<typeof Registry>
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  hub = await startServiceHub()
  ca = readFileSync(hub.endpoints.caFile).toString()
  registry = Registry.fromConnectionString(hub.connectionString())
})
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {})
  await hub?.close()
})

async function device (deviceId: string, tags: Record<string, unknown>): Promise<void> {
  await registry.create({ deviceId } as never)
  await registry.updateTwin(deviceId, { tags } as never, '*')
}

async function openDevice (deviceId: string) {
  const client = DeviceClient.fromConnectionString(hub.hub.registry.deviceConnectionString({ deviceId }), Mqtt)
  client.on('error', () => {})
  await client.setOptions({ ca } as never)
  closers.push(() => client.close())
  await client.open()
  const twin = await client.getTwin()
  return { client, twin }
}

const desired = async (deviceId: string): Promise<Record<string, unknown>> => {
  const { $metadata: _m, $version: _v, ...rest } = (await registry.getTwin(deviceId)).responseBody.properties.desired as Record<string, unknown>
  return rest
}
const configsOf = async (deviceId: string): Promise<unknown> => ((await registry.getTwin(deviceId)).responseBody as unknown as { configurations?: unknown }).configurations
const settle = (): Promise<void> => hub.hub.configurations.idle()

async function eventually<T> (fn: () => Promise<T>, check: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (check(v)) return v
    if (Date.now() > end) return v
    await new Promise((r) => setTimeout(r, 50))
  }
}

function raw (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const p = hub.hub.registry.policies.get('iothubowner')!
  const auth = createSasToken({ resource: hub.ip, key: p.primaryKey, expiry: Math.floor(Date.now() / 1000) + 3600, keyName: 'iothubowner', encodeResource: false })
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Authorization: auth }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const req = request({ host: hub.ip, port: 443, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) })
      })
    })
    req.on('error', reject)
    if (body !== undefined) req.write(JSON.stringify(body))
    req.end()
  })
}

describe('automatic device configurations with azure-iothub', () => {
  it('applies by priority per path, records targeted/applied, counts metrics, falls back when a twin leaves or a configuration goes', async () => {
    await device('adm-1', { site: 'a', floor: 1 })
    await device('adm-2', { site: 'a', floor: 2 })
    await device('adm-3', { site: 'b' })
    const d1 = await openDevice('adm-1')
    const patches: Array<Record<string, unknown>> = []
    d1.twin.on('properties.desired', (p: Record<string, unknown>) => { patches.push(p) })

    const low: Cfg = {
      id: 'chiller-base',
      content: { deviceContent: { 'properties.desired.chiller': { temp: 60, pressure: 20 }, 'properties.desired.mode': 'eco' } },
      targetCondition: "tags.site = 'a'",
      priority: 1,
      labels: { team: 'hvac' },
      metrics: { queries: { current: "SELECT deviceId FROM devices WHERE configurations.[[chiller-base]].status = 'Applied' AND properties.reported.chiller.status = 'current'" } }
    } as unknown as Cfg
    const added = (await registry.addConfiguration(low)).responseBody
    expect(added).toMatchObject({ id: 'chiller-base', schemaVersion: '1.0', priority: 1, labels: { team: 'hvac' }, targetCondition: "tags.site = 'a'" })
    expect(typeof added.etag).toBe('string')
    expect(added.createdTimeUtc).toBe(added.lastUpdatedTimeUtc)
    await registry.addConfiguration({
      id: 'chiller-floor1', priority: 10, targetCondition: "tags.site = 'a' AND tags.floor = 1",
      content: { deviceContent: { 'properties.desired': { chiller: { temp: 55 } } } }
    } as unknown as Cfg)
    await settle()

    // Higher priority wins the whole `chiller` path on adm-1; `mode` still comes from the base.
    expect(await desired('adm-1')).toEqual({ chiller: { temp: 55 }, mode: 'eco' })
    expect(await desired('adm-2')).toEqual({ chiller: { temp: 60, pressure: 20 }, mode: 'eco' })
    expect(await desired('adm-3')).toEqual({})
    expect(await configsOf('adm-1')).toEqual({ 'chiller-base': { status: 'applied' }, 'chiller-floor1': { status: 'applied' } })
    expect(await configsOf('adm-2')).toEqual({ 'chiller-base': { status: 'applied' } })
    expect(await configsOf('adm-3')).toBeUndefined()
    // The device got a desired notification with the winning value.
    await eventually(async () => d1.twin.properties.desired, (d: any) => d.chiller?.temp === 55 && d.mode === 'eco')
    expect((d1.twin.properties.desired as any).chiller).toMatchObject({ temp: 55 })
    expect(patches.length).toBeGreaterThan(0)

    const base = (await registry.getConfiguration('chiller-base')).responseBody
    expect(base.systemMetrics?.results).toEqual({ targetedCount: 2, appliedCount: 2 })
    expect(base.systemMetrics?.queries).toMatchObject({ targetedCount: expect.stringContaining("tags.site = 'a'") })
    expect(base.metrics?.results).toEqual({ current: 0 })
    expect((await registry.getConfiguration('chiller-floor1')).responseBody.systemMetrics?.results).toEqual({ targetedCount: 1, appliedCount: 1 })

    // A custom metric follows reported properties.
    await new Promise<void>((resolve, reject) => d1.twin.properties.reported.update({ chiller: { status: 'current' } }, (e?: Error) => (e ? reject(e) : resolve())))
    const withMetric = await eventually(async () => (await registry.getConfiguration('chiller-base')).responseBody, (c) => c.metrics?.results?.['current'] === 1)
    expect(withMetric.metrics?.results).toEqual({ current: 1 })
    // The query language sees the configurations map (case-insensitive status, F).
    const q = registry.createQuery("SELECT deviceId FROM devices WHERE configurations.[[chiller-floor1]].status = 'Applied'")
    expect((await q.nextAsTwin()).result.map((t) => t.deviceId)).toEqual(['adm-1'])

    // adm-1 leaves floor 1: its chiller falls back to the base configuration.
    await registry.updateTwin('adm-1', { tags: { floor: 2 } } as never, '*')
    await settle()
    expect(await desired('adm-1')).toEqual({ chiller: { temp: 60, pressure: 20 }, mode: 'eco' })
    expect(await configsOf('adm-1')).toEqual({ 'chiller-base': { status: 'applied' } })
    await eventually(async () => d1.twin.properties.desired, (d: any) => d.chiller?.pressure === 20)
    expect((d1.twin.properties.desired as any).chiller).toMatchObject({ temp: 60, pressure: 20 })
    const floor1 = (await registry.getConfiguration('chiller-floor1')).responseBody
    expect(floor1.systemMetrics?.results).toEqual({ targetedCount: 0, appliedCount: 0 })

    // Same priority: the newest configuration wins the path, the older one is only targeted.
    await registry.addConfiguration({ id: 'level-old', priority: 5, targetCondition: "tags.site = 'b'", content: { deviceContent: { 'properties.desired.level': 1 } } } as unknown as Cfg)
    await new Promise((r) => setTimeout(r, 5))
    await registry.addConfiguration({ id: 'level-new', priority: 5, targetCondition: "tags.site = 'b'", content: { deviceContent: { 'properties.desired.level': 2 } } } as unknown as Cfg)
    await settle()
    expect(await desired('adm-3')).toEqual({ level: 2 })
    expect(await configsOf('adm-3')).toEqual({ 'level-old': { status: 'targeted' }, 'level-new': { status: 'applied' } })
    const old = (await registry.getConfiguration('level-old')).responseBody
    expect(old.systemMetrics?.results).toEqual({ targetedCount: 1, appliedCount: 0 })
    // Deleting the winner falls back to the other one.
    await registry.removeConfiguration('level-new')
    await settle()
    expect(await desired('adm-3')).toEqual({ level: 1 })
    expect(await configsOf('adm-3')).toEqual({ 'level-old': { status: 'applied' } })

    // Deleting the base removes its settings everywhere.
    await registry.removeConfiguration('chiller-base')
    await settle()
    expect(await desired('adm-1')).toEqual({})
    expect(await desired('adm-2')).toEqual({})
    expect(await configsOf('adm-2')).toBeUndefined()
    await eventually(async () => d1.twin.properties.desired, (d: any) => d.chiller === undefined && d.mode === undefined)
    expect((d1.twin.properties.desired as any).mode).toBeUndefined()
    const list = (await registry.getConfigurations()).responseBody.map((c) => c.id)
    expect(list).toEqual(['chiller-floor1', 'level-old'])
  }, 60_000)

  it('keeps content immutable, checks etags, validates ids, conditions and metrics', async () => {
    const cfg = (await registry.addConfiguration({
      id: 'imm-1', priority: 2, targetCondition: "tags.x = 'y'",
      content: { deviceContent: { 'properties.desired.x': 1 } }
    } as unknown as Cfg)).responseBody
    // The SDK resends the unchanged content on update: accepted, and the etag moves.
    cfg.priority = 3
    cfg.targetCondition = "tags.x = 'z'"
    const updated = (await registry.updateConfiguration(cfg)).responseBody
    expect(updated).toMatchObject({ priority: 3, targetCondition: "tags.x = 'z'" })
    expect(updated.etag).not.toBe(cfg.etag)
    expect(updated.createdTimeUtc).toBe(cfg.createdTimeUtc)
    // A stale etag: 412.
    await expect(registry.updateConfiguration({ ...cfg, priority: 4 })).rejects.toMatchObject({ name: 'InvalidEtagError' })
    // Changed content: 400403, also with force.
    const changed = registry.updateConfiguration({ ...updated, content: { deviceContent: { 'properties.desired.x': 2 } } }, true).then(() => null, (e: Error & { responseBody?: string }) => e)
    const err = await changed
    expect(err?.name).toBe('ArgumentError')
    expect(err?.message).toMatch(/immutable|cannot be changed/i)
    const direct = await raw('PUT', '/configurations/imm-1?api-version=2021-04-12', { ...updated, content: { deviceContent: { 'properties.desired.x': 2 } } })
    expect(direct.status).toBe(412) // no If-Match on an existing configuration
    // Errors with their IoT Hub codes.
    const badCond = await raw('PUT', '/configurations/bad-cond', { id: 'bad-cond', targetCondition: "tags.x = = 'y'", content: { deviceContent: {} } })
    expect(badCond.status).toBe(400)
    expect(badCond.body.errorCode).toBe(400401)
    const badMetric = await raw('PUT', '/configurations/bad-metric', { id: 'bad-metric', targetCondition: '*', content: { deviceContent: {} }, metrics: { queries: { m: 'SELEKT nothing' } } })
    expect(badMetric.body.errorCode).toBe(400404)
    const tooMany = await raw('PUT', '/configurations/many', {
      id: 'many', targetCondition: '*', content: { deviceContent: {} },
      metrics: { queries: Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`m${i}`, 'SELECT deviceId FROM devices'])) }
    })
    expect(tooMany.body.errorCode).toBe(400404)
    const badContent = await raw('PUT', '/configurations/bad-content', { id: 'bad-content', targetCondition: '*', content: { deviceContent: { 'tags.x': 1 } } })
    expect(badContent.body.errorCode).toBe(400402)
    const badId = await raw('PUT', '/configurations/Upper', { id: 'Upper', targetCondition: '*', content: { deviceContent: {} } })
    expect(badId.status).toBe(400)
    const missing = await raw('GET', '/configurations/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.errorCode).toBe(404301)
    await expect(registry.getConfiguration('nope')).rejects.toThrow()
    await expect(registry.removeConfiguration('nope')).rejects.toThrow()
    // testQueries (swagger).
    const tq = await raw('POST', '/configurations/testQueries', { targetCondition: 'tags.a = ', customMetricQueries: { ok: 'SELECT deviceId FROM devices', bad: 'SELECT FROM' } })
    expect(tq.status).toBe(200)
    expect(tq.body.targetConditionError).not.toBe('')
    expect(Object.keys(tq.body.customMetricQueryErrors)).toEqual(['bad'])
    const good = await raw('POST', '/configurations/testQueries', { targetCondition: "tags.a = 'b'", customMetricQueries: {} })
    expect(good.body).toEqual({ targetConditionError: '', customMetricQueryErrors: {} })
    await registry.removeConfiguration('imm-1')
  }, 60_000)

  it('survives a restart without re-writing twins', async () => {
    await device('rs-1', { role: 'pump' })
    await registry.addConfiguration({ id: 'pump-cfg', priority: 1, targetCondition: "tags.role = 'pump'", content: { deviceContent: { 'properties.desired.rpm': 1200 } } } as unknown as Cfg)
    await settle()
    const before = (await registry.getTwin('rs-1')).responseBody
    expect(before.properties.desired['rpm']).toBe(1200)
    await hub.restart()
    registry = Registry.fromConnectionString(hub.connectionString())
    await hub.hub.configurations.evaluate()
    const after = (await registry.getTwin('rs-1')).responseBody
    expect(after.properties.desired['$version']).toBe(before.properties.desired['$version'])
    expect((after as unknown as { configurations?: unknown }).configurations).toEqual({ 'pump-cfg': { status: 'applied' } })
    expect((await registry.getConfiguration('pump-cfg')).responseBody.systemMetrics?.results).toEqual({ targetedCount: 1, appliedCount: 1 })
    // A manual edit of a configured path stays until the owner changes (docs/configurations.md).
    await registry.updateTwin('rs-1', { properties: { desired: { rpm: 900 } } } as never, '*')
    await hub.hub.configurations.evaluate()
    expect((await registry.getTwin('rs-1')).responseBody.properties.desired['rpm']).toBe(900)
  }, 60_000)
})
