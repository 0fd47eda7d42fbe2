// Twin service: creation, rendering, reported patches, ordering and isolation.
import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../types.js'
import { isoTime } from './metadata.js'
import { T0, deferredStore, setup } from './testing.js'

const D = { deviceId: 'dev1' }
const M = { deviceId: 'dev1', moduleId: 'mod1' }
const AT0 = isoTime(T0)

describe('new twin (B.1, B.2)', () => {
  it('has $version 1 sections, version 2, etag counter 1 and creation metadata', async () => {
    const h = setup()
    await h.addDevice(D)
    const doc = h.twins.get(D)
    expect(doc).toEqual({
      deviceId: 'dev1',
      etag: 'AAAAAAAAAAE=',
      deviceEtag: 'MA==',
      status: 'enabled',
      statusReason: null,
      statusUpdateTime: '0001-01-01T00:00:00Z',
      connectionState: 'Disconnected',
      lastActivityTime: '0001-01-01T00:00:00Z',
      cloudToDeviceMessageCount: 0,
      authenticationType: 'sas',
      x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
      modelId: '',
      version: 2,
      properties: {
        desired: { $metadata: { $lastUpdated: AT0, $lastUpdatedVersion: 1 }, $version: 1 },
        reported: { $metadata: { $lastUpdated: AT0 }, $version: 1 }
      },
      capabilities: { iotEdge: false },
      deviceScope: '',
      parentScopes: []
    })
    expect(Object.keys(doc).slice(0, 4)).toEqual(['deviceId', 'etag', 'deviceEtag', 'status'])
  })

  it('initRecord stamps a change-feed sequence and is frozen', () => {
    const h = setup()
    const rec = h.twins.initRecord(M)
    expect(rec).toMatchObject({ deviceId: 'dev1', moduleId: 'mod1', desiredVersion: 1, reportedVersion: 1, version: 2, etagCounter: 1, changeSeq: 1 })
    expect(Object.isFrozen(rec.desired)).toBe(true)
    expect(h.twins.createFor({ deviceId: 'd' } as never)).not.toHaveProperty('moduleId')
    expect(h.twins.deleteOp(M)).toEqual({ op: 'del', c: 'twins', id: 'dev1/mod1' })
  })

  it('module twins carry moduleId and join registry fields and connection state', async () => {
    const h = setup()
    await h.addDevice(D)
    await h.addDevice(M, { etagCounter: 7, status: 'disabled', modelId: 'dtmi:x;1', authentication: { type: 'selfSigned', symmetricKey: { primaryKey: null, secondaryKey: null }, x509Thumbprint: { primaryThumbprint: 'AB', secondaryThumbprint: null } } })
    h.connect(M, false)
    const doc = h.twins.get(M)
    expect(Object.keys(doc).slice(0, 2)).toEqual(['deviceId', 'moduleId'])
    expect(doc).toMatchObject({
      moduleId: 'mod1', deviceEtag: 'Nw==', status: 'disabled', connectionState: 'Connected',
      modelId: 'dtmi:x;1', authenticationType: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB' }
    })
    expect(h.twins.get(D).connectionState).toBe('Disconnected')
  })

  it('unknown identities are DeviceNotFound / ModuleNotFound', async () => {
    const h = setup()
    expect(() => h.twins.get(D)).toThrow(expect.objectContaining({ errorName: 'DeviceNotFound', httpStatus: 404 }))
    await h.addDevice(D)
    expect(() => h.twins.get({ deviceId: 'dev1', moduleId: 'nope' })).toThrow(expect.objectContaining({ errorName: 'ModuleNotFound' }))
    expect(() => h.twins.get({ deviceId: 'nope', moduleId: 'nope' })).toThrow(expect.objectContaining({ errorName: 'DeviceNotFound' }))
    await expect(h.twins.patchReported({ deviceId: 'nope' }, {})).rejects.toMatchObject({ errorName: 'DeviceNotFound' })
    await expect(h.twins.patchDesired({ deviceId: 'nope' }, {})).rejects.toMatchObject({ errorName: 'DeviceNotFound' })
  })
})

