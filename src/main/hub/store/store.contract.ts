// The HubStore contract suite: every implementation (memory, durable) runs it.
import { afterEach, describe, expect, it } from 'vitest'
import type { DeviceRecord, JsonObject } from '../types.js'
import type { HubStore } from './types.js'

export interface StoreHarness {
  open(): Promise<HubStore>
  /** Close and open again over the same data (for durable stores); undefined for memory. */
  reopen?: (store: HubStore) => Promise<HubStore>
  cleanup(): Promise<void>
}

const device = (deviceId: string): DeviceRecord => ({
  deviceId,
  generationId: 'g1',
  etagCounter: 1,
  status: 'enabled',
  statusReason: null,
  statusUpdatedTime: '2024-01-01T00:00:00.000Z',
  authentication: { type: 'sas', symmetricKey: { primaryKey: 'a', secondaryKey: 'b' }, x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null } },
  capabilities: { iotEdge: false },
  deviceScope: '',
  parentScopes: [],
  lastActivityTime: '2024-01-01T00:00:00.000Z',
  cloudToDeviceMessageCount: 0,
  modelId: '',
  createdTime: '2024-01-01T00:00:00.000Z'
})

export function storeContract (name: string, makeHarness: () => StoreHarness): void {
  describe(`HubStore contract: ${name}`, () => {
    let h: StoreHarness
    let store: HubStore
    const open = async (): Promise<HubStore> => { h = makeHarness(); store = await h.open(); return store }
    afterEach(async () => { await store.close(); await h.cleanup() })

    it('put then get sees the doc at once, before the promise resolves', async () => {
      await open()
      const p = store.put('devices', 'd1', device('d1'))
      expect(store.get('devices', 'd1')?.deviceId).toBe('d1')
      expect(store.has('devices', 'd1')).toBe(true)
      await p
      expect(store.size('devices')).toBe(1)
      expect(store.get('twins', 'd1')).toBeUndefined()
    })

    it('put replaces; del removes; del of a missing id is fine', async () => {
      await open()
      await store.put('settings', 's', { a: 1 })
      await store.put('settings', 's', { a: 2 })
      expect(store.get('settings', 's')).toEqual({ a: 2 })
      await store.del('settings', 's')
      await store.del('settings', 'nope')
      expect(store.has('settings', 's')).toBe(false)
      expect(store.size('settings')).toBe(0)
    })

    it('entries iterate in insertion order, per collection', async () => {
      await open()
      for (const id of ['c', 'a', 'b']) await store.put('meta', id, { id })
      await store.put('settings', 'x', {})
      expect([...store.entries('meta')].map(([id]) => id)).toEqual(['c', 'a', 'b'])
      expect(store.size('settings')).toBe(1)
    })

    it('batch applies all ops in order', async () => {
      await open()
      await store.put('meta', 'gone', { v: 0 })
      await store.batch([
        { op: 'put', c: 'devices', id: 'd2', doc: device('d2') },
        { op: 'put', c: 'meta', id: 'k', doc: { v: 1 } },
        { op: 'put', c: 'meta', id: 'k', doc: { v: 2 } },
        { op: 'del', c: 'meta', id: 'gone' }
      ])
      expect(store.get('meta', 'k')).toEqual({ v: 2 })
      expect(store.has('meta', 'gone')).toBe(false)
      expect(store.get('devices', 'd2')?.deviceId).toBe('d2')
      await store.batch([])
    })

    it('concurrent writes all resolve; flush resolves; stats count docs', async () => {
      await open()
      await Promise.all(Array.from({ length: 200 }, async (_, i) => { await store.put('meta', `k${i}`, { i }) }))
      await store.flush()
      const s = store.stats()
      expect(s.docs.meta).toBe(200)
      expect(s.commits).toBeGreaterThanOrEqual(200)
      expect(store.recovery.problems).toEqual([])
    })

    it('data survives a reopen (durable stores)', async () => {
      await open()
      if (h.reopen === undefined) return
      const doc: JsonObject = { nested: { list: [1, 'two', null, true] }, unicode: 'é✓' }
      await store.put('settings', 'cfg', doc)
      await store.batch([{ op: 'put', c: 'meta', id: 'a', doc: { n: 1 } }, { op: 'del', c: 'settings', id: 'none' }])
      await store.del('meta', 'a')
      store = await h.reopen(store)
      expect(store.get('settings', 'cfg')).toEqual(doc)
      expect(store.has('meta', 'a')).toBe(false)
      expect(store.recovery.problems).toEqual([])
    })
  })
}
