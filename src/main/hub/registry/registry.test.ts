import { describe, expect, it } from 'vitest'
import { createConnectionManager } from '../connections.js'
import { createEventBus } from '../events.js'
import { silentLogger } from '../logger.js'
import { createMemoryStore } from '../store/memory-store.js'
import type { TwinRecord } from '../types.js'
import { createRegistry } from './registry.js'
import { createSasToken } from './sas.js'

function setup (now = Date.parse('2026-01-01T00:00:00Z')) {
  const store = createMemoryStore()
  const events = createEventBus()
  const clock = { now: () => now }
  const connections = createConnectionManager({ store, events, clock, logger: silentLogger })
  const registry = createRegistry({
    store, events, clock,
    hostName: () => 'hub.local',
    extraHostNames: () => ['127.0.0.9'],
    connections: () => connections,
    newTwin: (identity) => ({ ...identity, tags: {}, desired: {}, reported: {} } as unknown as TwinRecord)
  })
  return { store, events, registry, clock }
}

describe('registry', () => {
  it('creates devices with generated keys and refuses duplicates with 409', async () => {
    const { registry, store } = setup()
    const d = await registry.create({ deviceId: 'dev 1'.replace(' ', '-'), authentication: { symmetricKey: { primaryKey: '', secondaryKey: '' } } })
    expect(d.authentication.type).toBe('sas')
    expect(Buffer.from(d.authentication.symmetricKey.primaryKey ?? '', 'base64')).toHaveLength(32)
    expect(d.etag).toBe('MA==')
    expect(d.connectionState).toBe('Disconnected')
    expect(store.has('twins', 'dev-1')).toBe(true)
    await expect(registry.create({ deviceId: 'dev-1' })).rejects.toMatchObject({ errorName: 'DeviceAlreadyExists', httpStatus: 409 })
  })

  it('validates ids, keys and status', async () => {
    const { registry } = setup()
    await expect(registry.create({ deviceId: 'bad/id' })).rejects.toMatchObject({ code: 400004 })
    await expect(registry.create({ deviceId: 'x'.repeat(129) })).rejects.toMatchObject({ code: 400004 })
    await expect(registry.create({ deviceId: 'k', authentication: { symmetricKey: { primaryKey: 'short' } } })).rejects.toMatchObject({ code: 400004 })
    await expect(registry.create({ deviceId: 's', status: 'off' as 'enabled' })).rejects.toMatchObject({ code: 400004 })
    await expect(registry.create({ deviceId: "ok-:.+%_#*?!(),=@;$'" })).resolves.toBeTruthy()
  })

  it('updates with etags, disables, regenerates keys and deletes the twin', async () => {
    const { registry, store } = setup()
    await registry.create({ deviceId: 'a' })
    await expect(registry.update({ deviceId: 'a', etag: 'nope', status: 'disabled' })).rejects.toMatchObject({ httpStatus: 412 })
    const d = await registry.setStatus({ deviceId: 'a' }, 'disabled', 'maintenance')
    expect(d).toMatchObject({ status: 'disabled', statusReason: 'maintenance', etag: 'MQ==' })
    const before = d.authentication.symmetricKey.primaryKey
    const r = await registry.regenerateKey({ deviceId: 'a' }, 'primary')
    expect(r.authentication.symmetricKey.primaryKey).not.toBe(before)
    expect(r.authentication.symmetricKey.secondaryKey).toBe(d.authentication.symmetricKey.secondaryKey)
    expect(registry.count()).toEqual({ total: 1, enabled: 0, disabled: 1 })
    await registry.remove({ deviceId: 'a' })
    expect(store.has('twins', 'a')).toBe(false)
    expect(() => registry.mustGet({ deviceId: 'a' })).toThrow(/not registered/)
  })

  it('authenticates device SAS tokens with either key, refuses wrong, expired, disabled and foreign-host tokens', async () => {
    const { registry, clock } = setup()
    const d = await registry.create({ deviceId: 'd1' })
    const se = Math.floor(clock.now() / 1000) + 3600
    const token = (key: string, host = 'hub.local', id = 'd1', expiry = se) => createSasToken({ resource: `${host}/devices/${id}`, key, expiry })
    const { primaryKey, secondaryKey } = d.authentication.symmetricKey
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: token(primaryKey!) }).ok).toBe(true)
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: token(secondaryKey!) }).ok).toBe(true)
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: token(primaryKey!, 'HUB.local:8883') }).ok).toBe(true)
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: token(primaryKey!, '127.0.0.9') }).ok).toBe(true)
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: token(primaryKey!, 'other.hub') })).toMatchObject({ ok: false, reason: expect.stringMatching(/not this hub/) })
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: token(Buffer.alloc(32, 7).toString('base64')) })).toMatchObject({ ok: false })
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: token(primaryKey!, 'hub.local', 'd1', se - 7200 - 600) })).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) })
    expect(registry.authenticateDevice({ deviceId: 'nobody', sasToken: token(primaryKey!, 'hub.local', 'nobody') })).toMatchObject({ ok: false, reason: expect.stringMatching(/not registered/) })
    // A token for d1 does not open d2, even if signed with d2's key.
    const d2 = await registry.create({ deviceId: 'd2' })
    expect(registry.authenticateDevice({ deviceId: 'd2', sasToken: token(d2.authentication.symmetricKey.primaryKey!, 'hub.local', 'd1') }).ok).toBe(false)
    await registry.setStatus({ deviceId: 'd1' }, 'disabled')
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: token(primaryKey!) })).toMatchObject({ ok: false, reason: expect.stringMatching(/disabled/) })
  })

  it('accepts policy tokens with DeviceConnect for a device and service tokens by permission', async () => {
    const { registry, clock } = setup()
    await registry.ensureDefaults()
    await registry.create({ deviceId: 'd1' })
    const se = Math.floor(clock.now() / 1000) + 3600
    const device = registry.policies.get('device')!
    const service = registry.policies.get('service')!
    const devTok = createSasToken({ resource: 'hub.local/devices', key: device.primaryKey, expiry: se, keyName: 'device' })
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: devTok }).ok).toBe(true)
    const svcTokForDevice = createSasToken({ resource: 'hub.local/devices', key: service.primaryKey, expiry: se, keyName: 'service' })
    expect(registry.authenticateDevice({ deviceId: 'd1', sasToken: svcTokForDevice })).toMatchObject({ ok: false, reason: expect.stringMatching(/DeviceConnect/) })
    const svc = createSasToken({ resource: 'hub.local', key: service.primaryKey, expiry: se, keyName: 'service', encodeResource: false })
    expect(registry.authenticateService(svc, 'ServiceConnect').ok).toBe(true)
    expect(registry.authenticateService(svc, 'RegistryWrite').ok).toBe(false)
    const owner = registry.policies.get('iothubowner')!
    expect(registry.policies.connectionString('iothubowner')).toBe(`HostName=hub.local;SharedAccessKeyName=iothubowner;SharedAccessKey=${owner.primaryKey}`)
    expect(registry.policies.list().map((p) => p.keyName).sort()).toEqual(['device', 'iothubowner', 'registryRead', 'registryReadWrite', 'service'])
  })

  it('authenticates X.509 devices by SHA-1 or SHA-256 thumbprint', async () => {
    const { registry } = setup()
    const d = await registry.create({ deviceId: 'x1', authentication: { x509Thumbprint: { primaryThumbprint: 'ab:cd', secondaryThumbprint: 'EF01' } } })
    expect(d.authentication.type).toBe('selfSigned')
    expect(registry.deviceConnectionString({ deviceId: 'x1' })).toBe('HostName=hub.local;DeviceId=x1;x509=true')
    expect(registry.authenticateDevice({ deviceId: 'x1', certThumbprints: { sha1: 'ABCD', sha256: '00' } }).ok).toBe(true)
    expect(registry.authenticateDevice({ deviceId: 'x1', certThumbprints: { sha1: '00', sha256: 'ef01' } }).ok).toBe(true)
    expect(registry.authenticateDevice({ deviceId: 'x1', certThumbprints: { sha1: '00', sha256: '11' } }).ok).toBe(false)
  })

  it('manages modules under their device', async () => {
    const { registry } = setup()
    await expect(registry.create({ deviceId: 'p', moduleId: 'm' })).rejects.toMatchObject({ errorName: 'DeviceNotFound' })
    await registry.create({ deviceId: 'p' })
    await registry.create({ deviceId: 'p', moduleId: 'm' })
    expect(registry.listModules('p').map((m) => m.moduleId)).toEqual(['m'])
    expect(registry.list().map((d) => d.deviceId)).toEqual(['p'])
    expect(registry.deviceConnectionString({ deviceId: 'p', moduleId: 'm' })).toMatch(/;ModuleId=m;SharedAccessKey=/)
    await registry.remove({ deviceId: 'p' })
    expect(registry.get({ deviceId: 'p', moduleId: 'm' })).toBeUndefined()
  })
})
