// Twin service: service PATCH/PUT (C.3, B.3), If-Match, desired notifications (A.7).
import { describe, expect, it } from 'vitest'
import { twinEtag } from './etag.js'
import { isoTime } from './metadata.js'
import { T0, deferredStore, setup } from './testing.js'

const D = { deviceId: 'dev1' }
const M = { deviceId: 'dev1', moduleId: 'm' }

async function ready (opts: Parameters<typeof setup>[0] = {}) {
  const h = setup(opts)
  await h.addDevice(D)
  await h.addDevice(M)
  return h
}

describe('service PATCH (B.3)', () => {
  it('tags and desired: versions, metadata, events', async () => {
    const h = await ready()
    h.advance(500)
    const doc = await h.twins.patch(D, { tags: { site: 'A' }, properties: { desired: { rate: 5, cfg: { a: 1 } } }, etag: 'ignored' })
    expect(doc).toMatchObject({ version: 3, etag: 'AAAAAAAAAAI=', tags: { site: 'A' } })
    expect(doc.properties.desired).toMatchObject({ rate: 5, cfg: { a: 1 }, $version: 2 })
    const at = isoTime(T0 + 500)
    expect(doc.properties.desired.$metadata).toEqual({
      $lastUpdated: at, $lastUpdatedVersion: 2,
      rate: { $lastUpdated: at, $lastUpdatedVersion: 2 },
      cfg: { $lastUpdated: at, $lastUpdatedVersion: 2, a: { $lastUpdated: at, $lastUpdatedVersion: 2 } }
    })
    expect(h.eventsOf('twin.desiredChanged')).toEqual([{ deviceId: 'dev1', patch: { rate: 5, cfg: { a: 1 } }, version: 2, changeSeq: 3 }])
    expect(h.eventsOf('twin.tagsChanged')).toEqual([{ deviceId: 'dev1', tags: { site: 'A' }, changeSeq: 3, patch: { site: 'A' } }])
  })

  it('tags alone bump version and etag but not desired $version', async () => {
    const h = await ready()
    const conn = h.connect(D, true)
    const doc = await h.twins.patchTags(D, { a: 1 })
    expect([doc.version, doc.properties.desired.$version, doc.etag]).toEqual([3, 1, twinEtag(2)])
    expect(conn.desired).toEqual([])
    expect(h.eventsOf('twin.desiredChanged')).toEqual([])
  })

  it('writing current values is a no-op: no version, no event, no notification', async () => {
    const h = await ready()
    await h.twins.patch(D, { tags: { a: 1 }, properties: { desired: { x: 1 } } })
    const conn = h.connect(D, true)
    const before = h.twins.get(D)
    const doc = await h.twins.patch(D, { tags: { a: 1 }, properties: { desired: { x: 1, gone: null }, reported: {} } })
    expect(doc).toEqual(before)
    expect(conn.desired).toEqual([])
    expect(h.eventsOf('twin.desiredChanged')).toHaveLength(1)
  })

  it('empty reported is ignored; non-empty reported and bad bodies are 400', async () => {
    const h = await ready()
    await h.twins.patch(D, { tags: { a: 1 }, properties: { desired: {}, reported: {} } })
    for (const body of [{ properties: { reported: { x: 1 } } }, { properties: { reported: 5 } }, [1], 'x', { tags: 5 }, { properties: { desired: [1] } }, { tags: { 'a b': 1 } }, { properties: 3 }]) {
      await expect(h.twins.patch(D, body)).rejects.toMatchObject({ errorName: 'ArgumentInvalid', httpStatus: 400 })
    }
    expect(h.twins.get(D).version).toBe(3)
  })

  it('If-Match: current etag and * match, a stale one is 412', async () => {
    const h = await ready()
    await h.twins.patchDesired(D, { a: 1 }, '"*"')
    await h.twins.patchDesired(D, { a: 2 }, `"${twinEtag(2)}"`)
    await expect(h.twins.patchDesired(D, { a: 3 }, `"${twinEtag(2)}"`)).rejects.toMatchObject({ errorName: 'PreconditionFailed', httpStatus: 412 })
    await expect(h.twins.replace(D, {}, 'W/"AAAAAAAAAAE="')).rejects.toMatchObject({ errorName: 'PreconditionFailed' })
    expect(h.twins.get(D).properties.desired).toMatchObject({ a: 2, $version: 3 })
  })

  it('two concurrent writes based on one etag: the second gets 412', async () => {
    const h = await ready({ store: deferredStore() })
    const etag = `"${h.twins.get(D).etag}"`
    const first = h.twins.patchDesired(D, { a: 1 }, etag)
    const second = h.twins.patchDesired(D, { a: 2 }, etag)
    await expect(second).rejects.toMatchObject({ errorName: 'PreconditionFailed' })
    ;(h.store as ReturnType<typeof deferredStore>).release()
    await first
  })
})

