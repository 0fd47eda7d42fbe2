// The service REST API driven by the official azure-iothub SDK (protocol C.1-C.3, C.5).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'node:https'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import iothub from 'azure-iothub'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'

const { Registry, Client } = iothub

let hub: ServiceHub
let registry: InstanceType<typeof Registry>

beforeAll(async () => {
  hub = await startServiceHub()
  registry = Registry.fromConnectionString(hub.connectionString())
})
afterAll(async () => { await hub?.close() })

/** A raw HTTPS call, for what the SDK cannot express (bad auth, malformed bodies). */
function raw (method: string, path: string, opts: { body?: string; auth?: string | null; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
    if (opts.auth !== null) headers['Authorization'] = opts.auth ?? sasFor('iothubowner')
    const req = request({ host: hub.ip, port: 443, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

describe('registry over REST with azure-iothub', () => {
  it('creates with generated keys, gets, lists, updates with etags and deletes', async () => {
    const created = await registry.create({ deviceId: 'dev:1#a', authentication: { symmetricKey: { primaryKey: '', secondaryKey: '' } } } as never)
    const dev = created.responseBody
    expect(dev.deviceId).toBe('dev:1#a')
    expect(dev.authentication?.symmetricKey?.primaryKey).toHaveLength(44)
    await expect(registry.create({ deviceId: 'dev:1#a' } as never)).rejects.toMatchObject({ name: 'DeviceAlreadyExistsError' })
    const got = await registry.get('dev:1#a')
    expect(got.responseBody.etag).toBe('MA==')
    const list = await registry.list()
    expect(list.responseBody.map((d) => d.deviceId)).toEqual(['dev:1#a'])
    const updated = await registry.update({ deviceId: 'dev:1#a', status: 'disabled', statusReason: 'maintenance' } as never)
    expect(updated.responseBody.status).toBe('disabled')
    const stats = await registry.getRegistryStatistics()
    expect(stats.responseBody).toEqual({ totalDeviceCount: 1, enabledDeviceCount: 0, disabledDeviceCount: 1 })
    await registry.delete('dev:1#a')
    await expect(registry.get('dev:1#a')).rejects.toMatchObject({ name: 'DeviceNotFoundError' })
  })

  it('manages modules', async () => {
    await registry.create({ deviceId: 'gw' } as never)
    await registry.addModule({ deviceId: 'gw', moduleId: 'reader' } as never)
    const mods = await registry.getModulesOnDevice('gw')
    expect(mods.responseBody.map((m) => m.moduleId)).toEqual(['reader'])
    const mod = await registry.getModule('gw', 'reader')
    expect(mod.responseBody.authentication?.symmetricKey?.primaryKey).toHaveLength(44)
    await registry.removeModule('gw', 'reader')
    await expect(registry.getModule('gw', 'reader')).rejects.toBeTruthy()
  })

  it('applies bulk create, update and delete with per-item errors (modes compared case-insensitively)', async () => {
    const r1 = await registry.addDevices([{ deviceId: 'b1' }, { deviceId: 'b2' }] as never)
    expect(r1.responseBody).toMatchObject({ isSuccessful: true, errors: [] })
    const dup = await registry.addDevices([{ deviceId: 'b1' }, { deviceId: 'b3' }] as never).then(() => null, (e: { responseBody?: unknown; message?: string }) => e)
    expect(dup).not.toBeNull()
    expect(String(dup?.message) + JSON.stringify(dup?.responseBody ?? '')).toMatch(/DeviceAlreadyExists|ArgumentError|Bad Request/)
    expect((await registry.get('b3')).responseBody.deviceId).toBe('b3')
    await registry.updateDevices([{ deviceId: 'b1', status: 'disabled' }] as never, true)
    expect((await registry.get('b1')).responseBody.status).toBe('disabled')
    await registry.removeDevices([{ deviceId: 'b1' }, { deviceId: 'b2' }, { deviceId: 'b3' }] as never, true)
    await expect(registry.get('b2')).rejects.toMatchObject({ name: 'DeviceNotFoundError' })
    const tooMany = await raw('POST', '/devices', { body: JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ id: `x${i}`, importMode: 'create' }))) })
    expect(tooMany.status).toBe(400)
    const mixed = await raw('POST', '/devices', { body: JSON.stringify([{ id: 'c1', importMode: 'CREATE' }, { id: 'c1', importMode: 'bogus' }, { id: 'no/slash', importMode: 'create' }]) })
    expect(mixed.status).toBe(400)
    expect(JSON.parse(mixed.body)).toMatchObject({ isSuccessful: false, errors: [{ deviceId: 'c1', errorCode: 'ArgumentInvalid' }, { deviceId: 'no/slash', errorCode: 'ArgumentInvalid' }] })
    expect((await registry.get('c1')).responseBody.deviceId).toBe('c1')
  })

  it('exports and imports identities through file:/// folders with the SDK job calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-io-'))
    try {
      await registry.create({ deviceId: 'io-1' } as never)
      await registry.updateTwin('io-1', { tags: { line: 'L1' }, properties: { desired: { rate: 7 } } }, '*')
      const started = (await registry.exportDevicesToBlob(pathToFileURL(join(dir, 'out')).href, false)) as unknown as { jobId: string; status: string }
      expect(started.status).toBe('enqueued')
      const done = await hub.hub.ioJobs.wait(started.jobId)
      expect(done).toMatchObject({ status: 'completed', progress: 100, type: 'export' })
      expect(await registry.getJob(started.jobId)).toMatchObject({ status: 'completed' })
      const lines = readFileSync(join(dir, 'out', 'devices.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      const io1 = lines.find((l) => l.id === 'io-1')
      expect(io1).toMatchObject({ status: 'enabled', tags: { line: 'L1' }, properties: { desired: { rate: 7 } } })
      expect(io1.authentication.symmetricKey.primaryKey).toHaveLength(44)

      mkdirSync(join(dir, 'in'))
      writeFileSync(join(dir, 'in', 'devices.txt'), [
        JSON.stringify({ id: 'imp-1', importMode: 'create', tags: { zone: 'Z9' } }),
        JSON.stringify({ id: 'io-1', importMode: 'Update', status: 'disabled' }),
        'not json',
        JSON.stringify({ id: 'bad/id', importMode: 'create' })
      ].join('\n') + '\n')
      const imp = (await registry.importDevicesFromBlob(pathToFileURL(join(dir, 'in')).href, pathToFileURL(join(dir, 'in')).href)) as unknown as { jobId: string }
      const result = await hub.hub.ioJobs.wait(imp.jobId)
      expect(result).toMatchObject({ status: 'completed', processed: 2, failed: 2 })
      expect((await registry.getTwin('imp-1')).responseBody.tags).toEqual({ zone: 'Z9' })
      expect((await registry.get('io-1')).responseBody.status).toBe('disabled')
      expect(readFileSync(join(dir, 'in', 'importErrors.log'), 'utf8')).toMatch(/line":3.*line":4/s)
      const jobs = (await registry.listJobs()).responseBody as unknown as Array<{ jobId: string }>
      expect(jobs.map((j) => j.jobId)).toEqual(expect.arrayContaining([started.jobId, imp.jobId]))
      await expect(registry.exportDevicesToBlob('https://example.blob.core.windows.net/c?sas', false)).rejects.toMatchObject({ name: 'ArgumentError' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reads and patches twins with etags', async () => {
    await registry.create({ deviceId: 'tw' } as never)
    const twin = (await registry.getTwin('tw')).responseBody
    expect(twin.deviceId).toBe('tw')
    const patched = await registry.updateTwin('tw', { tags: { site: 'A' }, properties: { desired: { rate: 5 } } }, twin.etag)
    expect(patched.responseBody.tags).toEqual({ site: 'A' })
    expect(patched.responseBody.properties.desired['rate']).toBe(5)
    await expect(registry.updateTwin('tw', { tags: { site: 'B' } }, twin.etag)).rejects.toMatchObject({ name: 'InvalidEtagError' })
    const forced = await registry.updateTwin('tw', { tags: { site: null } }, '*')
    expect(forced.responseBody.tags ?? {}).toEqual({})
  })

  it('answers DeviceNotOnline for an offline device and 404 for an unknown one', async () => {
    await registry.create({ deviceId: 'offline' } as never)
    const client = Client.fromConnectionString(hub.connectionString('service'))
    await expect(client.invokeDeviceMethod('offline', { methodName: 'reboot', payload: null, responseTimeoutInSeconds: 5 })).rejects.toBeTruthy()
    const r = await raw('POST', '/twins/offline/methods?api-version=2021-04-12', {
      body: JSON.stringify({ methodName: 'reboot', payload: null, responseTimeoutInSeconds: 5, connectTimeoutInSeconds: 0 }),
      auth: sasFor('service')
    })
    expect(r.status).toBe(404)
    expect(JSON.parse(r.body)).toMatchObject({ errorCode: 404103, Message: expect.stringMatching(/^ErrorCode:DeviceNotOnline;/) })
  })

  it('refuses missing, bad and under-privileged tokens with 401 and IoT Hub error bodies', async () => {
    const none = await raw('GET', '/devices?api-version=2021-04-12', { auth: null })
    expect(none.status).toBe(401)
    expect(none.headers['content-type']).toMatch(/application\/json/)
    expect(JSON.parse(none.body).Message).toMatch(/^ErrorCode:IotHubUnauthorizedAccess;/)
    expect((await raw('GET', '/devices', { auth: 'SharedAccessSignature sr=x&sig=y&se=1&skn=iothubowner' })).status).toBe(401)
    expect((await raw('PUT', '/devices/x', { auth: sasFor('registryRead'), body: '{}' })).status).toBe(401)
    expect((await raw('GET', '/devices', { auth: sasFor('registryRead') })).status).toBe(200)
  })

  it('answers malformed JSON with 400 and keeps serving under a flood of bad requests', async () => {
    const bad = await raw('PUT', '/devices/m1', { body: '{"deviceId":', auth: sasFor('iothubowner') })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).Message).toMatch(/^ErrorCode:ArgumentInvalid;/)
    const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => raw(i % 2 ? 'PATCH' : 'PUT', `/twins/%E0%A4%A/${i}`, { body: '[[[', auth: sasFor('iothubowner') })))
    expect(flood.every((r) => r.status >= 400 && r.status < 500)).toBe(true)
    expect((await registry.getRegistryStatistics()).responseBody.totalDeviceCount).toBeGreaterThanOrEqual(0)
    const big = await raw('PUT', '/devices/big', { body: JSON.stringify({ deviceId: 'big', pad: 'x'.repeat(300 * 1024) }), auth: sasFor('iothubowner') })
    expect(big.status).toBe(413)
  })
})

function sasFor (policy: string): string {
  const p = hub.hub.registry.policies.get(policy)!
  // Same construction as azure-iothub: sr = bare host name, skn = policy.
  return createSasToken({ resource: hub.ip, key: p.primaryKey, expiry: Math.floor(Date.now() / 1000) + 3600, keyName: policy, encodeResource: false })
}
