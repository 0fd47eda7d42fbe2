import { describe, expect, it } from 'vitest'
import { createMeta, isoTime, updateMeta } from './metadata.js'
import { mergePatch } from './merge-patch.js'

const T0 = isoTime(Date.UTC(2024, 0, 1))
const T1 = isoTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))

describe('isoTime', () => {
  it('prints UTC with 7 fractional digits', () => {
    expect(T1).toBe('2024-01-02T03:04:05.6780000Z')
  })
})

describe('createMeta (B.2)', () => {
  it('stamps the root, every object and every leaf; desired carries $lastUpdatedVersion', () => {
    expect(createMeta({ a: { b: 1, arr: [1, { x: 2 }] }, c: 's' }, T0, 1)).toEqual({
      $lastUpdated: T0,
      $lastUpdatedVersion: 1,
      a: {
        $lastUpdated: T0,
        $lastUpdatedVersion: 1,
        b: { $lastUpdated: T0, $lastUpdatedVersion: 1 },
        arr: { $lastUpdated: T0, $lastUpdatedVersion: 1 }
      },
      c: { $lastUpdated: T0, $lastUpdatedVersion: 1 }
    })
  })

  it('reported metadata has no $lastUpdatedVersion', () => {
    const m = createMeta({ a: { b: 1 } }, T0)
    expect(m).toEqual({ $lastUpdated: T0, a: { $lastUpdated: T0, b: { $lastUpdated: T0 } } })
    expect('$lastUpdatedVersion' in m).toBe(false)
  })
})

describe('updateMeta (B.2)', () => {
  const before = { a: { x: 1, y: 2 }, b: 1 }
  const meta0 = createMeta(before, T0, 1)

  it('stamps written paths and keeps untouched siblings', () => {
    const r = mergePatch(before, { a: { y: 3 } })
    const m = updateMeta(meta0, r.value, r.change, T1, 2)
    expect(m.$lastUpdated).toBe(T1)
    expect(m.$lastUpdatedVersion).toBe(2)
    expect(m.a).toMatchObject({ $lastUpdated: T1, $lastUpdatedVersion: 2 })
    expect(m.a).toMatchObject({ x: { $lastUpdated: T0, $lastUpdatedVersion: 1 } })
    expect(m.a).toMatchObject({ y: { $lastUpdated: T1, $lastUpdatedVersion: 2 } })
    expect(m.b).toEqual({ $lastUpdated: T0, $lastUpdatedVersion: 1 })
  })

  it('deleting a key removes its metadata and refreshes the parent', () => {
    const r = mergePatch(before, { a: { x: null } })
    const m = updateMeta(meta0, r.value, r.change, T1, 2)
    expect(m.a).toEqual({ $lastUpdated: T1, $lastUpdatedVersion: 2, y: { $lastUpdated: T0, $lastUpdatedVersion: 1 } })
    const r2 = mergePatch(before, { a: null })
    const m2 = updateMeta(meta0, r2.value, r2.change, T1, 2)
    expect(m2).toEqual({ $lastUpdated: T1, $lastUpdatedVersion: 2, b: { $lastUpdated: T0, $lastUpdatedVersion: 1 } })
  })

  it('a leaf replacing an object drops the children; an object replacing a leaf gains them', () => {
    const r = mergePatch(before, { a: 7, b: { k: { z: 1 } } })
    const m = updateMeta(createMeta(before, T0), r.value, r.change, T1)
    expect(m).toEqual({
      $lastUpdated: T1,
      a: { $lastUpdated: T1 },
      b: { $lastUpdated: T1, k: { $lastUpdated: T1, z: { $lastUpdated: T1 } } }
    })
  })

  it('an applied patch with equal values refreshes timestamps (reported writes)', () => {
    const r = mergePatch(before, { b: 1 })
    expect(r.change).toEqual({})
    const m = updateMeta(createMeta(before, T0), r.value, r.applied, T1)
    expect(m.b).toEqual({ $lastUpdated: T1 })
    expect((m.a as { $lastUpdated: string }).$lastUpdated).toBe(T0)
  })

  it('does not mutate the previous tree', () => {
    const snapshot = structuredClone(meta0)
    const r = mergePatch(before, { a: { x: null, n: { q: 1 } } })
    updateMeta(meta0, r.value, r.change, T1, 2)
    expect(meta0).toEqual(snapshot)
  })
})
