// Listeners with real sockets: MQTT over TLS (client certificates), plain MQTT, WebSocket,
// and the official Azure IoT device SDK end to end over mqtts.
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client as DeviceClient, Message } from 'azure-iot-device'
import { Mqtt } from 'azure-iot-device-mqtt'
import mqtt from 'mqtt'
import { WebSocket } from 'ws'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ensureTls, issueDeviceCertificate, type TlsMaterial } from '../../tls/index.js'
import { createFakeHub, type FakeHub } from './fake-hub.js'
import { createMqttTransport, type MqttTransport } from './index.js'
import { attachWebSocket, listenMqtt, type MqttListeners } from './listeners.js'

let dir: string
let tls: TlsMaterial

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sitehub-mqtt-'))
  tls = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
  return async () => { await rm(dir, { recursive: true, force: true }) }
})

async function start (mqttPort: number | null = 0): Promise<{ hub: FakeHub; transport: MqttTransport; listeners: MqttListeners }> {
  const hub = createFakeHub()
  const transport = await createMqttTransport(hub)
  const listeners = await listenMqtt(transport, { bind: '127.0.0.1', mqttsPort: 0, mqttPort, tls: { key: tls.key, cert: tls.cert, ca: tls.ca } })
  onTestFinished(async () => {
    await transport.close()
    await listeners.close()
  })
  return { hub, transport, listeners }
}

const token = `SharedAccessSignature sr=x&sig=y&se=${Math.floor(Date.now() / 1000) + 3600}`

describe('listenMqtt', () => {
  it('passes the thumbprints of a client certificate presented over TLS', async () => {
    const { hub, listeners } = await start(null)
    expect(listeners.mqttPort).toBeNull()
    expect(listeners.addresses.mqtt).toBeNull()
    const dev = await issueDeviceCertificate(dir, 'x509dev', { signer: 'self' })
    const client = await mqtt.connectAsync(`mqtts://localhost:${listeners.mqttsPort}`, {
      clientId: 'x509dev', username: 'localhost/x509dev/?api-version=2021-04-12', ca: tls.ca, key: dev.key, cert: dev.cert, reconnectPeriod: 0
    })
    onTestFinished(async () => { await client.endAsync(true) })
    expect(hub.calls.auth).toEqual([{ deviceId: 'x509dev', certThumbprints: dev.thumbprints }])
    expect((await hub.connected('x509dev')).remote).toMatch(/^127\.0\.0\.1:\d+$/)
  })

  it('serves plain MQTT when mqttPort is set', async () => {
    const { hub, listeners } = await start(0)
    expect(listeners.addresses.mqtt?.port).toBe(listeners.mqttPort)
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${listeners.mqttPort}`, {
      clientId: 'dev1', username: 'h/dev1/?api-version=1', password: token, reconnectPeriod: 0
    })
    onTestFinished(async () => { await client.endAsync(true) })
    expect(hub.calls.auth[0]).toEqual({ deviceId: 'dev1', sasToken: token })
  })
})

describe('attachWebSocket', () => {
  it('upgrades /$iothub/websocket only', async () => {
    const hub = createFakeHub()
    const transport = await createMqttTransport(hub)
    const https = createHttpsServer({ key: tls.key, cert: tls.cert }, (_req, res) => { res.writeHead(404).end() })
    const detach = attachWebSocket(https, transport)
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
    onTestFinished(async () => {
      detach()
      await transport.close()
      https.closeAllConnections()
      await new Promise<void>((resolve) => https.close(() => { resolve() }))
    })
    const port = (https.address() as AddressInfo).port
    const opts = { clientId: 'dev1', username: 'localhost/dev1/?api-version=1', password: token, ca: tls.ca, reconnectPeriod: 0, connectTimeout: 5000 }
    const client = await mqtt.connectAsync(`wss://localhost:${port}/$iothub/websocket`, opts)
    onTestFinished(async () => { await client.endAsync(true) })
    expect(hub.calls.auth).toHaveLength(1)
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`wss://localhost:${port}/mqtt`, 'mqtt', { ca: tls.ca })
      ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0) })
      ws.on('open', () => { reject(new Error('upgraded')) })
    })
    expect(refused).toBe(404)
  })
})

describe('azure-iot-device over mqtts', () => {
  it('opens, reads and patches its twin, sends telemetry, answers a method and receives C2D', async () => {
    const { hub, listeners } = await start(null)
    const key = Buffer.alloc(32, 1).toString('base64')
    const client = DeviceClient.fromConnectionString(`HostName=localhost:${listeners.mqttsPort};DeviceId=dev1;SharedAccessKey=${key}`, Mqtt)
    onTestFinished(async () => { await client.close() })
    await client.setOptions({ ca: tls.ca })
    await client.open()
    const conn = await hub.connected('dev1')
    expect(hub.calls.auth[0]).toMatchObject({ deviceId: 'dev1', sasToken: expect.stringMatching(/^SharedAccessSignature sr=localhost%3A\d+%2Fdevices%2Fdev1&sig=/) })

    const twin = await client.getTwin()
    expect(twin.properties.desired).toMatchObject({ a: 1, $version: 3 })
    await new Promise<void>((resolve, reject) => {
      twin.properties.reported.update({ fw: '1.0' }, (err?: Error) => { if (err) reject(err); else resolve() })
    })
    expect(hub.calls.patches).toEqual([{ key: 'dev1', patch: { fw: '1.0' } }])

    const m = new Message('{"t":1}')
    m.messageId = 'mid 1'
    m.contentType = 'application/json'
    m.properties.add('alert', 'high temp')
    await client.sendEvent(m)
    expect(hub.calls.telemetry[0]).toMatchObject({
      deviceId: 'dev1',
      systemProperties: { messageId: 'mid 1', contentType: 'application/json' },
      properties: { alert: 'high temp' }
    })

    client.onDeviceMethod('reboot', (req, res) => {
      res.send(200, { echo: req.payload }, () => {})
    })
    await expect.poll(() => hub.sessions.get('dev1')?.methods).toBe(true)
    conn.sendMethodRequest({ methodName: 'reboot', requestId: 'r1', payloadJson: '{"delay":1}' })
    await expect.poll(() => hub.calls.methodResponses).toEqual([{ key: 'dev1', rid: 'r1', status: 200, payload: { echo: { delay: 1 } } }])

    const received = new Promise<Message>((resolve) => {
      client.on('message', (msg: Message) => { resolve(msg) })
    })
    await expect.poll(() => hub.sessions.get('dev1')?.c2d).toBe(true)
    await conn.sendC2d({
      messageId: 'c2d-1', deviceId: 'dev1', correlationId: 'corr', ack: 'full', properties: { k: 'v/w' },
      body: Buffer.from('hi').toString('base64'), enqueuedTime: new Date().toISOString()
    })
    const msg = await received
    expect(msg.messageId).toBe('c2d-1')
    expect(msg.correlationId).toBe('corr')
    expect(msg.data.toString()).toBe('hi')
    expect(msg.properties.getValue('k')).toBe('v/w')
  })
})
