// The transport through aedes with real mqtt.js clients on a loopback socket.
import { createServer, type AddressInfo } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HubError } from '../../errors.js'
import type { C2dMessage } from '../../types.js'
import { createFakeHub, deferred, type FakeHub } from './fake-hub.js'
import { createMqttTransport, type MqttTransport } from './index.js'

interface Rig { hub: FakeHub; transport: MqttTransport; url: string }

async function startRig (): Promise<Rig> {
  const hub = createFakeHub()
  const transport = await createMqttTransport(hub)
  const server = createServer((socket) => {
    transport.handleConnection(socket, { remote: `${socket.remoteAddress}:${socket.remotePort}`, transport: 'mqtt' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => {
    await transport.close()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return { hub, transport, url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

const token = (se = Math.floor(Date.now() / 1000) + 3600): string =>
  `SharedAccessSignature sr=hub.local%2Fdevices%2Fx&sig=abc%3D&se=${se}`

async function device (rig: Rig, id: string, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(rig.url, {
    clientId: id,
    username: `hub.local/${id}/?api-version=2021-04-12&DeviceClientType=test`,
    password: token(),
    protocolVersion: 4,
    clean: false,
    reconnectPeriod: 0,
    ...extra
  })
  onTestFinished(async () => { await client.endAsync(true) })
  await rig.hub.connected(id)
  return client
}

function nextMessage (client: MqttClient): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve) => {
    client.once('message', (topic, payload) => { resolve({ topic, payload: payload.toString() }) })
  })
}

const closed = (client: MqttClient): Promise<void> => new Promise((resolve) => { client.once('close', () => { resolve() }) })

/** Every message a snooping client receives. */
function collect (client: MqttClient): string[] {
  const seen: string[] = []
  client.on('message', (topic) => seen.push(topic))
  return seen
}

/** SUBACK return codes, refusals (0x80) included (mqtt.js rejects on any of them). */
async function granted (client: MqttClient, topics: string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  const map = Object.fromEntries(topics.map((t) => [t, { qos }]))
  try {
    return (await client.subscribeAsync(map)).map((g) => g.qos)
  } catch (err) {
    return (err as { packet: { granted: number[] } }).packet.granted
  }
}

/** A round trip through the broker for `client`: once it returns, earlier deliveries have arrived. */
async function flush (client: MqttClient): Promise<void> {
  await client.subscribeAsync('$iothub/twin/res/#')
  await client.unsubscribeAsync('$iothub/twin/res/#')
}

describe('CONNECT (A.2)', () => {
  it('refuses with CONNACK 5 and attaches nothing', async () => {
    const rig = await startRig()
    rig.hub.authResult = () => ({ ok: false, reason: 'bad signature' })
    const failed: string[] = []
    rig.hub.events.on('device.authFailed', (e) => failed.push(e.reason))
    await expect(mqtt.connectAsync(rig.url, {
      clientId: 'dev1', username: 'hub.local/dev1/?api-version=1', password: token(), reconnectPeriod: 0
    })).rejects.toMatchObject({ code: 5 })
    expect(rig.hub.calls.auth).toHaveLength(1)
    expect(rig.hub.calls.attach).toHaveLength(0)
    expect(failed).toEqual(['bad signature'])
    expect(rig.transport.stats().authFailures).toBe(1)
  })

  it('refuses a username naming another identity without asking the registry', async () => {
    const rig = await startRig()
    await expect(mqtt.connectAsync(rig.url, {
      clientId: 'dev1', username: 'hub.local/dev2/?api-version=1', password: token(), reconnectPeriod: 0
    })).rejects.toMatchObject({ code: 5 })
    expect(rig.hub.calls.auth).toHaveLength(0)
  })

  it('passes the credentials and attaches with the clean flag', async () => {
    const rig = await startRig()
    await mqtt.connectAsync(rig.url, {
      clientId: 'dev1/mod1',
      username: 'hub.local/dev1/mod1/?api-version=2021-04-12&model-id=dtmi:x:y;1&DeviceClientType=t',
      password: token(1900000000),
      clean: true,
      reconnectPeriod: 0
    }).then((c) => onTestFinished(async () => { await c.endAsync(true) }))
    const conn = await rig.hub.connected('dev1/mod1')
    expect(rig.hub.calls.auth).toEqual([{ deviceId: 'dev1', moduleId: 'mod1', sasToken: token(1900000000), modelId: 'dtmi:x:y;1' }])
    expect(rig.hub.calls.attach[0]?.cleanSession).toBe(true)
    expect(conn).toMatchObject({ key: 'dev1/mod1', identity: { deviceId: 'dev1', moduleId: 'mod1' }, transport: 'mqtt' })
  })

  it('disconnects when the SAS token expires (A.1)', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1', { password: token(Math.floor(Date.now() / 1000) + 1) })
    await closed(client)
    expect(rig.hub.calls.detach).toEqual([{ key: 'dev1', reason: 'SAS token expired (401003)' }])
  })

  it('a second connection of the same identity replaces the first (400027)', async () => {
    const rig = await startRig()
    const first = await device(rig, 'dev1')
    const gone = closed(first)
    await device(rig, 'dev1')
    await gone
    expect(rig.hub.calls.detach[0]).toEqual({ key: 'dev1', reason: 'ConnectionForcefullyClosedOnNewConnection (400027)' })
  })
})

describe('SUBSCRIBE (A.4)', () => {
  it('grants only the documented filters of the own identity and records them', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    expect(await granted(client, [
      'devices/dev1/messages/devicebound/#', '$iothub/methods/POST/#', '#', '$iothub/#', 'devices/dev2/messages/devicebound/#'
    ])).toEqual([1, 1, 128, 128, 128])
    expect(await granted(client, ['$iothub/twin/res/#'], 2)).toEqual([1])
    expect(rig.hub.calls.subscribe).toEqual([
      { key: 'dev1', feature: 'c2d', on: true },
      { key: 'dev1', feature: 'methods', on: true },
      { key: 'dev1', feature: 'twinResponses', on: true }
    ])
    await client.unsubscribeAsync('$iothub/methods/POST/#')
    expect(rig.hub.calls.subscribe.at(-1)).toEqual({ key: 'dev1', feature: 'methods', on: false })
  })

  it('keeps the session record when the connection closes', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    await client.subscribeAsync('$iothub/twin/res/#')
    await client.endAsync()
    expect(rig.hub.calls.subscribe.filter((s) => !s.on)).toEqual([])
    expect(rig.hub.calls.detach).toEqual([{ key: 'dev1', reason: 'disconnected' }])
  })
})

describe('telemetry (A.5, A.9)', () => {
  it('PUBACKs only after accept() resolves, with the decoded bag', async () => {
    const rig = await startRig()
    const gate = deferred<number>()
    rig.hub.acceptImpl = () => gate.promise
    const client = await device(rig, 'dev1')
    let acked = false
    const pub = client.publishAsync('devices/dev1/messages/events/%24.mid=mid%201&%24.cid=c1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=high%20temp&%24odd=a%26b%3Dc',
      '{"t":21}', { qos: 1 }).then(() => { acked = true })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(rig.hub.calls.telemetry).toHaveLength(1)
    expect(acked).toBe(false)
    gate.resolve(1)
    await pub
    expect(acked).toBe(true)
    const msg = rig.hub.calls.telemetry[0]
    expect(msg).toMatchObject({
      deviceId: 'dev1',
      systemProperties: { messageId: 'mid 1', correlationId: 'c1', contentType: 'application/json', contentEncoding: 'utf-8' },
      properties: { alert: 'high temp', $odd: 'a&b=c' },
      transport: 'mqtt'
    })
    expect(msg?.body.toString()).toBe('{"t":21}')
    expect(msg?.moduleId).toBeUndefined()
    expect(rig.hub.calls.touches).toContain('dev1')
  })

  it('forwards RETAIN as mqtt-retain and retains nothing; accepts encoded ids and module outputs', async () => {
    const rig = await startRig()
    const client = await device(rig, 'a#b/m1', { username: 'hub.local/a%23b/m1/?api-version=1' })
    await client.publishAsync('devices/a%23b/modules/m1/messages/events/%24.on=out1/', 'x', { qos: 1, retain: true })
    expect(rig.hub.calls.telemetry[0]).toMatchObject({
      deviceId: 'a#b', moduleId: 'm1', systemProperties: { outputName: 'out1' }, properties: { 'mqtt-retain': 'true' }
    })
    // nothing retained: a fresh subscriber of the (refused) topic gets nothing anyway, so check aedes' store path
    expect(rig.transport.stats().telemetry).toBe(1)
  })

  it('disconnects on a message over 256 KB', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    const gone = closed(client)
    client.publish('devices/dev1/messages/events/', Buffer.alloc(256 * 1024 + 1), { qos: 1 })
    await gone
    expect(rig.hub.calls.telemetry).toHaveLength(0)
  })

  it('forwards the will as telemetry after an ungraceful disconnect', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1', { will: { topic: 'devices/dev1/messages/events/k=v', payload: Buffer.from('bye'), qos: 1, retain: false } })
    client.stream.destroy()
    await expect.poll(() => rig.hub.calls.telemetry.length).toBe(1)
    expect(rig.hub.calls.telemetry[0]).toMatchObject({ properties: { k: 'v', 'iothub-MessageType': 'Will' } })
    expect(rig.hub.calls.telemetry[0]?.body.toString()).toBe('bye')
  })

  it('drops wills when the hub itself shuts down', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1', { will: { topic: 'devices/dev1/messages/events/', payload: Buffer.from('bye'), qos: 1, retain: false } })
    const gone = closed(client)
    await rig.transport.close()
    await gone
    expect(rig.hub.calls.telemetry).toHaveLength(0)
    expect(rig.hub.calls.detach).toEqual([{ key: 'dev1', reason: 'hub shutting down' }])
  })

  it('refuses a will on any other topic', async () => {
    const rig = await startRig()
    await expect(mqtt.connectAsync(rig.url, {
      clientId: 'dev1', username: 'hub.local/dev1/?api-version=1', password: token(), reconnectPeriod: 0,
      will: { topic: 'status/dev1', payload: Buffer.from('bye'), qos: 0, retain: false }
    })).rejects.toMatchObject({ code: 5 })
  })
})

