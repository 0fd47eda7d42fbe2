import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../types.js'
import { clearPatch, diffPatch, isEmpty, mergePatch } from './merge-patch.js'

describe('mergePatch (B.3)', () => {
  it('merges objects recursively and adds new keys', () => {
    const r = mergePatch({ a: { x: 1, y: 2 }, b: 1 }, { a: { y: 3, z: 4 }, c: 'n' })
    expect(r.value).toEqual({ a: { x: 1, y: 3, z: 4 }, b: 1, c: 'n' })
    expect(r.change).toEqual({ a: { y: 3, z: 4 }, c: 'n' })
  })

  it('replaces scalars and arrays wholesale', () => {
    const r = mergePatch({ arr: [1, 2, 3], s: 'a', o: { k: 1 } }, { arr: [9], s: 5, o: [1] })
    expect(r.value).toEqual({ arr: [9], s: 5, o: [1] })
    expect(r.change).toEqual({ arr: [9], s: 5, o: [1] })
  })

  it('null deletes a key and its subtree, reported as explicit null', () => {
    const r = mergePatch({ a: { deep: { x: 1 } }, b: 2 }, { a: null })
    expect(r.value).toEqual({ b: 2 })
    expect(r.change).toEqual({ a: null })
    expect(r.applied).toEqual({ a: null })
  })

  it('deleting an absent key is a no-op and not part of the change', () => {
    const r = mergePatch({ b: 2 }, { gone: null, nested: { alsoGone: null } })
    expect(r.value).toEqual({ b: 2, nested: {} })
    expect(r.change).toEqual({ nested: {} })
    expect(r.applied).toEqual({ nested: {} })
    expect(mergePatch({ b: 2 }, { gone: null }).change).toEqual({})
  })

  it('nested deletions carry explicit nulls at their depth', () => {
    const r = mergePatch({ a: { x: 1, y: 2 } }, { a: { x: null, z: null } })
    expect(r.value).toEqual({ a: { y: 2 } })
    expect(r.change).toEqual({ a: { x: null } })
  })

  it('writing an equal value is not a change, but is applied', () => {
    const r = mergePatch({ a: 1, o: { k: [1, { z: 2 }] } }, { a: 1, o: { k: [1, { z: 2 }] } })
    expect(isEmpty(r.change)).toBe(true)
    expect(r.applied).toEqual({ a: 1, o: { k: [1, { z: 2 }] } })
  })

  it('an object replacing a scalar is carried whole, without nulls', () => {
    const r = mergePatch({ a: 5 }, { a: { x: 1, y: null } })
    expect(r.value).toEqual({ a: { x: 1 } })
    expect(r.change).toEqual({ a: { x: 1 } })
  })

  it('does not mutate its inputs and shares nothing with the patch', () => {
    const target: JsonObject = { a: { x: 1 } }
    const patch: JsonObject = { a: { y: [1] }, b: { c: 1 } }
    const r = mergePatch(target, patch)
    expect(target).toEqual({ a: { x: 1 } })
    ;((patch.b as JsonObject).c as unknown) = 99
    expect(r.value.b).toEqual({ c: 1 })
  })

  it('treats __proto__ as an ordinary key', () => {
    const patch = JSON.parse('{"__proto__":{"polluted":1}}') as JsonObject
    const r = mergePatch({}, patch)
    expect(Object.keys(r.value)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype)
  })
})

describe('section clear and replace', () => {
  it('clearPatch lists every top-level key as null (G.7)', () => {
    const desired = { a: 1, b: { c: 2 }, d: [1] }
    const r = mergePatch(desired, clearPatch(desired))
    expect(r.value).toEqual({})
    expect(r.change).toEqual({ a: null, b: null, d: null })
  })

  it('clearing an empty section changes nothing', () => {
    expect(mergePatch({}, clearPatch({})).change).toEqual({})
  })

  it('diffPatch turns one object into another with explicit removals', () => {
    const from = { a: 1, b: { x: 1, y: 2 }, c: 'keep', d: 4 }
    const to = { b: { x: 1, z: 3 }, c: 'keep', d: { now: 'object' }, e: null }
    const patch = diffPatch(from, to)
    expect(patch).toEqual({ a: null, b: { y: null, z: 3 }, d: { now: 'object' } })
    const r = mergePatch(from, patch)
    expect(r.value).toEqual({ b: { x: 1, z: 3 }, c: 'keep', d: { now: 'object' } })
    expect(r.change).toEqual(patch)
  })

  it('diffPatch of equal objects is empty', () => {
    expect(diffPatch({ a: { b: [1] } }, { a: { b: [1] } })).toEqual({})
  })
})
