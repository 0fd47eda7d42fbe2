import { describe, expect, it } from 'vitest'
import { checkIfMatch, deviceEtag, etagMatches, normalizeIfMatch, twinEtag } from './etag.js'

describe('etag rendering (B.1)', () => {
  it('twin etag is base64 of an 8-byte big-endian counter', () => {
    expect(twinEtag(1)).toBe('AAAAAAAAAAE=')
    expect(twinEtag(0)).toBe('AAAAAAAAAAA=')
    expect(twinEtag(256)).toBe('AAAAAAAAAQA=')
    expect(twinEtag(2 ** 32)).toBe('AAAAAQAAAAA=')
  })

  it('device etag is base64 of the decimal string', () => {
    expect(deviceEtag(0)).toBe('MA==')
    expect(deviceEtag(580089003)).toBe('NTgwMDg5MDAz')
  })
})

describe('If-Match (B.3, G.4)', () => {
  const cur = twinEtag(3)

  it('strips quotes and a weak prefix', () => {
    expect(normalizeIfMatch(`"${cur}"`)).toBe(cur)
    expect(normalizeIfMatch(`W/"${cur}"`)).toBe(cur)
    expect(normalizeIfMatch(` ${cur} `)).toBe(cur)
    expect(normalizeIfMatch('"*"')).toBe('*')
  })

  it('matches the current etag, `*`, or no header', () => {
    expect(etagMatches(`"${cur}"`, cur)).toBe(true)
    expect(etagMatches(cur, cur)).toBe(true)
    expect(etagMatches('"*"', cur)).toBe(true)
    expect(etagMatches('*', cur)).toBe(true)
    expect(etagMatches(undefined, cur)).toBe(true)
    expect(etagMatches(`"${twinEtag(2)}"`, cur)).toBe(false)
  })

  it('a mismatch is 412 PreconditionFailed', () => {
    const err = checkIfMatch(`"${twinEtag(2)}"`, cur)
    expect(err?.errorName).toBe('PreconditionFailed')
    expect(err?.httpStatus).toBe(412)
    expect(err?.message).toContain('AAAAAAAAAAI=')
    expect(checkIfMatch('"*"', cur)).toBeUndefined()
  })
})