describe('protocol violations (A.9)', () => {
  for (const [what, topic, qos] of [
    ['an unknown topic', 'foo/bar', 1],
    ["another device's topic", 'devices/dev2/messages/events/', 1],
    ['a QoS 2 publish', 'devices/dev1/messages/events/', 2]
  ] as const) {
    it(`disconnects on ${what}`, async () => {
      const rig = await startRig()
      const client = await device(rig, 'dev1')
      const gone = closed(client)
      client.publish(topic, 'x', { qos })
      await gone
      expect(rig.hub.calls.telemetry).toHaveLength(0)
      expect(rig.hub.calls.detach[0]?.reason).toMatch(/^protocol violation/)
    })
  }
})

describe('twin (A.7)', () => {
  it('answers GET and PATCH to the requester only', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    const other = await device(rig, 'dev2')
    const seen = collect(other)
    expect(await granted(other, ['#', '$iothub/#', '$iothub/twin/res/#'])).toEqual([128, 128, 1])
    await client.subscribeAsync('$iothub/twin/res/#')

    const got = nextMessage(client)
    client.publish('$iothub/twin/GET/?$rid=1', ' ')
    expect(await got).toEqual({
      topic: '$iothub/twin/res/200/?$rid=1',
      payload: '{"desired":{"a":1,"$version":3},"reported":{"b":2,"$version":5}}'
    })

    const patched = nextMessage(client)
    client.publish('$iothub/twin/PATCH/properties/reported/?$rid=2', '{"fw":"1.2"}', { qos: 1 })
    expect(await patched).toEqual({ topic: '$iothub/twin/res/204/?$rid=2&$version=2', payload: '' })
    expect(rig.hub.calls.patches).toEqual([{ key: 'dev1', patch: { fw: '1.2' } }])

    await flush(other)
    expect(seen).toEqual([])
  })

  it('replies with errorCode bodies on malformed JSON and on service errors', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    await client.subscribeAsync('$iothub/twin/res/#')
    let reply = nextMessage(client)
    client.publish('$iothub/twin/PATCH/properties/reported/?$rid=3', '{nope')
    expect(await reply).toMatchObject({ topic: '$iothub/twin/res/400/?$rid=3' })
    expect(JSON.parse((await reply).payload)).toMatchObject({ errorCode: 400004 })

    rig.hub.patchImpl = () => Promise.reject(new HubError('ThrottlingException', 'slow down'))
    reply = nextMessage(client)
    client.publish('$iothub/twin/PATCH/properties/reported/?$rid=4', '{}')
    expect(await reply).toEqual({ topic: '$iothub/twin/res/429/?$rid=4', payload: '{"errorCode":429001,"message":"slow down"}' })
  })

  it("answers per the hub's session record, not aedes' subscriptions (clean=false after a hub restart)", async () => {
    const rig = await startRig()
    rig.hub.sessions.set('dev1', { methods: false, desired: true, twinResponses: true, c2d: false, inputs: false })
    const client = await device(rig, 'dev1')
    const got = nextMessage(client)
    client.publish('$iothub/twin/GET/?$rid=9', '')
    expect((await got).topic).toBe('$iothub/twin/res/200/?$rid=9')

    const desired = nextMessage(client)
    ;(await rig.hub.connected('dev1')).sendDesiredPatch({ x: null, y: 1 }, 8)
    expect(await desired).toEqual({ topic: '$iothub/twin/PATCH/properties/desired/?$version=8', payload: '{"x":null,"y":1,"$version":8}' })
  })

  it('sends no twin reply to a device not subscribed to twin responses', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    const seen = collect(client)
    client.publish('$iothub/twin/GET/?$rid=1', '')
    await expect.poll(() => rig.transport.stats().twinGets).toBe(1)
    await flush(client)
    expect(seen).toEqual([])
  })
})

