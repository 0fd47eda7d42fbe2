import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../types.js'
import { TWIN_LIMITS, checkSection, checkSize, jsonSize, keyProblem } from './limits.js'

const msg = (e: unknown): string => (e as Error | undefined)?.message ?? ''

/** `{l1:{l2:{...{lN:{leaf:1}}}}}`: N nested objects below the section root. */
function nested (n: number): JsonObject {
  let o: JsonObject = { leaf: 1 }
  for (let i = n; i >= 1; i--) o = { [`l${i}`]: o }
  return o
}

describe('checkSection: shape', () => {
  it('requires a JSON object at the root (a device reported patch that is not an object)', () => {
    for (const v of [null, 5, 'x', [1], true, undefined]) {
      const err = checkSection('reported', v)
      expect(err?.errorName).toBe('ArgumentInvalid')
      expect(err?.code).toBe(400004)
      expect(msg(err)).toMatch(/^properties\.reported must be a JSON object/)
    }
    expect(checkSection('reported', {})).toBeUndefined()
  })

  it('rejects non-JSON values, naming the path', () => {
    expect(msg(checkSection('tags', { a: { d: new Date() } }))).toMatch(/^tags\.a\.d: Date is not a JSON value/)
    expect(msg(checkSection('tags', { a: () => 1 }))).toMatch(/^tags\.a: function/)
    expect(msg(checkSection('tags', { a: Number.NaN }))).toMatch(/not a JSON number/)
  })
})

describe('checkSection: keys', () => {
  it.each([
    ['a.b', "contains '.'"], ['a$b', "contains '$'"], ['a b', "contains ' '"],
    ['a\u0000', 'control character'], ['a\u001f', 'control character'], ['\u007f', 'control character'],
    ['x\u0085', 'control character'], ['\u009f', 'control character'], ['', 'is empty'],
    ['$version', 'system property'], ['$metadata', 'system property']
  ])('rejects %j', (key, why) => {
    const err = checkSection('desired', { outer: { [key]: 1 } })
    expect(msg(err)).toContain(`properties.desired.outer: key ${JSON.stringify(key)}`)
    expect(msg(err)).toContain(why)
  })

  it('accepts unicode, dashes, underscores and other punctuation', () => {
    expect(checkSection('tags', { 'café-ü_#@!': 1, '\u00a0x': 2 })).toBeUndefined()
  })

  it('limits keys to 1 KB of UTF-8', () => {
    expect(keyProblem('k'.repeat(1024))).toBeUndefined()
    expect(keyProblem('k'.repeat(1025))).toMatch(/longer than 1024/)
    expect(keyProblem('é'.repeat(512))).toBeUndefined()
    expect(keyProblem('é'.repeat(513))).toMatch(/longer/)
  })

  it('checks keys inside arrays of objects', () => {
    expect(msg(checkSection('tags', { arr: [1, { 'bad.key': 1 }] }))).toContain('tags.arr[1]: key "bad.key"')
  })
})

describe('checkSection: values', () => {
  it('allows 10 levels of nesting and rejects 11', () => {
    expect(checkSection('reported', nested(10))).toBeUndefined()
    const err = checkSection('reported', nested(11))
    expect(msg(err)).toContain('properties.reported.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11: nesting depth exceeds the maximum of 10')
  })

  it('counts arrays as nesting levels', () => {
    const deep = nested(9)
    let inner = deep
    for (let i = 1; i <= 9; i++) inner = inner[`l${i}`] as JsonObject
    inner.leaf = [[1]]
    expect(msg(checkSection('tags', deep))).toContain('nesting depth')
    inner.leaf = [1]
    expect(checkSection('tags', deep)).toBeUndefined()
  })

  it('bounds integers to +-2^52', () => {
    // JSON.parse cannot tell 1e300 from an integer literal; integer-valued numbers are bounded.
    expect(checkSection('desired', { c: 1e300 })).toBeDefined()
    expect(checkSection('desired', { a: TWIN_LIMITS.maxInteger, b: TWIN_LIMITS.minInteger, c: 0.25 })).toBeUndefined()
    expect(msg(checkSection('desired', { a: TWIN_LIMITS.maxInteger + 1 }))).toContain('properties.desired.a: integer 4503599627370496 is outside')
    expect(msg(checkSection('desired', { a: TWIN_LIMITS.minInteger - 1 }))).toContain('is outside')
  })

  it('limits strings to 4 KB of UTF-8', () => {
    expect(checkSection('tags', { s: 'x'.repeat(4096) })).toBeUndefined()
    expect(msg(checkSection('tags', { s: 'x'.repeat(4097) }))).toContain('tags.s: string is 4097 bytes, the maximum is 4096')
    expect(checkSection('tags', { s: '€'.repeat(1366) })).toBeDefined()
  })
})

describe('size (B.4)', () => {
  it('sums keys and values by the documented rule', () => {
    expect(jsonSize({ ab: 'xyz' })).toBe(5)
    expect(jsonSize({ a: 1, b: true, c: null })).toBe(3 + 8 + 4)
    expect(jsonSize({ a: { bb: [1, 'é\u0001'] } })).toBe(1 + 2 + 8 + 2)
  })

  it('tags are limited to 8 KB, desired and reported to 32 KB', () => {
    const fill = (bytes: number): JsonObject => {
      const o: JsonObject = {}
      let i = 0
      while (bytes > 0) {
        const key = `k${String(i++).padStart(4, '0')}`
        const len = Math.min(4000, bytes - key.length)
        o[key] = 'v'.repeat(len)
        bytes -= key.length + len
      }
      return o
    }
    expect(jsonSize(fill(8192))).toBe(8192)
    expect(checkSize('tags', fill(8192))).toBeUndefined()
    expect(msg(checkSize('tags', fill(8193)))).toBe('tags would be 8193 bytes, the maximum is 8192')
    expect(checkSize('desired', fill(32768))).toBeUndefined()
    expect(msg(checkSize('desired', fill(32769)))).toContain('properties.desired would be 32769 bytes')
    expect(checkSize('reported', fill(32768))).toBeUndefined()
    expect(checkSize('reported', fill(32769))?.errorName).toBe('ArgumentInvalid')
  })
})
