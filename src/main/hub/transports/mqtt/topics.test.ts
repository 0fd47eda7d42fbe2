import { describe, expect, it } from 'vitest'
import {
  bagAfter, c2dTopic, classifySubscription, desiredPatchTopic, methodRequestTopic, parseInbound,
  telemetryPrefix, twinResponseTopic
} from './topics.js'

describe('parseInbound', () => {
  it('parses device telemetry with the [WIRE] bag of A.5', () => {
    const topic = 'devices/dev1/messages/events/%24.mid=mid%201&%24.cid=c1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=high%20temp&%24odd=a%26b%3Dc'
    expect(parseInbound(topic)).toEqual({
      kind: 'telemetry',
      deviceId: 'dev1',
      moduleId: undefined,
      bag: '%24.mid=mid%201&%24.cid=c1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=high%20temp&%24odd=a%26b%3Dc'
    })
  })

  it('accepts an empty bag, a missing trailing slash and the module output trailing slash', () => {
    expect(parseInbound('devices/dev1/messages/events/')).toMatchObject({ kind: 'telemetry', bag: '' })
    expect(parseInbound('devices/dev1/messages/events')).toMatchObject({ kind: 'telemetry', bag: '' })
    expect(parseInbound('devices/dev1/modules/mod1/messages/events/%24.on=out1/')).toEqual({
      kind: 'telemetry', deviceId: 'dev1', moduleId: 'mod1', bag: '%24.on=out1'
    })
  })

  it('decodes percent-encoded ids (Python SDK, A.9)', () => {
    expect(parseInbound('devices/a%23b%2Bc/messages/events/x=1')).toMatchObject({ deviceId: 'a#b+c', bag: 'x=1' })
  })

  it('parses twin and method topics, echoing $rid verbatim', () => {
    expect(parseInbound('$iothub/twin/GET/?$rid=1a2b')).toEqual({ kind: 'twinGet', rid: '1a2b' })
    expect(parseInbound('$iothub/twin/GET?$rid=7')).toEqual({ kind: 'twinGet', rid: '7' })
    expect(parseInbound('$iothub/twin/PATCH/properties/reported/?$rid=ho')).toEqual({ kind: 'twinReported', rid: 'ho' })
    expect(parseInbound('$iothub/methods/res/200/?$rid=abc')).toEqual({ kind: 'methodResponse', status: 200, rid: 'abc' })
    expect(parseInbound('$iothub/methods/res/-1/?$rid=abc')).toEqual({ kind: 'methodResponse', status: -1, rid: 'abc' })
  })

  it('rejects everything else', () => {
    for (const t of [
      'foo', '$iothub/twin/GET/', '$iothub/methods/res/abc/?$rid=1', '$iothub/methods/res/1.5/?$rid=1',
      '$iothub/twin/res/200/?$rid=1', 'devices/dev1/messages/devicebound/x', 'devices//messages/events/',
      '$iothub/methods/POST/m/?$rid=1', 'devices/dev1/modules/m/inputs/i/'
    ]) {
      expect(parseInbound(t)).toEqual({ kind: 'unknown' })
    }
  })
})

describe('telemetry fast path', () => {
  it('builds the prefix and cuts the bag', () => {
    const p = telemetryPrefix({ deviceId: 'dev1', moduleId: 'mod1' })
    expect(p).toBe('devices/dev1/modules/mod1/messages/events/')
    expect(bagAfter(`${p}%24.on=out1/`, p.length)).toBe('%24.on=out1')
    expect(bagAfter(p, p.length)).toBe('')
    expect(bagAfter('devices/dev1/messages/events/a=1', telemetryPrefix({ deviceId: 'dev1' }).length)).toBe('a=1')
  })
})

describe('classifySubscription', () => {
  const dev = { deviceId: 'dev1' }
  const mod = { deviceId: 'dev1', moduleId: 'mod1' }
  it('maps the [WIRE] subscriptions of A.4', () => {
    expect(classifySubscription('devices/dev1/messages/devicebound/#', dev)).toBe('c2d')
    expect(classifySubscription('$iothub/methods/POST/#', dev)).toBe('methods')
    expect(classifySubscription('$iothub/twin/PATCH/properties/desired/#', dev)).toBe('desired')
    expect(classifySubscription('$iothub/twin/res/#', dev)).toBe('twinResponses')
    expect(classifySubscription('devices/dev1/modules/mod1/inputs/#', mod)).toBe('inputs')
    expect(classifySubscription('devices/dev%31/messages/devicebound/#', dev)).toBe('c2d')
  })
  it('refuses wildcards and other identities', () => {
    for (const f of ['#', '$iothub/#', '+/#', 'devices/#', 'devices/dev2/messages/devicebound/#', 'devices/dev1/messages/events/#',
      'devices/dev1/messages/devicebound/+', '$iothub/twin/res/200', 'devices/dev1/modules/mod1/inputs/#']) {
      expect(classifySubscription(f, dev)).toBeNull()
    }
    expect(classifySubscription('devices/dev1/messages/devicebound/#', mod)).toBeNull()
    expect(classifySubscription('devices/dev1/modules/mod2/inputs/#', mod)).toBeNull()
  })
})

describe('hub -> device topics', () => {
  it('matches the documented forms', () => {
    expect(twinResponseTopic(200, 'r1')).toBe('$iothub/twin/res/200/?$rid=r1')
    // [OBS] A.7
    expect(twinResponseTopic(204, 'ho', 88)).toBe('$iothub/twin/res/204/?$rid=ho&$version=88')
    expect(desiredPatchTopic(8)).toBe('$iothub/twin/PATCH/properties/desired/?$version=8')
    expect(methodRequestTopic('reboot', 'r9')).toBe('$iothub/methods/POST/reboot/?$rid=r9')
    expect(c2dTopic('dev1', 'a=b')).toBe('devices/dev1/messages/devicebound/a=b')
  })
})
