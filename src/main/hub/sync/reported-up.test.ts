// The decision logic of reported-up.ts against a stand-in upstream twin (a mock of the device
// link: the real link, cloud and crashes are in test/sync/reported-once.test.ts and the
// twin-crash tests). The stand-in applies patches with the hub's own merge.
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../store/memory-store.js'
import { mergePatch } from '../twins/merge-patch.js'
import type { JsonObject } from '../types.js'
import type { DeviceLink } from './device-link.js'
import { pushReported, sentKey, type ReportedCounters } from './reported-up.js'

function cloudTwin () {
  const cloud = { reported: {} as JsonObject, version: 1, patches: [] as JsonObject[], loseAnswers: false, loseRequests: false }
  const link = {
    async patchReported (patch: JsonObject) {
      if (cloud.loseRequests) throw new Error('no answer to the reported patch within 10 s')
      cloud.reported = mergePatch(cloud.reported, patch).value
      cloud.version++
      cloud.patches.push(patch)
      if (cloud.loseAnswers) throw new Error('no answer to the reported patch within 10 s')
      return cloud.version
    },
    async getTwin () { return { desired: { $version: 1 }, reported: { ...cloud.reported, $version: cloud.version } } }
  } as unknown as DeviceLink
  return { cloud, link }
}

describe('reported patches up, exactly once', () => {
  it('a patch applied upstream whose answer was lost is not sent again; later changes go after it', async () => {
    const store = createMemoryStore()
    const { cloud, link } = cloudTwin()
    const counters: ReportedCounters = { patchesSent: 0, alreadyApplied: 0, notApplied: 0 }
    let local: JsonObject & { $version: number } = { a: 1, $version: 2 }
    const t = { stateKey: 'dev:d', local: () => local, link: async () => link }

    await pushReported(store, t, counters) // no shadow yet: the cloud's twin is the base
    expect(cloud.patches).toEqual([{ a: 1 }])
    expect(store.has('sync', sentKey('dev:d'))).toBe(false)

    local = { a: 2, b: { c: 1 }, $version: 3 }
    cloud.loseAnswers = true
    await expect(pushReported(store, t, counters)).rejects.toThrow(/no answer/)
    expect(store.get('sync', sentKey('dev:d'))).toEqual({ version: 3 })
    cloud.loseAnswers = false
    await pushReported(store, t, counters) // the cloud holds it: nothing sent
    expect(cloud.patches).toEqual([{ a: 1 }, { a: 2, b: { c: 1 } }])
    expect(counters).toEqual({ patchesSent: 1, alreadyApplied: 1, notApplied: 0 })
    expect(store.has('sync', sentKey('dev:d'))).toBe(false)

    // answer lost again, and the device changed meanwhile: only the difference goes up, after
    local = { a: 2, b: { c: 2 }, $version: 4 }
    cloud.loseAnswers = true
    await expect(pushReported(store, t, counters)).rejects.toThrow()
    cloud.loseAnswers = false
    local = { a: 2, b: { c: 2 }, d: true, $version: 5 }
    await pushReported(store, t, counters)
    expect(cloud.patches.slice(2)).toEqual([{ b: { c: 2 } }, { d: true }])
    expect(cloud.reported).toEqual({ a: 2, b: { c: 2 }, d: true })
    expect(counters.alreadyApplied).toBe(2)
  })

  it('a patch the cloud never got is sent again (as part of the current difference)', async () => {
    const store = createMemoryStore()
    const { cloud, link } = cloudTwin()
    const counters: ReportedCounters = { patchesSent: 0, alreadyApplied: 0, notApplied: 0 }
    let local: JsonObject & { $version: number } = { a: 1, x: 1, $version: 2 }
    const t = { stateKey: 'mod:d/m', local: () => local, link: async () => link }
    await pushReported(store, t, counters)
    local = { a: 1, $version: 3 }
    cloud.loseRequests = true
    await expect(pushReported(store, t, counters)).rejects.toThrow()
    cloud.loseRequests = false
    await pushReported(store, t, counters)
    expect(cloud.patches).toEqual([{ a: 1, x: 1 }, { x: null }])
    expect(cloud.reported).toEqual({ a: 1 })
    expect(counters).toEqual({ patchesSent: 2, alreadyApplied: 0, notApplied: 1 })
    // in sync: nothing more to do, no request at all
    await pushReported(store, t, counters)
    expect(cloud.patches.length).toBe(2)
  })
})
