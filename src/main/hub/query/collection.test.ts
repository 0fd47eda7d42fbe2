// IndexedCollection buckets: one row stored directly, several in a Set; keys are values with
// the same-type equality of `=` (0 and -0 together, 1 apart from '1'); re-filing on upsert.
import { describe, expect, it } from 'vitest'
import { createIndexedCollection } from './collection.js'
import { primitiveKey } from './evaluate.js'

type Doc = { id: string; v?: unknown }
const ids = (c: ReturnType<typeof createIndexedCollection<Doc>>, keys: unknown[]): string[] =>
  c.rows(c.refs(['v'], keys.map((k) => primitiveKey(k as string)))).map((d) => d.id)

describe('IndexedCollection buckets', () => {
  it('single-row buckets grow into sets and shrink back, keeping collection order', () => {
    const c = createIndexedCollection<Doc>({ indexes: [['v']] })
    c.upsert('a', { id: 'a', v: 'x' })
    expect(ids(c, ['x'])).toEqual(['a'])
    c.upsert('b', { id: 'b', v: 'x' })
    c.upsert('c', { id: 'c', v: 'x' })
    expect(ids(c, ['x'])).toEqual(['a', 'b', 'c'])
    expect(c.count(['v'], [primitiveKey('x'), primitiveKey('x')])).toBe(3)
    c.remove('a'); c.remove('c')
    expect(ids(c, ['x'])).toEqual(['b'])
    c.upsert('a', { id: 'a', v: 'x' }) // re-inserted: goes to the end
    expect(ids(c, ['x'])).toEqual(['b', 'a'])
    c.remove('b'); c.remove('a')
    expect(ids(c, ['x'])).toEqual([])
    expect(c.count(['v'], [primitiveKey('x')])).toBe(0)
  })

  it('same-type equality: 0 and -0 share a bucket, 1 and "1" do not, null and booleans have their own', () => {
    const c = createIndexedCollection<Doc>({ indexes: [['v']] })
    const vals: unknown[] = [0, -0, 1, '1', null, true, false, 'true', undefined, { a: 1 }, [1], Number.NaN, Number.NaN]
    vals.forEach((v, i) => c.upsert(String(i), { id: String(i), v }))
    expect(ids(c, [0])).toEqual(['0', '1'])
    expect(ids(c, [-0])).toEqual(['0', '1'])
    expect(ids(c, [1])).toEqual(['2'])
    expect(ids(c, ['1'])).toEqual(['3'])
    expect(ids(c, [null])).toEqual(['4'])
    expect(ids(c, [true])).toEqual(['5'])
    expect(ids(c, [false])).toEqual(['6'])
    expect(ids(c, ['true', 1, '1'])).toEqual(['2', '3', '7'])
    expect(ids(c, [Number.NaN])).toEqual(['11', '12']) // only ever a candidate: the predicate decides
    expect(c.count(['v'], vals.flatMap((v) => (v === null || ['string', 'number', 'boolean'].includes(typeof v) ? [primitiveKey(v as string)] : [])))).toBe(10)
  })

  it('re-files a document changed in place and upserted again; remove unfiles from every index', () => {
    const c = createIndexedCollection<Doc>({ indexes: [['v'], ['id']] })
    const d: Doc = { id: 'a', v: 'x' }
    c.upsert('a', d)
    c.upsert('b', { id: 'b', v: 'x' })
    d.v = 'y'
    c.upsert('a', d)
    expect(ids(c, ['x'])).toEqual(['b'])
    expect(ids(c, ['y'])).toEqual(['a'])
    d.v = undefined
    c.upsert('a', d)
    expect(ids(c, ['y'])).toEqual([])
    expect(c.remove('b')).toBe(true)
    expect(ids(c, ['x'])).toEqual([])
    expect(c.rows(c.refs(['id'], [primitiveKey('b')]))).toEqual([])
    expect(c.rows(c.refs(['id'], [primitiveKey('a')]))).toEqual([d])
    c.clear()
    expect(c.size).toBe(0)
    expect(c.count(['id'], [primitiveKey('a')])).toBe(0)
  })

  it('filter scans in collection order and stops at the limit', () => {
    const c = createIndexedCollection<Doc>()
    for (let i = 0; i < 10; i++) c.upsert(`d${i}`, { id: `d${i}`, v: i })
    expect(c.filter((d) => (d.v as number) % 2 === 0).map((d) => d.id)).toEqual(['d0', 'd2', 'd4', 'd6', 'd8'])
    expect(c.filter((d) => (d.v as number) % 2 === 0, 2).map((d) => d.id)).toEqual(['d0', 'd2'])
    expect(c.filter(() => true, 0)).toEqual([])
  })
})