describe('patchReported (A.7, B.3)', () => {
  it('merges, bumps reported $version and the etag, stamps metadata, emits an event', async () => {
    const h = setup()
    await h.addDevice(D)
    expect(await h.twins.patchReported(D, { fw: { v: '1.0', ok: true }, temp: 20 })).toBe(2)
    h.advance(1000)
    expect(await h.twins.patchReported(D, { fw: { ok: null }, temp: 20 })).toBe(3)
    const doc = h.twins.get(D)
    const reported = doc.properties.reported
    expect(reported).toMatchObject({ fw: { v: '1.0' }, temp: 20, $version: 3 })
    expect(reported.$metadata).toEqual({
      $lastUpdated: isoTime(T0 + 1000),
      fw: { $lastUpdated: isoTime(T0 + 1000), v: { $lastUpdated: AT0 } },
      temp: { $lastUpdated: isoTime(T0 + 1000) }
    })
    expect(doc.etag).toBe('AAAAAAAAAAM=')
    expect(doc.version).toBe(2)
    expect(doc.properties.desired.$version).toBe(1)
    expect(h.eventsOf('twin.reportedChanged')).toEqual([
      { deviceId: 'dev1', patch: { fw: { v: '1.0', ok: true }, temp: 20 }, version: 2, changeSeq: 2 },
      { deviceId: 'dev1', patch: { fw: { ok: null } }, version: 3, changeSeq: 3 }
    ])
    expect(h.twins.getForDevice(D)).toEqual({ desired: { $version: 1 }, reported: { fw: { v: '1.0' }, temp: 20, $version: 3 } })
  })

  it('rejects invalid patches with ArgumentInvalid and changes nothing', async () => {
    const h = setup()
    await h.addDevice(M)
    for (const bad of [null, [1], 'x', 3, { 'a.b': 1 }, { $version: 4 }, { s: 'x'.repeat(4097) }]) {
      await expect(h.twins.patchReported(M, bad)).rejects.toMatchObject({ errorName: 'ArgumentInvalid', code: 400004 })
    }
    expect(h.twins.get(M).properties.reported.$version).toBe(1)
    expect(h.eventsOf('twin.reportedChanged')).toEqual([])
  })

  it('rejects a patch that would take reported past 32 KB', async () => {
    const h = setup()
    await h.addDevice(D)
    const chunk = (p: string): JsonObject => Object.fromEntries([0, 1, 2, 3].map((i) => [`${p}${i}`, 'v'.repeat(4000)]))
    await h.twins.patchReported(D, chunk('a'))
    await h.twins.patchReported(D, chunk('b'))
    await expect(h.twins.patchReported(D, { e: 'v'.repeat(1000) })).rejects.toThrow(/properties\.reported would be \d+ bytes, the maximum is 32768/)
    expect(h.twins.get(D).properties.reported.$version).toBe(3)
    expect(await h.twins.patchReported(D, { a0: null, e: 'v'.repeat(1000) })).toBe(4)
  })

  it('concurrent patches apply in arrival order; events follow durability in the same order', async () => {
    const store = deferredStore()
    const h = setup({ store })
    await h.addDevice(D)
    const results = [
      h.twins.patchReported(D, { n: 1, a: 1 }),
      h.twins.patchReported(D, { n: 2, b: 2 }),
      h.twins.patchReported(D, { n: 3, a: null })
    ]
    // Applied in memory at call time: a device GET right now sees all three.
    expect(h.twins.getForDevice(D).reported).toEqual({ n: 3, b: 2, $version: 4 })
    expect(h.eventsOf('twin.reportedChanged')).toEqual([])
    store.release()
    expect(await Promise.all(results)).toEqual([2, 3, 4])
    expect(h.eventsOf('twin.reportedChanged').map((e) => [e.version, e.changeSeq])).toEqual([[2, 2], [3, 3], [4, 4]])
  })
})

describe('isolation', () => {
  it('returned documents are copies and stored records are frozen', async () => {
    const h = setup()
    await h.addDevice(D)
    await h.twins.patchTags(D, { loc: { floor: 1 } })
    const doc = h.twins.get(D)
    ;(doc.tags?.loc as JsonObject).floor = 99
    doc.properties.desired.$metadata.$lastUpdated = 'x'
    expect(h.twins.get(D).tags).toEqual({ loc: { floor: 1 } })
    expect(h.twins.get(D).properties.desired.$metadata.$lastUpdated).toBe(AT0)
    const body = h.twins.getForDevice(D)
    body.desired.x = 1
    expect(h.twins.getForDevice(D).desired).toEqual({ $version: 1 })
    const rec = h.twins.record(D)
    expect(() => { (rec?.tags as JsonObject).loc = 1 }).toThrow()
  })

  it('all() renders every twin whose identity exists; records() exposes raw records', async () => {
    const h = setup()
    await h.addDevice(D)
    await h.addDevice(M)
    await h.store.put('twins', 'orphan', h.twins.initRecord({ deviceId: 'orphan' }))
    expect([...h.twins.all()].map((t) => [t.deviceId, t.moduleId])).toEqual([['dev1', undefined], ['dev1', 'mod1']])
    expect([...h.twins.records()].map((r) => r.twin.etagCounter)).toEqual([1, 1])
  })

  it('an identity without a stored twin reads as a fresh twin', () => {
    const h = setup()
    h.devices.set('dev2', { deviceId: 'dev2' } as never)
    expect(h.twins.getForDevice({ deviceId: 'dev2' })).toEqual({ desired: { $version: 1 }, reported: { $version: 1 } })
  })
})
