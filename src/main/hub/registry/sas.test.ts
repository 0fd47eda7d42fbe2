import { describe, expect, it } from 'vitest'
import { covers, createSasToken, parseResource, parseSasToken, verifySignature } from './sas.js'

// Test vectors of protocol A.3, produced by the published SDKs' SharedAccessSignature.create.
const KEY = 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY='
const HOST = 'myhub.azure-devices.net'

describe('SAS tokens (A.3)', () => {
  it('reproduces the device token vector', () => {
    expect(createSasToken({ resource: `${HOST}/devices/dev1`, key: KEY, expiry: 1700000000 }))
      .toBe('SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000')
  })

  it('reproduces the module token vector', () => {
    const t = createSasToken({ resource: `${HOST}/devices/dev1/modules/mod1`, key: KEY, expiry: 1700000000 })
    expect(t).toContain('sr=myhub.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fmod1')
    expect(t).toContain('sig=ZId0CjYzILqd7GGIpC99uIpjPK4fJTkYbrDAh8qYiy8%3D')
  })

  it('reproduces the policy token vector (sr unencoded, skn)', () => {
    const t = createSasToken({ resource: HOST, key: KEY, expiry: 1700000000, keyName: 'iothubowner', encodeResource: false })
    const parsed = parseSasToken(t)
    const vector = parseSasToken('SharedAccessSignature sr=myhub.azure-devices.net&sig=sJAIZTF5oG40VHrie96heZ865%2BnR4QavBvHnzxZm8rk%3D&skn=iothubowner&se=1700000000')
    expect(parsed).toEqual(vector)
  })

  it('parses fields in any order and verifies in constant time against either key', () => {
    const t = parseSasToken('SharedAccessSignature se=1700000000&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&sr=myhub.azure-devices.net%2Fdevices%2Fdev1')
    if (t instanceof Error) throw t
    expect(verifySignature(t, KEY)).toBe(true)
    expect(verifySignature(t, Buffer.alloc(32, 1).toString('base64'))).toBe(false)
    expect(verifySignature(t, null)).toBe(false)
  })

  it('rejects malformed tokens with an error, not a throw', () => {
    expect(parseSasToken('Bearer abc')).toBeInstanceOf(Error)
    expect(parseSasToken('SharedAccessSignature sr=a&sig=b')).toBeInstanceOf(Error)
    expect(parseSasToken('SharedAccessSignature sr=a&sig=b&se=soon')).toBeInstanceOf(Error)
    expect(parseSasToken('SharedAccessSignature nonsense')).toBeInstanceOf(Error)
    expect(parseSasToken('')).toBeInstanceOf(Error)
  })

  it('checks resource coverage by path segment', () => {
    const r = parseResource('MyHub.azure-devices.net%2Fdevices%2Fdev1')
    if (r instanceof Error) throw r
    expect(r.host).toBe('myhub.azure-devices.net')
    expect(covers(r.segments, ['devices', 'dev1'])).toBe(true)
    expect(covers(r.segments, ['devices', 'dev1', 'modules', 'm'])).toBe(true)
    expect(covers(['devices', 'a'], ['devices', 'ab'])).toBe(false)
    expect(covers([], ['devices', 'x'])).toBe(true)
  })
})
