import { describe, expect, it } from 'vitest'
import { mergePatch } from '../twins/merge-patch.js'
import type { JsonObject } from '../types.js'
import { combinePatches, getPath, merge3, patchPaths, pathPatch, pickPaths, setPath } from './merge.js'

/** The invariant behind every case: after applying `down` locally and `up` in the cloud, both sides equal the new base except at the conflicting paths, where each keeps its own value. */
function check (base: JsonObject, local: JsonObject, cloud: JsonObject): ReturnType<typeof merge3> {
  const m = merge3(base, local, cloud)
  const l2 = mergePatch(local, m.down).value
  const c2 = mergePatch(cloud, m.up).value
  const strip = (o: JsonObject, side: JsonObject): JsonObject => {
    const out = structuredClone(o)
    for (const p of m.conflicts) setPath(out, p, getPath(side, p))
    return out
  }
  expect(strip(l2, m.base), 'local after down').toEqual(strip(m.base, m.base))
  expect(strip(c2, m.base), 'cloud after up').toEqual(strip(m.base, m.base))
  for (const p of m.conflicts) {
    expect(getPath(l2, p), `local keeps ${p}`).toEqual(getPath(local, p))
    expect(getPath(c2, p), `cloud keeps ${p}`).toEqual(getPath(cloud, p))
  }
  return m
}

describe('merge3: field-level three-way merge of nested twin sections', () => {
  it('nothing changed: no patches, no conflicts', () => {
    const b = { a: 1, o: { x: 1 } }
    expect(check(b, b, b)).toEqual({ down: {}, up: {}, base: b, conflicts: [] })
  })

  it('top-level: one-sided changes merge, a field both changed differently is a conflict keeping its base', () => {
    const m = check({ a: 1, b: 1, c: 1 }, { a: 2, b: 1, c: 5 }, { a: 1, b: 3, c: 6 })
    expect(m.up).toEqual({ a: 2 })
    expect(m.down).toEqual({ b: 3 })
    expect(m.conflicts).toEqual(['c'])
    expect(m.base).toEqual({ a: 2, b: 3, c: 1 })
  })

  it('both made the same change: agreed, nothing sent', () => {
    const m = check({ a: 1 }, { a: 2, n: { x: 1 } }, { a: 2, n: { x: 1 } })
    expect(m).toEqual({ down: {}, up: {}, base: { a: 2, n: { x: 1 } }, conflicts: [] })
  })

  it('nested: different leaves of the same object both merge (no conflict)', () => {
    const base = { cfg: { mode: 'a', limits: { max: 10, min: 1 } } }
    const m = check(base, { cfg: { mode: 'b', limits: { max: 10, min: 1 } } }, { cfg: { mode: 'a', limits: { max: 20, min: 1 } } })
    expect(m.conflicts).toEqual([])
    expect(m.up).toEqual({ cfg: { mode: 'b' } })
    expect(m.down).toEqual({ cfg: { limits: { max: 20 } } })
    expect(m.base).toEqual({ cfg: { mode: 'b', limits: { max: 20, min: 1 } } })
  })

  it('nested: the same leaf changed differently is a conflict at its full path; siblings still merge', () => {
    const base = { cfg: { limits: { max: 10, min: 1 }, unit: 'C' } }
    const m = check(base, { cfg: { limits: { max: 11, min: 2 }, unit: 'C' } }, { cfg: { limits: { max: 12, min: 1 }, unit: 'F' } })
    expect(m.conflicts).toEqual(['cfg.limits.max'])
    expect(m.up).toEqual({ cfg: { limits: { min: 2 } } })
    expect(m.down).toEqual({ cfg: { unit: 'F' } })
    expect(m.base).toEqual({ cfg: { limits: { max: 10, min: 2 }, unit: 'F' } })
  })

  it('nested additions on both sides under a new object merge', () => {
    const m = check({}, { cfg: { a: 1 } }, { cfg: { b: 2 } })
    expect(m.conflicts).toEqual([])
    expect(m.up).toEqual({ cfg: { a: 1 } })
    expect(m.down).toEqual({ cfg: { b: 2 } })
    expect(m.base).toEqual({ cfg: { a: 1, b: 2 } })
  })

  it('deletion (null / absent) on one side propagates, also of a whole subtree', () => {
    const base = { a: 1, o: { x: 1, y: 2 }, keep: true }
    const m = check(base, { o: { x: 1, y: 2 }, keep: true }, { a: 1, keep: true })
    expect(m.conflicts).toEqual([])
    expect(m.up).toEqual({ a: null })
    expect(m.down).toEqual({ o: null })
    expect(m.base).toEqual({ keep: true })
  })

  it('explicit nulls count as absent (IoT Hub never stores nulls)', () => {
    // (inputs with literal nulls, as a patch-shaped document might carry them)
    const m = merge3({ a: 1 }, { a: null }, { a: 1, b: null })
    expect(m.conflicts).toEqual([])
    expect(m.up).toEqual({ a: null })
    expect(m.down).toEqual({})
    expect(m.base).toEqual({})
  })

  it('deleted on one side, changed on the other: a conflict (delete vs edit)', () => {
    const m = check({ a: 1 }, {}, { a: 2 })
    expect(m.conflicts).toEqual(['a'])
    expect(m.base).toEqual({ a: 1 })
  })

  it('a subtree removed on one side while a leaf in it changed on the other: only that leaf conflicts, the rest of the removal goes through', () => {
    const base = { o: { x: 1, y: 2 } }
    const m = check(base, {}, { o: { x: 5, y: 2 } })
    expect(m.conflicts).toEqual(['o.x'])
    expect(m.up).toEqual({ o: { y: null } })
    expect(m.base).toEqual({ o: { x: 1 } })
  })

  it('arrays are leaves: any difference on both sides is a conflict, one-sided changes replace the whole array', () => {
    expect(check({ l: [1, 2] }, { l: [1, 2, 3] }, { l: [1, 2] }).up).toEqual({ l: [1, 2, 3] })
    expect(check({ l: [1, 2] }, { l: [1, 2] }, { l: [2] }).down).toEqual({ l: [2] })
    const m = check({ l: [1, 2] }, { l: [1, 2, 3] }, { l: [0, 1, 2] })
    expect(m.conflicts).toEqual(['l'])
    expect(m.base).toEqual({ l: [1, 2] })
    // arrays of objects are not merged element-wise either
    expect(check({ l: [{ a: 1 }] }, { l: [{ a: 2 }] }, { l: [{ a: 3 }] }).conflicts).toEqual(['l'])
  })

  it('type changes: object vs scalar on the two sides is a conflict at that path', () => {
    const m = check({ o: { x: 1 } }, { o: 5 }, { o: { x: 2 } })
    expect(m.conflicts).toEqual(['o'])
    expect(m.base).toEqual({ o: { x: 1 } })
  })

  it('a scalar replaced by objects on both sides merges the objects', () => {
    const m = check({ o: 1 }, { o: { a: 1 } }, { o: { b: 2 } })
    expect(m.conflicts).toEqual([])
    expect(m.base).toEqual({ o: { a: 1, b: 2 } })
  })

  it('a scalar removed locally while the cloud made it an object: conflict (no silent loss)', () => {
    expect(check({ o: 1 }, {}, { o: { b: 2 } }).conflicts).toEqual(['o'])
  })

  it('one-sided replacement of an object by an object sends a diff with nulls for removed keys', () => {
    const m = check({ o: { a: 1, b: 2 } }, { o: { a: 1, b: 2 } }, { o: { a: 1, c: 3 } })
    expect(m.down).toEqual({ o: { b: null, c: 3 } })
  })

  it('deep nesting, several conflicts in document order', () => {
    const base = { a: { b: { c: { d: 1, e: 1 } } }, z: 0 }
    const m = check(base, { a: { b: { c: { d: 2, e: 2 } } }, z: 1 }, { a: { b: { c: { d: 3, e: 3 } } }, z: 2 })
    expect(m.conflicts).toEqual(['a.b.c.d', 'a.b.c.e', 'z'])
  })

  it('before the first sync (empty base): the cloud comes down, a key set differently on both is a conflict', () => {
    const m = check({}, { a: 1, o: { x: 1 } }, { b: 2, o: { x: 2, y: 3 } })
    expect(m.up).toEqual({ a: 1 })
    expect(m.down).toEqual({ b: 2, o: { y: 3 } })
    expect(m.conflicts).toEqual(['o.x'])
  })

  it('an emptied object on one side is not a conflict with an untouched one', () => {
    const m = check({ o: { a: 1 } }, { o: {} }, { o: { a: 1 } })
    expect(m.conflicts).toEqual([])
    expect(m.up).toEqual({ o: { a: null } })
  })
})

