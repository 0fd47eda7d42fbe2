import { describe, expect, it } from 'vitest'
import type { C2dMessage } from '../../types.js'
import { decodeBag, encodeC2dBag } from './property-bag.js'

describe('decodeBag (A.5)', () => {
  it('decodes the [WIRE] telemetry bag', () => {
    expect(decodeBag('%24.mid=mid%201&%24.cid=c1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=high%20temp&%24odd=a%26b%3Dc')).toEqual({
      systemProperties: { messageId: 'mid 1', correlationId: 'c1', contentType: 'application/json', contentEncoding: 'utf-8' },
      properties: { alert: 'high temp', $odd: 'a&b=c' }
    })
  })

  it('maps every system key, raw $ too', () => {
    const bag = '$.mid=1&$.cid=2&$.uid=u&$.to=%2Fx&$.ct=t&$.ce=e&%24.exp=2030-01-01T00%3A00%3A00.000Z&$.ifid=i&%24.sub=comp&%24.on=out1'
    expect(decodeBag(bag).systemProperties).toEqual({
      messageId: '1', correlationId: '2', userId: 'u', to: '/x', contentType: 't', contentEncoding: 'e',
      expiryTimeUtc: '2030-01-01T00:00:00.000Z', interfaceId: 'i', componentName: 'comp', outputName: 'out1'
    })
  })

  it('gives null to a key without =, empty string to key=, keeps unknown $. keys as application properties', () => {
    expect(decodeBag('flag&empty=&%24.custom=v&&')).toEqual({
      systemProperties: {},
      properties: { flag: null, empty: '', '$.custom': 'v' }
    })
  })

  it('survives malformed escapes and empty bags', () => {
    expect(decodeBag('a=%E0%A4%A&b=%zz')).toEqual({ systemProperties: {}, properties: { a: '%E0%A4%A', b: '%zz' } })
    expect(decodeBag('')).toEqual({ systemProperties: {}, properties: {} })
    expect(Object.getPrototypeOf(decodeBag('__proto__=x').properties)).toBe(Object.prototype)
  })
})

describe('encodeC2dBag (A.6)', () => {
  const base: C2dMessage = { messageId: 'm 1', deviceId: 'dev1', properties: {}, body: '', enqueuedTime: '2024-01-01T00:00:00Z' }

  it('emits the documented order with %24 system keys and deviceBound', () => {
    const bag = encodeC2dBag({
      ...base,
      correlationId: 'c/1',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      expiryTimeUtc: '2030-01-01T00:00:00.000Z',
      ack: 'full',
      properties: { 'my key': 'a/b&c=d', empty: '' }
    })
    expect(bag).toBe('%24.mid=m%201&%24.to=%2Fdevices%2Fdev1%2Fmessages%2FdeviceBound&%24.cid=c%2F1&%24.ct=application%2Fjson' +
      '&%24.ce=utf-8&%24.exp=2030-01-01T00%3A00%3A00.000Z&iothub-ack=full&my%20key=a%2Fb%26c%3Dd&empty=')
    expect(bag).not.toContain('/')
  })

  it('round-trips through decodeBag', () => {
    const bag = encodeC2dBag({ ...base, deviceId: 'd#1', properties: { x: '1' } })
    expect(decodeBag(bag)).toEqual({
      systemProperties: { messageId: 'm 1', to: '/devices/d#1/messages/deviceBound' },
      properties: { 'iothub-ack': 'none', x: '1' }
    })
  })
})
