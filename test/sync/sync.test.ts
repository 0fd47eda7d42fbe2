// Upstream sync end to end: a cloud-role hub and an edge hub on two loopback IPs, the edge's
// upstream pointing at a test-controlled TCP proxy (the cloud's public address). Devices on
// the official device SDK at the edge, a back end on azure-iothub at the cloud.
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient, type DeviceClient, type Twin } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

const { Client, Registry } = iothub
type Reg = InstanceType<typeof Registry>

describe('upstream sync: cloud role + edge, official SDKs', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  let cloudReg: Reg // a back end at the cloud, reaching it directly (never through the proxy)
  let cloudCs = ''
  let device: DeviceClient
  let twin: Twin
  const ca = testCa()
  let sentByDevice = 0

  const cloudCount = async (deviceId: string): Promise<{ total: number; origins: Set<string> }> => {
    const all = await cloud.running.hub.telemetry.read(0, 1_000_000)
    const mine = all.filter((m) => m.deviceId === deviceId)
    return { total: mine.length, origins: new Set(mine.map((m) => String(m.properties['sitehub-origin']))) }
  }
  const send = async (n: number, tag: string): Promise<void> => {
    for (let i = 0; i < n; i++) { await device.sendEvent(message(JSON.stringify({ tag, i }), { tag })); sentByDevice++ }
  }

  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    // The cloud's public name is the proxy address: its certificate and tokens cover both.
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
    const key = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string
    cloudCs = `HostName=${cloudIp};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`
    cloudReg = Registry.fromConnectionString(cloudCs)
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
    stack.defer(() => edge.close())
    await edge.running.hub.registry.create({ deviceId: 'dev1' })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: 'site-a' })
    device = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: 'dev1' }), { ca, defer: stack.defer })
    twin = await device.getTwin()
  })
  afterAll(async () => { await stack.run() })

  it('registers the edge as an IoT Edge device and its devices as children, with their keys', async () => {
    await waitFor('link online', () => edge.running.hub.sync.status().state === 'online')
    const edgeDev = await waitFor('edge upstream', async () => (await cloudReg.get('site-a').catch(() => null))?.responseBody)
    expect(edgeDev.capabilities?.iotEdge).toBe(true)
    const scope = (edgeDev as unknown as { deviceScope: string }).deviceScope
    expect(scope).toMatch(/^ms-azure-iot-edge:\/\/site-a-/)
    const child = await waitFor('dev1 upstream', async () => (await cloudReg.get('dev1').catch(() => null))?.responseBody)
    const local = edge.running.hub.registry.mustGet({ deviceId: 'dev1' })
    expect(child.authentication?.symmetricKey?.primaryKey).toBe(local.authentication.symmetricKey.primaryKey)
    expect((child as unknown as { deviceScope: string }).deviceScope).toBe(scope)
    expect((child as unknown as { parentScopes: string[] }).parentScopes).toEqual([scope])
    // The twins carry the same fields (IoT Hub's twin shape), read with the official SDK too.
    const edgeTwin = (await cloudReg.getTwin('site-a')).responseBody as unknown as { capabilities?: { iotEdge?: boolean }; deviceScope?: string }
    expect(edgeTwin.capabilities?.iotEdge).toBe(true)
    expect(edgeTwin.deviceScope).toBe(scope)
    const childTwin = (await cloudReg.getTwin('dev1')).responseBody as unknown as { deviceScope?: string; parentScopes?: string[] }
    expect(childTwin.deviceScope).toBe(scope)
    expect(childTwin.parentScopes).toEqual([scope])

    // A child created in the cloud comes down with its keys.
    await cloudReg.create({ deviceId: 'cloud1', deviceScope: scope, parentScopes: [scope], authentication: { symmetricKey: { primaryKey: '', secondaryKey: '' } } } as never)
    const down = await waitFor('cloud1 at the edge', () => edge.running.hub.registry.get({ deviceId: 'cloud1' }))
    const up = (await cloudReg.get('cloud1')).responseBody
    expect(down.authentication.symmetricKey.primaryKey).toBe(up.authentication?.symmetricKey?.primaryKey)

    // Same id, different keys on both sides: a conflict, nobody overwritten.
    await cloudReg.create({ deviceId: 'clash', authentication: { symmetricKey: { primaryKey: '', secondaryKey: '' } } } as never)
    await edge.running.hub.registry.create({ deviceId: 'clash' })
    const conflict = await waitFor('clash conflict', () => edge.running.hub.sync.conflicts().find((c) => c.deviceId === 'clash'))
    expect(conflict.kind).toBe('registry')
    expect(conflict.fields).toContain('authentication.symmetricKey.primaryKey')
    const cloudClash = (await cloudReg.get('clash')).responseBody
    expect(cloudClash.authentication?.symmetricKey?.primaryKey).not.toBe(edge.running.hub.registry.mustGet({ deviceId: 'clash' }).authentication.symmetricKey.primaryKey)
    expect(edge.running.hub.sync.devices().find((d) => d.deviceId === 'clash')?.state).toBe('conflict')
  })

  it('online: desired from the cloud reaches the device, reported and telemetry reach the cloud exactly', async () => {
    const got = new Promise<unknown>((resolve) => { twin.on('properties.desired', (d: { interval?: number }) => { if (d.interval === 5) resolve(d.interval) }) })
    await cloudReg.updateTwin('dev1', { properties: { desired: { interval: 5 } } } as never, '*')
    expect(await got).toBe(5)

    await new Promise<void>((resolve, reject) => { twin.properties.reported.update({ fw: '1.0.0' }, (err?: Error) => { if (err) reject(err); else resolve() }) })
    await waitFor('reported upstream', async () => (await cloudReg.getTwin('dev1')).responseBody.properties.reported['fw'] === '1.0.0')

    await send(20, 'online')
    await waitFor('20 upstream', async () => (await cloudCount('dev1')).total === 20)
    expect(await edge.running.hub.sync.waitIdle(10_000)).toBe(true)
    const st = edge.running.hub.sync.status()
    expect(st.telemetry.sent).toBe(20)
    expect(st.telemetry.sentPerDevice['dev1']).toBe(20)
    expect(st.telemetry.expired + st.telemetry.dropped).toBe(0)
  })

  it('a direct method from the cloud reaches the device through the edge; an offline device gives DeviceNotOnline', async () => {
    device.onDeviceMethod('reboot', (req, res) => { res.send(200, { rebooting: true, asked: req.payload }, () => {}) })
    const svc = Client.fromConnectionString(cloudCs)
    const result = await waitFor('method through the edge', async () => {
      try {
        return (await svc.invokeDeviceMethod('dev1', { methodName: 'reboot', payload: { delay: 3 }, responseTimeoutInSeconds: 10 })).result
      } catch { return undefined }
    }, 20_000, 250)
    expect(result).toEqual({ status: 200, payload: { rebooting: true, asked: { delay: 3 } } })
    // cloud1 is a child of the edge, but nothing is connected as cloud1 at the site.
    const err = await svc.invokeDeviceMethod('cloud1', { methodName: 'reboot', payload: null, responseTimeoutInSeconds: 5 }).then(() => null, (e: Error) => e)
    expect(err).not.toBeNull()
    expect(String((err as Error & { responseBody?: string }).responseBody)).toMatch(/404103|DeviceNotOnline/)
  })

  it('offline: the dead link is detected in seconds; work made meanwhile converges exactly after the link returns', async () => {
    const cut = Date.now()
    proxy.pause()
    // the detection bound itself (keep-alive x 1.5 + ping timeout) is proven on a fake clock in
    // src/main/hub/sync/link.test.ts; here, no wall-clock assertion on a shared machine
    await waitFor('link offline', () => edge.running.hub.sync.status().state === 'offline', 30_000)
    console.log(`dead link detected after ${Date.now() - cut} ms`)

    // The site keeps working: telemetry, reported changes (coalesced), a device provisioned offline.
    await send(50, 'offline')
    for (let n = 1; n <= 10; n++) {
      await new Promise<void>((resolve, reject) => { twin.properties.reported.update({ n }, (err?: Error) => { if (err) reject(err); else resolve() }) })
    }
    for (const id of ['late1', 'late2', 'late3']) await edge.running.hub.registry.create({ deviceId: id }) // go up in one bulk request
    // Meanwhile the cloud changes desired; and a technician edits tags at the edge.
    await cloudReg.updateTwin('dev1', { properties: { desired: { interval: 9, mode: 'turbo' } } } as never, '*')
    await edge.running.hub.twins.patchTags({ deviceId: 'dev1' }, { line: 'L7' })
    // A technician edits desired at the edge: one field the cloud also changed, one it did not.
    await edge.running.hub.twins.patchDesired({ deviceId: 'dev1' }, { mode: 'eco', threshold: 3 })
    const got = new Promise<unknown>((resolve) => { twin.on('properties.desired', (d: { interval?: number }) => { if (d.interval === 9) resolve(d.interval) }) })
    expect(edge.running.hub.sync.status().telemetry.pending).toBe(50)

    proxy.resume()
    await waitFor('link online again', () => edge.running.hub.sync.status().state === 'online', 15_000)
    expect(await got).toBe(9)
    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)
    const counts = await cloudCount('dev1')
    expect(counts.total).toBe(70)
    expect(counts.origins.size).toBe(70)
    const ct = (await cloudReg.getTwin('dev1')).responseBody
    expect(ct.properties.reported['n']).toBe(10)
    expect(ct.tags).toEqual({ line: 'L7' })
    // the edge-only desired edit went up; the field both changed is a conflict with its three values
    expect(ct.properties.desired['threshold']).toBe(3)
    expect(ct.properties.desired['mode']).toBe('turbo')
    expect(edge.running.hub.twins.get({ deviceId: 'dev1' }).properties.desired['mode']).toBe('eco')
    const conflict = edge.running.hub.sync.conflicts().find((c) => c.deviceId === 'dev1')
    expect(conflict).toMatchObject({ kind: 'desired', fields: ['mode'], base: {}, local: { mode: 'eco' }, cloud: { mode: 'turbo' } })
    for (const id of ['late1', 'late2', 'late3']) {
      const up = (await cloudReg.get(id)).responseBody
      expect(up.authentication?.symmetricKey?.primaryKey).toBe(edge.running.hub.registry.mustGet({ deviceId: id }).authentication.symmetricKey.primaryKey)
      expect((up as unknown as { parentScopes: string[] }).parentScopes).toHaveLength(1)
    }
    expect(edge.running.hub.sync.status().telemetry.sent).toBe(70)
  })

  it('a technician resolves conflicts: keep the site\'s desired value, keep the cloud\'s identity', async () => {
    await edge.running.hub.sync.resolveConflict('dev1|desired', 'local')
    await waitFor('mode=eco upstream', async () => (await cloudReg.getTwin('dev1')).responseBody.properties.desired['mode'] === 'eco')
    await edge.running.hub.sync.resolveConflict('clash|registry', 'cloud')
    const cloudKey = (await cloudReg.get('clash')).responseBody.authentication?.symmetricKey?.primaryKey
    expect(edge.running.hub.registry.mustGet({ deviceId: 'clash' }).authentication.symmetricKey.primaryKey).toBe(cloudKey)
    const idle = await edge.running.hub.sync.waitIdle(30_000)
    if (!idle) console.error('NOT IDLE', JSON.stringify(edge.running.hub.sync.status()), JSON.stringify(edge.running.hub.sync.devices()))
    expect(idle).toBe(true)
    expect(edge.running.hub.sync.conflicts()).toEqual([])
    expect(edge.running.hub.sync.devices().find((d) => d.deviceId === 'clash')?.state).toBe('inSync')
  })

  it('a restart of the edge in the middle of draining a backlog loses nothing and sends nothing twice', async () => {
    proxy.pause()
    await waitFor('link offline', () => edge.running.hub.sync.status().state === 'offline', 10_000)
    await send(1000, 'backlog')
    const before = (await cloudCount('dev1')).total
    proxy.resume()
    await waitFor('draining', async () => (await cloudCount('dev1')).total > before, 20_000, 5)
    // Freeze the link with messages in flight, then restart the edge: part of the backlog is
    // upstream, part is not, and some in-flight copies may have reached the cloud unacknowledged.
    proxy.pause()
    const atRestart = (await cloudCount('dev1')).total
    await edge.restart()
    expect(atRestart).toBeGreaterThan(before)
    expect(atRestart).toBeLessThan(sentByDevice)
    proxy.resume()
    await waitFor('online after restart', () => edge.running.hub.sync.status().state === 'online', 15_000)
    expect(await edge.running.hub.sync.waitIdle(30_000)).toBe(true)
    const counts = await cloudCount('dev1')
    expect(counts.total).toBe(sentByDevice)
    expect(counts.origins.size).toBe(sentByDevice)
  })
})
