// The device management patterns end to end: simulated devices (src/main/sim, on the official
// azure-iot-device + MQTT SDK) against an in-process hub, driven by the official service SDK
// (azure-iothub: invokeDeviceMethod, updateTwin), observed through the twin and the ready-made
// reports (hub.reports, the same queries GET /reports/{name} serves).
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import iothub from 'azure-iothub'
import { BAD_IMAGE_MARKER, createSimulatedDevice, type SimulatedDevice, type SimulatedDeviceOptions } from '../../src/main/sim/index.js'
import type { JsonObject } from '../../src/main/hub/types.js'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'
import { waitFor } from '../helpers/hub.js'

const { Client, Registry } = iothub

let h: ServiceHub
let ca: string
let service: InstanceType<typeof Client>
let registry: InstanceType<typeof Registry>
const devices: SimulatedDevice[] = []
let n = 0

beforeAll(async () => {
  h = await startServiceHub()
  ca = readFileSync(h.endpoints.caFile, 'utf8')
  service = Client.fromConnectionString(h.connectionString('service'))
  registry = Registry.fromConnectionString(h.connectionString())
}, 60_000)
afterAll(async () => {
  await Promise.all(devices.map((d) => d.stop()))
  await h?.close()
})

/** A registered, started simulated device, with every reported patch it sent (in order). */
async function simDevice (opts: Partial<SimulatedDeviceOptions> = {}): Promise<{ id: string; dev: SimulatedDevice; patches: JsonObject[] }> {
  const id = `pat-${++n}-${randomBytes(3).toString('hex')}`
  await h.hub.registry.create({ deviceId: id })
  const patches: JsonObject[] = []
  h.hub.events.on('twin.reportedChanged', (e) => { if (e.deviceId === id) patches.push(structuredClone(e.patch)) })
  const dev = createSimulatedDevice({
    connectionString: h.hub.registry.deviceConnectionString({ deviceId: id }), ca,
    telemetryRateSeconds: 0, rebootDelayMs: 300, stepDelayMs: 150, configApplyDelayMs: 150, ...opts
  })
  devices.push(dev)
  await dev.start()
  await h.hub.connections.waitFor({ deviceId: id }, 'methods', 10_000)
  return { id, dev, patches }
}

const reported = (id: string): Record<string, any> => h.hub.twins.get({ deviceId: id }).properties.reported as Record<string, any>
const invoke = async (id: string, methodName: string, payload: unknown = null): Promise<{ status: number; payload: any }> =>
  (await service.invokeDeviceMethod(id, { methodName, payload, responseTimeoutInSeconds: 15 })).result as { status: number; payload: any }
/** The sequence of firmware.status values the device reported, without repeats. */
const statuses = (patches: JsonObject[]): string[] => patches
  .map((p) => (p['firmware'] as JsonObject | undefined)?.['status'])
  .filter((s): s is string => typeof s === 'string')
  .filter((s, i, all) => i === 0 || all[i - 1] !== s)

async function addImage (name: string, version: string, bytes: Buffer): Promise<void> {
  await h.hub.firmware.add({ name, version, data: bytes })
}

