import { describe, expect, it } from 'vitest'
import { parseClientId, parseUsername, sasExpiry } from './credentials.js'

describe('parseClientId (A.2)', () => {
  it('accepts device and module ids', () => {
    expect(parseClientId('dev1')).toEqual({ deviceId: 'dev1' })
    expect(parseClientId('dev1/mod1')).toEqual({ deviceId: 'dev1', moduleId: 'mod1' })
  })
  it('refuses the rest', () => {
    for (const id of ['', '/m', 'd/', 'a/b/c']) expect(parseClientId(id)).toBeNull()
  })
})

describe('parseUsername (A.2)', () => {
  it('parses the [WIRE] device username', () => {
    const u = parseUsername('myhub.azure-devices.net/dev1/?api-version=2021-04-12&DeviceClientType=azure-iot-device%2F1.18.4%20(node%20v20.20.2%3B%20Debian%2012%3B%20x64)')
    expect(u).toMatchObject({ host: 'myhub.azure-devices.net', deviceId: 'dev1', moduleId: undefined, modelId: undefined })
    expect(u?.params['api-version']).toBe('2021-04-12')
    expect(u?.params['DeviceClientType']).toBe('azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)')
  })
  it('parses the [WIRE] module username and a raw model-id', () => {
    expect(parseUsername('myhub.azure-devices.net/dev1/mod1/?api-version=2021-04-12&model-id=dtmi:com:example:Thermostat;1&DeviceClientType=x'))
      .toMatchObject({ deviceId: 'dev1', moduleId: 'mod1', modelId: 'dtmi:com:example:Thermostat;1' })
  })
  it('handles host:port, encoded ids and the old form without ?', () => {
    expect(parseUsername('localhost:8883/a%23b/?api-version=1')).toMatchObject({ host: 'localhost:8883', deviceId: 'a#b' })
    expect(parseUsername('hub/dev1/api-version=2016-11-14&DeviceClientType=x')).toMatchObject({ deviceId: 'dev1', moduleId: undefined })
    expect(parseUsername('hub/dev1')).toMatchObject({ deviceId: 'dev1' })
  })
  it('refuses malformed names', () => {
    for (const u of ['', 'dev1', 'hub//?a=1', 'hub/a/b/c/?x=1']) expect(parseUsername(u)).toBeNull()
  })
})

describe('sasExpiry (A.3)', () => {
  it('reads se in any position', () => {
    expect(sasExpiry('SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000')).toBe(1700000000)
    expect(sasExpiry('SharedAccessSignature se=42&sr=x&sig=y')).toBe(42)
    expect(sasExpiry('SharedAccessSignature sr=x&sig=y')).toBeNull()
  })
})
