// Module identities mirrored upstream: a module created at the edge goes up with its keys, one
// created in the cloud (azure-iothub addModule) comes down; a ModuleClient
// (azure-iot-device + azure-iot-device-mqtt) at the edge reports up and gets desired down, and its
// telemetry, also sent while the link is cut, reaches the cloud as the module, exactly once.
// A direct method from the cloud (azure-iothub invokeDeviceMethod with a module id) reaches a
// module connected at the site; one connected without a method handler gets DeviceNotOnline.
import { createRequire } from 'node:module'
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { message } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'
import { rest } from './rest.js'

const require = createRequire(import.meta.url)
const { ModuleClient } = require('azure-iot-device') as typeof import('azure-iot-device')
const { Mqtt } = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt')
const { Client, Registry } = iothub

describe('upstream sync: modules', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  const ca = testCa()
  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
    stack.defer(() => edge.close())
  })
  afterAll(async () => { await stack.run() })

  it('identities both ways, module twin reported up / desired down, module telemetry up exactly once (also offline)', async () => {
    const key = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string
    const reg = Registry.fromConnectionString(`HostName=${cloud.ip};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`)
    await edge.running.hub.registry.create({ deviceId: 'gw' })
    await edge.running.hub.registry.create({ deviceId: 'gw', moduleId: 'reader' })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: 'site-m' })
    const up = await waitFor('module upstream', async () => (await reg.getModule('gw', 'reader').catch(() => null))?.responseBody, 30_000)
    const local = edge.running.hub.registry.mustGet({ deviceId: 'gw', moduleId: 'reader' })
    expect(up.authentication?.symmetricKey?.primaryKey).toBe(local.authentication.symmetricKey.primaryKey)

    // A module added in the cloud comes down with its keys.
    await reg.addModule({ deviceId: 'gw', moduleId: 'writer' } as never)
    const down = await waitFor('cloud module at the edge', () => edge.running.hub.registry.get({ deviceId: 'gw', moduleId: 'writer' }), 30_000)
    expect(down.authentication.symmetricKey.primaryKey).toBe((await reg.getModule('gw', 'writer')).responseBody.authentication?.symmetricKey?.primaryKey)

    const mod = ModuleClient.fromConnectionString(edge.running.hub.registry.deviceConnectionString({ deviceId: 'gw', moduleId: 'reader' }), Mqtt)
    mod.on('error', () => {})
    await mod.setOptions({ ca } as never)
    stack.defer(async () => { await Promise.race([mod.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]) })
    await mod.open()
    const twin = await mod.getTwin()
    const rate = new Promise<unknown>((resolve) => twin.on('properties.desired', (d: Record<string, unknown>) => { if (d['rate'] !== undefined) resolve(d['rate']) }))
    await new Promise<void>((resolve, reject) => twin.properties.reported.update({ scanner: 'ok' }, (err?: Error) => (err ? reject(err) : resolve())))
    await waitFor('module reported upstream', async () => (await reg.getModuleTwin('gw', 'reader')).responseBody.properties.reported['scanner'] === 'ok', 20_000)
    await reg.updateModuleTwin('gw', 'reader', { properties: { desired: { rate: 9 } } }, '*')
    expect(await rate).toBe(9)

    for (let i = 0; i < 5; i++) await mod.sendEvent(message(JSON.stringify({ i }), { phase: 'online' }))
    proxy.pause()
    await waitFor('offline', () => edge.running.hub.sync.status().state === 'offline', 10_000)
    for (let i = 0; i < 10; i++) await mod.sendEvent(message(JSON.stringify({ i }), { phase: 'offline' }))
    await new Promise<void>((resolve, reject) => twin.properties.reported.update({ scanned: 10 }, (err?: Error) => (err ? reject(err) : resolve())))
    proxy.resume()
    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 15_000)
    expect(await edge.running.hub.sync.waitIdle(30_000)).toBe(true)

    const all = (await rest(cloud, ca, 'GET', '/devices/gw/modules/reader/messages?limit=1000')).body
    expect(all.moduleId).toBe('reader')
    expect(all.messages.filter((m: any) => m.properties.phase === 'online')).toHaveLength(5)
    const offline = all.messages.filter((m: any) => m.properties.phase === 'offline')
    expect(offline).toHaveLength(10)
    expect(new Set(offline.map((m: any) => m.origin)).size).toBe(10)
    expect(offline.every((m: any) => m.moduleId === 'reader')).toBe(true)
    // none of it was stored as the parent device's
    expect((await cloud.running.hub.telemetry.read(0, 100_000)).filter((m) => m.deviceId === 'gw' && m.moduleId === undefined)).toEqual([])
    expect((await reg.getModuleTwin('gw', 'reader')).responseBody.properties.reported['scanned']).toBe(10)
    const st = edge.running.hub.sync.status()
    expect(st.modules).toMatchObject({ mirrored: 2, createdUpstream: 1, createdLocally: 1, conflicts: [] })
    expect(st.telemetry.sentPerDevice['gw/reader']).toBe(15)
    expect(st.telemetry.notForwarded).toBe(0)
    expect(st.telemetry.pending).toBe(0)
  }, 120_000)

  it('direct methods from the cloud reach a module at the site through the edge; a module not listening gets DeviceNotOnline', async () => {
    const key = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string
    const svc = Client.fromConnectionString(`HostName=${cloud.ip};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`)
    // 'writer' was created in the cloud and came down: connect it at the site with a handler.
    const w = ModuleClient.fromConnectionString(edge.running.hub.registry.deviceConnectionString({ deviceId: 'gw', moduleId: 'writer' }), Mqtt)
    w.on('error', () => {})
    await w.setOptions({ ca } as never)
    stack.defer(async () => { await Promise.race([w.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]) })
    const calls: unknown[] = []
    w.onMethod('calibrate', (req, res) => { calls.push(req?.payload); void res?.send(200, { calibrated: 'writer', asked: req?.payload }) })
    await w.open()
    await edge.running.hub.connections.waitFor({ deviceId: 'gw', moduleId: 'writer' }, 'methods', 15_000)
    const result = await waitFor('module method through the edge', async () => {
      const r = await svc.invokeDeviceMethod('gw', 'writer', { methodName: 'calibrate', payload: { zero: true }, responseTimeoutInSeconds: 10 }).catch((e: Error & { responseBody?: string }) => {
        if (/404103|DeviceNotOnline/.test(String(e.responseBody))) return undefined // not subscribed upstream yet
        throw e
      })
      return r?.result
    }, 30_000, 250)
    expect(result).toEqual({ status: 200, payload: { calibrated: 'writer', asked: { zero: true } } })
    expect(calls).toEqual([{ zero: true }])
    // 'reader' is connected at the site (the first test's client) but has no method handler.
    const err = await svc.invokeDeviceMethod('gw', 'reader', { methodName: 'calibrate', payload: null, responseTimeoutInSeconds: 5 }).then(() => null, (e: Error) => e)
    expect(String((err as Error & { responseBody?: string } | null)?.responseBody)).toMatch(/404103|DeviceNotOnline/)
    // The writer goes away at the site: the cloud answers DeviceNotOnline again.
    await w.close()
    await waitFor('writer not online upstream', async () => {
      const e = await svc.invokeDeviceMethod('gw', 'writer', { methodName: 'calibrate', payload: null, responseTimeoutInSeconds: 5 }).then(() => null, (x: Error) => x)
      return /404103|DeviceNotOnline/.test(String((e as Error & { responseBody?: string } | null)?.responseBody))
    }, 20_000, 250)
    expect(calls).toEqual([{ zero: true }])
  }, 120_000)
})