describe('device management patterns with the simulator', () => {
  it('reports capabilities, state and firmware on connect', async () => {
    const { id } = await simDevice()
    await waitFor(() => reported(id)['state'] === 'running', 10_000, 'state running')
    const r = reported(id)
    expect(r['capabilities']).toMatchObject({ methods: ['reboot', 'factoryReset', 'firmwareUpdate'], firmwareUpdate: true })
    expect(r['deviceInfo']).toMatchObject({ simulated: true, serialNumber: `SIM-${id}` })
    expect(r['firmware']).toMatchObject({ current: '1.0.0', status: 'current' })
    // null deletes in a reported patch (B.3): "no pending update" is an absent key.
    expect(r['firmware'].pending).toBeUndefined()
  })

  it('reboot: rebootStatus rebooting, disconnect, reconnect, completed with lastReboot', async () => {
    const { id, patches } = await simDevice()
    const disconnected = new Promise<void>((resolve) => {
      const off = h.hub.events.on('device.disconnected', (e) => { if (e.deviceId === id) { off(); resolve() } })
    })
    const before = Date.now()
    expect(await invoke(id, 'reboot')).toMatchObject({ status: 200, payload: { status: 'rebooting' } })
    await disconnected
    await waitFor(() => reported(id)['rebootStatus'] === 'completed' && h.hub.connections.isConnected({ deviceId: id }), 15_000, 'reboot completed')
    expect(Date.parse(reported(id)['lastReboot'])).toBeGreaterThanOrEqual(before - 1000)
    await waitFor(() => patches.map((p) => p['rebootStatus']).filter(Boolean).length === 2, 5000, 'reboot patches')
    expect(patches.map((p) => p['rebootStatus']).filter(Boolean)).toEqual(['rebooting', 'completed'])
    expect(reported(id)['state']).toBe('running')
  })

  it('configuration: desired config is acknowledged pending then applied (Plug and Play ac/av/ad), bad values rejected', async () => {
    const { id, patches, dev } = await simDevice()
    const twin = await registry.getTwin(id)
    await twin.responseBody.update({ properties: { desired: { config: { telemetryRateSeconds: 0.2, mode: 'eco' } } } })
    const v = h.hub.twins.get({ deviceId: id }).properties.desired.$version
    await waitFor(() => reported(id)['config']?.ac === 200, 10_000, 'config applied')
    expect(reported(id)['config']).toEqual({ value: { telemetryRateSeconds: 0.2, mode: 'eco' }, ac: 200, av: v, ad: 'applied' })
    const acks = (): unknown[] => patches.map((p) => (p['config'] as JsonObject | undefined)?.['ac']).filter((a) => a !== undefined)
    await waitFor(() => acks().length === 2, 5000, 'ack patches')
    expect(acks()).toEqual([202, 200])
    // The applied rate is live: telemetry now flows every 0.2 s.
    await waitFor(() => dev.snapshot().messagesSent >= 3, 10_000, 'telemetry at the configured rate')
    expect(h.hub.reports.run('config-status').rows).toContainEqual(expect.objectContaining({ ac: 200 }))

    await registry.updateTwin(id, { properties: { desired: { config: { telemetryRateSeconds: -5 } } } } as never, '*')
    await waitFor(() => reported(id)['config']?.ac === 400, 10_000, 'config rejected')
    expect(reported(id)['config'].ad).toMatch(/telemetryRateSeconds/)
    const inError = h.hub.reports.run('devices-in-error').rows as Array<Record<string, unknown>>
    expect(inError.find((r) => r['deviceId'] === id)).toMatchObject({ configAc: 400 })
    await registry.updateTwin(id, { properties: { desired: { config: { telemetryRateSeconds: 0 } } } } as never, '*')
    await waitFor(() => reported(id)['config']?.ac === 200, 10_000, 'config applied again')
  })

  it('factory reset: progress reported, configuration and counters cleared, then re-read from the twin after the reboot', async () => {
    const { id, patches, dev } = await simDevice({ telemetryRateSeconds: 0.2 })
    await h.hub.twins.patchDesired({ deviceId: id }, { config: { mode: 'eco' } })
    await waitFor(() => reported(id)['config']?.ac === 200, 10_000, 'config applied')
    await waitFor(() => dev.snapshot().messagesSent >= 2, 10_000, 'telemetry')
    // Remove the desired configuration first, as a back end preparing a blank device would.
    await h.hub.twins.patchDesired({ deviceId: id }, { config: null })
    await waitFor(() => reported(id)['config']?.value && Object.keys(reported(id)['config'].value).length === 0, 10_000, 'config cleared')
    expect(await invoke(id, 'factoryReset')).toMatchObject({ status: 200, payload: { status: 'resetting' } })
    await waitFor(() => reported(id)['factoryReset']?.status === 'completed' && reported(id)['rebootStatus'] === 'completed' &&
      h.hub.connections.isConnected({ deviceId: id }), 15_000, 'reset completed')
    const progress = (): unknown[] => patches.map((p) => (p['factoryReset'] as JsonObject | undefined)?.['progress']).filter((x) => x !== undefined)
    await waitFor(() => progress().length === 5, 5000, 'reset progress patches')
    expect(progress()).toEqual([0, 25, 50, 75, 100])
    expect(patches.some((p) => 'config' in p && p['config'] === null)).toBe(true)
    expect(reported(id)['config']).toBeUndefined()
    expect(dev.snapshot().config).toEqual({})
    expect(reported(id)['state']).toBe('running')
  })

  it('firmware update: downloading, verifying, applying, rebooting, current; progress visible through the reports', async () => {
    const image = randomBytes(3 * 1024 * 1024)
    await addImage('sim-fw', '2.0.0', image)
    const { id, patches } = await simDevice({ stepDelayMs: 400 })
    const payload = h.hub.firmware.updatePayload('sim-fw', '2.0.0')
    expect(await invoke(id, 'firmwareUpdate', payload)).toMatchObject({ status: 202, payload: { status: 'accepted' } })
    // While it runs, the ready-made query shows the device with its step and progress.
    const seen = await waitFor(() => (h.hub.reports.run('firmware-in-progress').rows as Array<Record<string, unknown>>)
      .find((r) => r['deviceId'] === id && r['status'] === 'applying'), 15_000, 'device mid-update in firmware-in-progress')
    expect(seen).toMatchObject({ current: '1.0.0', pending: '2.0.0' })
    expect(typeof seen['progress']).toBe('number')
    const grouped = h.hub.reports.run('firmware-status').rows
    expect(grouped).toContainEqual(expect.objectContaining({ status: 'applying' }))
    await waitFor(() => statuses(patches).length === 6, 20_000, 'update finished')
    expect(statuses(patches)).toEqual(['current', 'downloading', 'verifying', 'applying', 'rebooting', 'current'])
    const downloadProgress = patches.map((p) => p['firmware'] as JsonObject | undefined)
      .filter((f) => f !== undefined && f['progress'] !== undefined && f['status'] === undefined).map((f) => f?.['progress'])
    expect(downloadProgress.length).toBeGreaterThan(3)
    expect(reported(id)['firmware']).toMatchObject({ current: '2.0.0', currentName: 'sim-fw', progress: 100 })
    expect(reported(id)['firmware'].pending).toBeUndefined()
    expect(reported(id)['firmware'].error).toBeUndefined()
    expect(reported(id)['rebootStatus']).toBe('completed')
    expect(h.hub.reports.run('firmware-versions').rows).toContainEqual(expect.objectContaining({ version: '2.0.0' }))
    expect(h.hub.firmware.inUseBy('sim-fw', '2.0.0')).toEqual([])
  })

  it('firmware update with a corrupt image: the sha256 check fails, nothing is applied, the failure is reported', async () => {
    await addImage('sim-fw', '2.1.0', randomBytes(200_000))
    const { id, patches } = await simDevice()
    const payload = { ...h.hub.firmware.updatePayload('sim-fw', '2.1.0'), sha256: 'ab'.repeat(32) }
    expect((await invoke(id, 'firmwareUpdate', payload)).status).toBe(202)
    // The twin changes (in memory) a moment before the change event: wait on the events.
    await waitFor(() => statuses(patches).at(-1) === 'failed', 15_000, 'update failed')
    expect(statuses(patches)).toEqual(['current', 'downloading', 'verifying', 'failed'])
    expect(reported(id)['firmware']).toMatchObject({ current: '1.0.0', pending: '2.1.0', error: { code: 'sha256Mismatch' } })
    expect(reported(id)['state']).toBe('running')
    const failed = h.hub.reports.run('firmware-failed').rows as Array<Record<string, any>>
    expect(failed.find((r) => r['deviceId'] === id)?.['error']?.code).toBe('sha256Mismatch')
    expect(h.hub.reports.run('firmware-status').rows).toContainEqual(expect.objectContaining({ status: 'failed' }))
  })

  it('firmware update with an image that fails after applying: rolls back to the previous version and reports bootFailed', async () => {
    await addImage('sim-fw', '3.0.0-bad', Buffer.concat([randomBytes(50_000), Buffer.from(BAD_IMAGE_MARKER), randomBytes(50_000)]))
    const { id, patches } = await simDevice()
    expect((await invoke(id, 'firmwareUpdate', h.hub.firmware.updatePayload('sim-fw', '3.0.0-bad'))).status).toBe(202)
    await waitFor(() => statuses(patches).at(-1) === 'failed', 20_000, 'rollback reported')
    expect(statuses(patches)).toEqual(['current', 'downloading', 'verifying', 'applying', 'rebooting', 'rollingBack', 'failed'])
    expect(reported(id)['firmware']).toMatchObject({ current: '1.0.0', pending: '3.0.0-bad', error: { code: 'bootFailed' } })
    const inError = h.hub.reports.run('devices-in-error').rows as Array<Record<string, unknown>>
    expect(inError.find((r) => r['deviceId'] === id)).toMatchObject({ firmwareStatus: 'failed' })
  })

  it('a download with a revoked key fails with unauthorized; a busy device refuses a reboot', async () => {
    await addImage('sim-fw', '4.0.0', randomBytes(100_000))
    const { id } = await simDevice({ stepDelayMs: 600 })
    const payload = h.hub.firmware.updatePayload('sim-fw', '4.0.0')
    expect((await invoke(id, 'firmwareUpdate', payload)).status).toBe(202)
    await waitFor(() => reported(id)['state'] === 'updating', 10_000, 'updating')
    expect(await invoke(id, 'reboot')).toMatchObject({ status: 409, payload: { error: 'busy' } })
    await waitFor(() => reported(id)['firmware']?.status === 'current', 20_000, 'update finished')
    // Now revoke the device's keys: the next download is refused by the hub (401).
    const other = await simDevice()
    await h.hub.registry.regenerateKey({ deviceId: other.id }, 'both')
    expect((await invoke(other.id, 'firmwareUpdate', payload)).status).toBe(202)
    await waitFor(() => reported(other.id)['firmware']?.status === 'failed', 15_000, 'download refused')
    expect(reported(other.id)['firmware'].error.code).toBe('unauthorized')
  })

  it('desired firmware (for configurations and twin jobs) starts the same update', async () => {
    await addImage('sim-fw', '5.0.0', randomBytes(64_000))
    const { id } = await simDevice()
    await h.hub.twins.patchDesired({ deviceId: id }, { firmware: h.hub.firmware.updatePayload('sim-fw', '5.0.0') as unknown as JsonObject })
    await waitFor(() => reported(id)['firmware']?.current === '5.0.0' && reported(id)['firmware']?.status === 'current', 20_000, 'desired firmware installed')
  })
})