describe('path helpers', () => {
  it('getPath / setPath / pickPaths', () => {
    const o: JsonObject = { a: { b: { c: 1 } }, s: 2 }
    expect(getPath(o, 'a.b.c')).toBe(1)
    expect(getPath(o, 's.x')).toBeUndefined()
    expect(getPath(o, 'nope')).toBeUndefined()
    setPath(o, 'a.b.d', [1])
    setPath(o, 'x.y', 'new')
    setPath(o, 'a.b.c', null)
    setPath(o, 'q.r', undefined) // removing under an absent parent creates nothing
    expect(o).toEqual({ a: { b: { d: [1] } }, s: 2, x: { y: 'new' } })
    expect(pickPaths(o, ['a.b.d', 'x.y', 'missing'])).toEqual({ a: { b: { d: [1] } }, x: { y: 'new' } })
  })

  it('pathPatch writes only differences and never creates empty parents for a removal', () => {
    const cur: JsonObject = { a: { b: 1, c: { x: 1, y: 2 } } }
    expect(pathPatch(cur, 'a.b', 1)).toBeNull()
    expect(pathPatch(cur, 'a.b', 2)).toEqual({ a: { b: 2 } })
    expect(pathPatch(cur, 'a.b', null)).toEqual({ a: { b: null } })
    expect(pathPatch(cur, 'z.q', undefined)).toBeNull()
    expect(pathPatch(cur, 'a.c', { x: 1 })).toEqual({ a: { c: { y: null } } })
    const combined = combinePatches(combinePatches({}, pathPatch(cur, 'a.b', 3) ?? {}), pathPatch(cur, 'a.c', 7) ?? {})
    expect(mergePatch(cur, combined).value).toEqual({ a: { b: 3, c: 7 } })
  })

  it('patchPaths lists the leaf paths a patch writes', () => {
    expect(patchPaths({ a: { b: 1, c: null }, d: [1], e: {} })).toEqual(['a.b', 'a.c', 'd', 'e'])
  })
})
