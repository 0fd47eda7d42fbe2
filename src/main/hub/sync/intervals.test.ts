import { describe, expect, it } from 'vitest'
import { addAll, addRange, countMissing, firstGap, has } from './intervals.js'

describe('sync intervals (the telemetry done set)', () => {
  it('merges, finds gaps and counts what is missing', () => {
    let r = addRange([], 0, 5)
    r = addAll(r, [7, 8, 10])
    expect(r).toEqual([[0, 5], [7, 9], [10, 11]])
    expect(firstGap(r, 0)).toBe(5)
    expect(firstGap(r, 7)).toBe(9)
    expect(has(r, 8)).toBe(true)
    expect(has(r, 9)).toBe(false)
    expect(countMissing(r, 0, 12)).toBe(4) // 5, 6, 9, 11
    r = addAll(r, [5, 6, 9])
    expect(r).toEqual([[0, 11]])
    expect(addRange([[0, 2], [5, 6]], 2, 5)).toEqual([[0, 6]])
  })
})