describe('direct methods (A.8)', () => {
  it('delivers a request to a subscribed device and routes its response', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    await client.subscribeAsync('$iothub/methods/POST/#')
    const conn = await rig.hub.connected('dev1')
    const req = nextMessage(client)
    conn.sendMethodRequest({ methodName: 'reboot', requestId: 'r1', payloadJson: 'null' })
    expect(await req).toEqual({ topic: '$iothub/methods/POST/reboot/?$rid=r1', payload: 'null' })
    await client.publishAsync('$iothub/methods/res/200/?$rid=r1', '{"ok":true}')
    await client.publishAsync('$iothub/methods/res/404/?$rid=r2', '', { qos: 1 })
    expect(rig.hub.calls.methodResponses).toEqual([
      { key: 'dev1', rid: 'r1', status: 200, payload: { ok: true } },
      { key: 'dev1', rid: 'r2', status: 404, payload: null }
    ])
  })
})

describe('cloud-to-device (A.6)', () => {
  const msg: C2dMessage = {
    messageId: 'm1', deviceId: 'dev1', correlationId: 'c1', ack: 'full', properties: { k: 'v w' },
    body: Buffer.from('hello').toString('base64'), enqueuedTime: '2024-01-01T00:00:00Z'
  }

  it('resolves sendC2d on the PUBACK', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    await client.subscribeAsync('devices/dev1/messages/devicebound/#', { qos: 1 })
    const got = nextMessage(client)
    await (await rig.hub.connected('dev1')).sendC2d(msg)
    expect(await got).toEqual({
      topic: 'devices/dev1/messages/devicebound/%24.mid=m1&%24.to=%2Fdevices%2Fdev1%2Fmessages%2FdeviceBound&%24.cid=c1&iothub-ack=full&k=v%20w',
      payload: 'hello'
    })
    expect(rig.transport.stats()).toMatchObject({ c2dSent: 1, c2dAcked: 1 })
  })

  it('rejects sendC2d when the connection closes before the PUBACK', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    await client.subscribeAsync('devices/dev1/messages/devicebound/#', { qos: 1 })
    // mqtt.js emits 'message' before it writes the PUBACK: dying here means no PUBACK
    client.once('message', () => { client.stream.destroy() })
    const sent = (await rig.hub.connected('dev1')).sendC2d(msg)
    await expect(sent).rejects.toMatchObject({ code: 404104 })
    expect(rig.transport.stats().c2dAcked).toBe(0)
  })

  it('rejects sendC2d when the hub closes the connection first', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    await client.subscribeAsync('devices/dev1/messages/devicebound/#', { qos: 1 })
    const conn = await rig.hub.connected('dev1')
    const sent = conn.sendC2d(msg)
    conn.close('test over')
    await expect(sent).rejects.toMatchObject({ code: 404104 })
    expect(rig.hub.calls.detach).toEqual([{ key: 'dev1', reason: 'test over' }])
    await expect(conn.sendC2d(msg)).rejects.toMatchObject({ code: 404104 })
  })

  it('never reaches another client, even one subscribed to #', async () => {
    const rig = await startRig()
    const client = await device(rig, 'dev1')
    const other = await device(rig, 'dev2')
    const seen = collect(other)
    expect(await granted(other, ['#', 'devices/dev1/messages/devicebound/#'])).toEqual([128, 128])
    await client.subscribeAsync('devices/dev1/messages/devicebound/#', { qos: 1 })
    await (await rig.hub.connected('dev1')).sendC2d(msg)
    await flush(other)
    expect(seen).toEqual([])
  })
})