describe('desired notifications (A.7, G.7)', () => {
  it('go only to connected devices subscribed to desired, with explicit nulls', async () => {
    const h = await ready()
    await h.twins.patchDesired(D, { a: 1, b: { c: 1, d: 2 } })
    await h.twins.patchDesired(M, { a: 1 })
    const subscribed = h.connect(D, true)
    const unsubscribed = h.connect(M, false)
    await h.twins.patchDesired(D, { a: null, b: { c: null }, e: [1] })
    await h.twins.patchDesired(M, { a: null })
    expect(subscribed.desired).toEqual([{ patch: { a: null, b: { c: null }, e: [1] }, version: 3 }])
    expect(unsubscribed.desired).toEqual([])
  })

  it('a section clear lists every removed key as null', async () => {
    const h = await ready()
    await h.twins.patch(D, { tags: { t1: 1, t2: { x: 1 } }, properties: { desired: { a: 1, b: { c: 2 } } } })
    const conn = h.connect(D, true)
    const doc = await h.twins.patch(D, { tags: null, properties: { desired: null } })
    expect(conn.desired).toEqual([{ patch: { a: null, b: null }, version: 3 }])
    expect(doc.tags).toBeUndefined()
    expect(doc.properties.desired).toEqual({ $metadata: { $lastUpdated: isoTime(T0), $lastUpdatedVersion: 3 }, $version: 3 })
    expect(h.eventsOf('twin.desiredChanged').at(-1)?.patch).toEqual({ a: null, b: null })
    expect(h.eventsOf('twin.tagsChanged').at(-1)?.tags).toEqual({})
    await h.twins.patchDesired(D, null)
    expect(conn.desired).toHaveLength(1)
  })

  it('are sent only after the write is durable, in version order', async () => {
    const store = deferredStore()
    const h = await ready({ store })
    const durableAtNotify: number[] = []
    const conn = h.connect(D, true, () => { durableAtNotify.push(store.pending()) })
    const writes = [h.twins.patchDesired(D, { a: 1 }), h.twins.patchDesired(D, { a: 2 })]
    await Promise.resolve()
    expect(conn.desired).toEqual([])
    expect(h.eventsOf('twin.desiredChanged')).toEqual([])
    store.release()
    await Promise.all(writes)
    expect(durableAtNotify).toEqual([0, 0])
    expect(conn.desired.map((n) => n.version)).toEqual([2, 3])
  })

  it('a throwing connection does not fail the write', async () => {
    const h = await ready()
    h.connect(D, true, () => { throw new Error('socket gone') })
    await expect(h.twins.patchDesired(D, { a: 1 })).resolves.toMatchObject({ version: 3 })
  })
})

describe('service PUT (C.3)', () => {
  it('replaces tags and desired wholesale, leaves reported, notifies removals as null', async () => {
    const h = await ready()
    await h.twins.patch(D, { tags: { keep: 1, drop: 2 }, properties: { desired: { a: 1, b: { x: 1, y: 2 }, c: 3 } } })
    await h.twins.patchReported(D, { r: 1 })
    const conn = h.connect(D, true)
    const fetched = h.twins.get(D)
    // A full fetched document goes back over the wire: read-only fields and $metadata ride along.
    const body = JSON.parse(JSON.stringify({
      ...fetched,
      tags: { keep: 1 },
      properties: { desired: { ...fetched.properties.desired, a: undefined, b: { x: 1 }, d: 4 }, reported: { r: 999 } }
    }))
    const doc = await h.twins.replace(D, body)
    expect(doc.tags).toEqual({ keep: 1 })
    expect(doc.properties.desired).toMatchObject({ b: { x: 1 }, c: 3, d: 4, $version: 3 })
    expect(doc.properties.desired).not.toHaveProperty('a')
    expect(doc.properties.reported).toMatchObject({ r: 1, $version: 2 })
    expect(conn.desired).toEqual([{ patch: { a: null, b: { y: null }, d: 4 }, version: 3 }])
  })

  it('absent sections are replaced by empty ones', async () => {
    const h = await ready()
    await h.twins.patch(D, { tags: { t: 1 }, properties: { desired: { a: 1 } } })
    const conn = h.connect(D, true)
    const doc = await h.twins.replace(D, {})
    expect(doc.tags).toBeUndefined()
    expect(conn.desired).toEqual([{ patch: { a: null }, version: 3 }])
  })
})
