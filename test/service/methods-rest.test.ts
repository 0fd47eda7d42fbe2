// Client.invokeDeviceMethod (azure-iothub) to an azure-iot-device client (C.5), and a module
// identity with its module twin over MQTT (ModuleClient).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import iothub from 'azure-iothub'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'

const require = createRequire(import.meta.url)
const { Client: DeviceClient, ModuleClient } = require('azure-iot-device') as typeof import('azure-iot-device')
const { Mqtt } = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt')
const { Registry, Client } = iothub

let hub: ServiceHub
let ca: Buffer
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  hub = await startServiceHub()
  ca = readFileSync(hub.endpoints.caFile)
})
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {})
  await hub?.close()
})

async function openDevice (deviceId: string) {
  await hub.hub.registry.create({ deviceId })
  const client = DeviceClient.fromConnectionString(hub.hub.registry.deviceConnectionString({ deviceId }), Mqtt)
  client.on('error', () => {})
  await client.setOptions({ ca: ca.toString() } as never)
  closers.push(() => client.close())
  return client
}

describe('direct methods through the service SDK', () => {
  it('round-trips with status and payload, 404 when offline, 504 on timeout', async () => {
    const device = await openDevice('m-dev')
    device.onDeviceMethod('echo', (req, res) => { void res.send(203, { got: req.payload }) })
    device.onDeviceMethod('silent', () => { /* never answers */ })
    await device.open()
    await hub.hub.connections.waitFor({ deviceId: 'm-dev' }, 'methods', 10_000)
    const service = Client.fromConnectionString(hub.connectionString('service'))
    const ok = await service.invokeDeviceMethod('m-dev', { methodName: 'echo', payload: { n: 1 }, responseTimeoutInSeconds: 10 })
    expect(ok.result).toEqual({ status: 203, payload: { got: { n: 1 } } })
    const nullPayload = await service.invokeDeviceMethod('m-dev', { methodName: 'echo', payload: null, responseTimeoutInSeconds: 10 })
    expect(nullPayload.result).toEqual({ status: 203, payload: { got: null } })
    await expect(service.invokeDeviceMethod('m-dev', { methodName: 'silent', payload: null, responseTimeoutInSeconds: 5 }))
      .rejects.toMatchObject({ name: 'GatewayTimeoutError' })
    await device.close()
    await hub.hub.registry.create({ deviceId: 'm-off' })
    const offline = await service.invokeDeviceMethod('m-off', { methodName: 'echo', payload: null, responseTimeoutInSeconds: 5 }).then(() => null, (e: Error & { response?: { statusCode?: number } }) => e)
    expect(offline?.message).toMatch(/Not found|DeviceNotOnline/)
    expect(offline?.response?.statusCode).toBe(404)
  }, 60_000)

  it('serves a module identity with its module twin and module methods', async () => {
    const registry = Registry.fromConnectionString(hub.connectionString())
    await registry.create({ deviceId: 'gw-1' } as never)
    await registry.addModule({ deviceId: 'gw-1', moduleId: 'reader' } as never)
    const cs = hub.hub.registry.deviceConnectionString({ deviceId: 'gw-1', moduleId: 'reader' })
    const mod = ModuleClient.fromConnectionString(cs, Mqtt)
    mod.on('error', () => {})
    await mod.setOptions({ ca: ca.toString() } as never)
    closers.push(() => mod.close())
    mod.onMethod('ping', (_req, res) => { void res?.send(200, 'pong') })
    await mod.open()
    const twin = await mod.getTwin()
    await new Promise<void>((resolve, reject) => twin.properties.reported.update({ scanner: 'ok' }, (err?: Error) => (err ? reject(err) : resolve())))
    const seen = new Promise<unknown>((resolve) => twin.on('properties.desired', (d: Record<string, unknown>) => { if (d['rate'] !== undefined) resolve(d['rate']) }))
    const moduleTwin = (await registry.getModuleTwin('gw-1', 'reader')).responseBody
    expect(moduleTwin.moduleId).toBe('reader')
    expect(moduleTwin.properties.reported['scanner']).toBe('ok')
    await registry.updateModuleTwin('gw-1', 'reader', { properties: { desired: { rate: 9 } } }, '*')
    expect(await seen).toBe(9)
    await hub.hub.connections.waitFor({ deviceId: 'gw-1', moduleId: 'reader' }, 'methods', 10_000)
    const service = Client.fromConnectionString(hub.connectionString('service'))
    const r = await service.invokeDeviceMethod('gw-1', 'reader', { methodName: 'ping', payload: null, responseTimeoutInSeconds: 10 })
    expect(r.result).toEqual({ status: 200, payload: 'pong' })
    // The device twin does not carry the module's properties.
    expect((await registry.getTwin('gw-1')).responseBody.properties.reported['scanner']).toBeUndefined()
  }, 60_000)
})
