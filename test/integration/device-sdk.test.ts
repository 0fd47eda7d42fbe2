// The official Azure IoT device SDK (azure-iot-device 1.18.4 + azure-iot-device-mqtt 1.16.4),
// unmodified, against a real hub on its own loopback IP: MQTT/TLS on 8883, MQTT over
// WebSocket on 443, SAS and X.509 identities. The service side is driven in-process.
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import mqtt from 'mqtt'
import { CleanupStack, nextEvent, startHubInProcess, startHubProcess, uid, waitFor, type InProcessHub, type Defer } from '../helpers/hub.js'
import { deviceSasToken, message, openClient, parseConnectionString, type DeviceClient, type Twin } from '../helpers/sdk.js'
import type { JsonObject, JsonValue } from '../../src/main/hub/types.js'

type DesiredPatch = Record<string, unknown> & { $version?: number }

function errName (err: unknown): string {
  return err instanceof Error ? `${err.constructor.name}/${err.name}` : String(err)
}

async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the promise to reject, but it resolved')
}

function reportedUpdate (twin: Twin, patch: JsonObject): Promise<void> {
  return new Promise((resolve, reject) => {
    (twin.properties.reported as { update: (p: unknown, cb: (err?: Error) => void) => void })
      .update(patch, (err) => { if (err) reject(err); else resolve() })
  })
}

/** Collects every `properties.desired` event of a twin. */
function collectDesired (twin: Twin): DesiredPatch[] {
  const seen: DesiredPatch[] = []
  twin.on('properties.desired', (patch: DesiredPatch) => { seen.push(structuredClone(patch)) })
  return seen
}

describe('azure-iot-device over MQTT/TLS (in-process hub)', () => {
  const stack = new CleanupStack()
  let h: InProcessHub
  let ca: string
  // Per-test resources (clients, devices) are released when each test finishes.
  const defer: Defer = (fn) => { onTestFinished(async () => { await fn() }) }

  beforeAll(async () => {
    h = await startHubInProcess({ defer: stack.defer })
    ca = await h.ca()
  }, 90_000)
  afterAll(async () => { await stack.run() })

  async function newDevice (prefix = 'dev'): Promise<{ id: string; cs: string }> {
    const id = uid(prefix)
    const cs = await h.addDevice(id)
    defer(async () => { await h.hub.registry.remove({ deviceId: id }).catch(() => {}) })
    return { id, cs }
  }

  const open = (cs: string, extra: { transport?: 'mqtt' | 'ws'; noOpen?: boolean } = {}): Promise<DeviceClient> =>
    openClient(cs, { ca, defer, ...extra })

  it('connects with a SAS connection string whose HostName is the hub', async () => {
    const { id, cs } = await newDevice()
    expect(parseConnectionString(cs).HostName).toBe(h.hostName)
    const connected = nextEvent<{ deviceId: string }>((l) => h.hub.events.on('device.connected', l), (e) => e.deviceId === id)
    await open(cs)
    await connected
    expect(h.hub.connections.isConnected({ deviceId: id })).toBe(true)
    expect(h.hub.registry.get({ deviceId: id })?.connectionState).toBe('Connected')
  })

  it('getTwin returns desired and reported with $version', async () => {
    const { id, cs } = await newDevice()
    const doc = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { fw: '1.2.3', limits: { hi: 80 } } } })
    const client = await open(cs)
    const twin = await client.getTwin()
    const desired = twin.properties.desired as Record<string, unknown>
    expect(desired['fw']).toBe('1.2.3')
    expect(desired['limits']).toEqual({ hi: 80 })
    expect(desired['$version']).toBe(doc.properties.desired.$version)
    expect(typeof (twin.properties.reported as Record<string, unknown>)['$version']).toBe('number')
  })

  it('a reported update is acknowledged and shows in the twin with $version and $metadata', async () => {
    const { id, cs } = await newDevice()
    const before = h.hub.twins.get({ deviceId: id }).properties.reported.$version
    const client = await open(cs)
    const twin = await client.getTwin()
    await reportedUpdate(twin, { temp: 21.5, status: { mode: 'auto' } })
    const doc = h.hub.twins.get({ deviceId: id })
    const reported = doc.properties.reported
    expect(reported['temp']).toBe(21.5)
    expect(reported['status']).toEqual({ mode: 'auto' })
    expect(reported.$version).toBeGreaterThan(before)
    const meta = reported.$metadata as unknown as Record<string, Record<string, unknown>>
    expect(typeof meta['$lastUpdated']).toBe('string')
    expect(Number.isNaN(Date.parse(String(meta['temp']?.['$lastUpdated'])))).toBe(false)
    expect(typeof (meta['status']?.['mode'] as Record<string, unknown> | undefined)?.['$lastUpdated']).toBe('string')
  })

  it('a desired patch from the service reaches twin.on("properties.desired")', async () => {
    const { id, cs } = await newDevice()
    const client = await open(cs)
    const twin = await client.getTwin()
    const seen = collectDesired(twin)
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'desired', 15_000)).toBe(true)
    const doc = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { setpoint: 42, mode: { fan: 'high' } } } })
    const v = doc.properties.desired.$version
    const patch = await waitFor(() => seen.find((p) => p.$version === v), 15_000, `desired notification $version ${v}`)
    expect(patch['setpoint']).toBe(42)
    expect(patch['mode']).toEqual({ fan: 'high' })
    expect((twin.properties.desired as Record<string, unknown>)['setpoint']).toBe(42)
  })

  it('removing a desired property (null) removes it from the SDK cached twin', async () => {
    const { id, cs } = await newDevice()
    const client = await open(cs)
    const twin = await client.getTwin()
    const seen = collectDesired(twin)
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'desired', 15_000)).toBe(true)
    const d1 = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { a: 1, keep: true, nest: { b: 2, c: 3 } } } })
    await waitFor(() => seen.find((p) => p.$version === d1.properties.desired.$version), 15_000, 'first desired patch')
    const d2 = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { a: null, nest: { b: null } } } })
    const v2 = d2.properties.desired.$version
    const patch = await waitFor(() => seen.find((p) => p.$version === v2), 15_000, `removal notification $version ${v2}`)
    // The notification must carry the removals as explicit nulls (A.7, B.3) ...
    expect(patch).toHaveProperty('a', null)
    expect((patch['nest'] as Record<string, unknown> | undefined)?.['b']).toBe(null)
    // ... so that the SDK's cached copy (lodash merge + strip nulls) loses the keys.
    const cached = twin.properties.desired as Record<string, unknown>
    expect(cached).not.toHaveProperty('a')
    expect(cached['nest']).toEqual({ c: 3 })
    expect(cached['keep']).toBe(true)
    expect(h.hub.twins.get({ deviceId: id }).properties.desired).not.toHaveProperty('a')
  })

  it('clearing the whole desired section (desired: null) empties the SDK cached desired', async () => {
    const { id, cs } = await newDevice()
    const client = await open(cs)
    const twin = await client.getTwin()
    const seen = collectDesired(twin)
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'desired', 15_000)).toBe(true)
    const d1 = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { x: 1, y: { z: 2 } } } })
    await waitFor(() => seen.find((p) => p.$version === d1.properties.desired.$version), 15_000, 'first desired patch')
    const d2 = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: null } })
    const v2 = d2.properties.desired.$version
    const patch = await waitFor(() => seen.find((p) => p.$version === v2), 15_000, `clear notification $version ${v2}`)
    expect(patch).toMatchObject({ x: null, y: null })
    const cached = Object.keys(twin.properties.desired as object).filter((k) => !k.startsWith('$'))
    expect(cached).toEqual([])
  })

  it('direct method round trip: status and payload both ways', async () => {
    const { id, cs } = await newDevice()
    const client = await open(cs)
    const got: unknown[] = []
    client.onDeviceMethod('reboot', (req, res) => {
      got.push(req.payload)
      void res.send(201, { ok: true, echo: req.payload as JsonValue })
    })
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'methods', 15_000)).toBe(true)
    const payload = { delay: 5, note: 'a/b?c=d&e', list: [1, 'two', null] }
    const result = await h.hub.methods.invoke({ deviceId: id }, { methodName: 'reboot', payload, responseTimeoutInSeconds: 15 })
    expect(result).toEqual({ status: 201, payload: { ok: true, echo: payload } })
    expect(got).toEqual([payload])
  })

  it('a method with a null payload arrives as null, and a reply without payload comes back as null', async () => {
    const { id, cs } = await newDevice()
    const client = await open(cs)
    const got: unknown[] = []
    client.onDeviceMethod('ping', (req, res) => {
      got.push(req.payload)
      void res.send(200)
    })
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'methods', 15_000)).toBe(true)
    const r1 = await h.hub.methods.invoke({ deviceId: id }, { methodName: 'ping', payload: null, responseTimeoutInSeconds: 15 })
    expect(r1).toEqual({ status: 200, payload: null })
    const r2 = await h.hub.methods.invoke({ deviceId: id }, { methodName: 'ping', responseTimeoutInSeconds: 15 })
    expect(r2).toEqual({ status: 200, payload: null })
    expect(got).toEqual([null, null])
  })

  it('telemetry with system and application properties lands in the history, percent-decoded', async () => {
    const { id, cs } = await newDevice()
    const client = await open(cs)
    const mid = uid('mid')
    const m = message(JSON.stringify({ t: 21.5 }), { alert: 'high temp', 'odd key': 'a&b=c/d%e', $odd: 'x' })
    m.messageId = mid
    m.correlationId = 'corr 1'
    m.contentType = 'application/json'
    m.contentEncoding = 'utf-8'
    await client.sendEvent(m)
    const history = await h.hub.telemetry.history({ deviceId: id })
    const stored = history.find((s) => s.systemProperties['messageId'] === mid)
    expect(stored, `history: ${JSON.stringify(history.map((s) => s.systemProperties))}`).toBeDefined()
    expect(stored!.systemProperties).toMatchObject({ messageId: mid, correlationId: 'corr 1', contentType: 'application/json', contentEncoding: 'utf-8' })
    expect(stored!.properties).toMatchObject({ alert: 'high temp', 'odd key': 'a&b=c/d%e', $odd: 'x' })
    expect(Object.keys(stored!.properties).some((k) => k.includes('%'))).toBe(false)
    expect(stored!.body.toString('utf8')).toBe(JSON.stringify({ t: 21.5 }))
    expect(stored!.deviceId).toBe(id)
  })

  it('a cloud-to-device message reaches client.on("message") with body and properties; complete() acks it', async () => {
    const { id, cs } = await newDevice()
    const client = await open(cs)
    const received: Array<import('azure-iot-device').Message> = []
    client.on('message', (msg: import('azure-iot-device').Message) => { received.push(msg) })
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'c2d', 15_000)).toBe(true)
    const completed = nextEvent<{ deviceId: string; messageId: string }>((l) => h.hub.events.on('c2d.completed', l), (e) => e.deviceId === id)
    const sent = await h.hub.c2d.send({ deviceId: id }, {
      body: 'hello device', messageId: 'c2d-1', correlationId: 'corr-9', properties: { color: 'blue', 'odd key': 'a&b=c/d' }
    })
    const msg = await waitFor(() => received[0], 15_000, 'C2D message')
    expect(msg.data.toString()).toBe('hello device')
    expect(msg.messageId).toBe(sent.messageId)
    expect(msg.correlationId).toBe('corr-9')
    expect(msg.properties.getValue('color')).toBe('blue')
    expect(msg.properties.getValue('odd key')).toBe('a&b=c/d')
    await client.complete(msg)
    expect((await completed).messageId).toBe(sent.messageId)
    expect(h.hub.c2d.pending({ deviceId: id })).toEqual([])
  })

  it('a C2D message queued while the device is offline is delivered when it connects', async () => {
    const { id, cs } = await newDevice()
    const sent = await h.hub.c2d.send({ deviceId: id }, { body: 'while you were away', properties: { k: 'v' } })
    expect(h.hub.c2d.pending({ deviceId: id }).map((m) => m.messageId)).toEqual([sent.messageId])
    const completed = nextEvent<{ deviceId: string; messageId: string }>((l) => h.hub.events.on('c2d.completed', l), (e) => e.deviceId === id)
    const client = await open(cs)
    const received: Array<import('azure-iot-device').Message> = []
    client.on('message', (msg: import('azure-iot-device').Message) => { received.push(msg); void client.complete(msg) })
    const msg = await waitFor(() => received[0], 15_000, 'queued C2D message')
    expect(msg.data.toString()).toBe('while you were away')
    expect(msg.properties.getValue('k')).toBe('v')
    await completed
    expect(h.hub.c2d.pending({ deviceId: id })).toEqual([])
  })

  it('a wrong key fails with UnauthorizedError and is not retried', async () => {
    const { id, cs } = await newDevice()
    const bad = cs.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${randomBytes(32).toString('base64')}`)
    const failures: string[] = []
    const off = h.hub.events.on('device.authFailed', (e) => { if (e.clientId === id) failures.push(e.reason) })
    defer(off)
    const client = await open(bad, { noOpen: true })
    const err = await rejection(client.open())
    expect(errName(err)).toMatch(/Unauthorized/)
    await waitFor(() => failures.length >= 1, 10_000, 'authFailed event')
    // open() settled, so the SDK gave up: exactly one attempt reached the hub.
    expect(failures).toHaveLength(1)
    expect(h.hub.connections.isConnected({ deviceId: id })).toBe(false)
  })

  it('a disabled device is refused', async () => {
    const id = uid('disabled')
    await h.hub.registry.create({ deviceId: id, status: 'disabled' })
    defer(async () => { await h.hub.registry.remove({ deviceId: id }).catch(() => {}) })
    const cs = h.hub.registry.deviceConnectionString({ deviceId: id })
    const client = await open(cs, { noOpen: true })
    const err = await rejection(client.open())
    expect(errName(err)).toMatch(/Unauthorized/)
    expect(h.hub.connections.isConnected({ deviceId: id })).toBe(false)
  })

  it('a device disabled while connected is dropped and cannot come back', async () => {
    const { id, cs } = await newDevice()
    const client = await open(cs)
    await waitFor(() => h.hub.connections.isConnected({ deviceId: id }), 10_000, 'connected')
    const dropped = nextEvent<{ deviceId: string }>((l) => h.hub.events.on('device.disconnected', l), (e) => e.deviceId === id)
    await h.hub.registry.setStatus({ deviceId: id }, 'disabled')
    await dropped
    expect(h.hub.connections.isConnected({ deviceId: id })).toBe(false)
    // The SDK reconnects to send; the hub refuses the disabled identity.
    const err = await rejection(client.sendEvent(message('after disable')))
    expect(errName(err)).toMatch(/Unauthorized/)
    expect(h.hub.connections.isConnected({ deviceId: id })).toBe(false)
  })

  it('a second connection with the same device id closes the first', async () => {
    const { id, cs } = await newDevice()
    const p = parseConnectionString(cs)
    // First connection: a plain MQTT client speaking exactly the SDK's CONNECT (clean=false).
    const first = await mqtt.connectAsync(`mqtts://${h.bind}:8883`, {
      protocolVersion: 4, clean: false, clientId: id, reconnectPeriod: 0, ca,
      username: `${p.HostName}/${id}/?api-version=2021-04-12`,
      password: deviceSasToken(p.HostName, id, p.SharedAccessKey!)
    })
    defer(() => first.end(true))
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()))
    await waitFor(() => h.hub.connections.isConnected({ deviceId: id }), 10_000, 'first connected')
    const firstConn = h.hub.connections.get({ deviceId: id })
    const second = await open(cs)
    await firstClosed
    expect(h.hub.connections.isConnected({ deviceId: id })).toBe(true)
    expect(h.hub.connections.get({ deviceId: id })).not.toBe(firstConn)
    // The second connection still works.
    const m = message('from second')
    m.messageId = uid('mid')
    await second.sendEvent(m)
    expect((await h.hub.telemetry.history({ deviceId: id })).some((s) => s.systemProperties['messageId'] === m.messageId)).toBe(true)
  })

  it('twins and methods are isolated between devices', async () => {
    const a = await newDevice('iso-a')
    const b = await newDevice('iso-b')
    const ca1 = await open(a.cs)
    const cb1 = await open(b.cs)
    const twinA = await ca1.getTwin()
    const twinB = await cb1.getTwin()
    const seenA = collectDesired(twinA)
    const seenB = collectDesired(twinB)
    const callsA: unknown[] = []
    const callsB: unknown[] = []
    ca1.onDeviceMethod('op', (req, res) => { callsA.push(req.payload); void res.send(200, 'A') })
    cb1.onDeviceMethod('op', (req, res) => { callsB.push(req.payload); void res.send(200, 'B') })
    for (const d of [a, b]) {
      expect(await h.hub.connections.waitFor({ deviceId: d.id }, 'desired', 15_000)).toBe(true)
      expect(await h.hub.connections.waitFor({ deviceId: d.id }, 'methods', 15_000)).toBe(true)
    }
    const da = await h.hub.twins.patch({ deviceId: a.id }, { properties: { desired: { onlyForA: 1 } } })
    expect(await h.hub.methods.invoke({ deviceId: a.id }, { methodName: 'op', payload: { to: 'A' }, responseTimeoutInSeconds: 15 }))
      .toEqual({ status: 200, payload: 'A' })
    await waitFor(() => seenA.find((p) => p.$version === da.properties.desired.$version), 15_000, 'A desired')
    // Barrier: B's own patch and call arrive after anything misrouted from A would have.
    const db = await h.hub.twins.patch({ deviceId: b.id }, { properties: { desired: { onlyForB: 2 } } })
    expect(await h.hub.methods.invoke({ deviceId: b.id }, { methodName: 'op', payload: { to: 'B' }, responseTimeoutInSeconds: 15 }))
      .toEqual({ status: 200, payload: 'B' })
    await waitFor(() => seenB.find((p) => p.$version === db.properties.desired.$version), 15_000, 'B desired')
    expect(callsA).toEqual([{ to: 'A' }])
    expect(callsB).toEqual([{ to: 'B' }])
    expect(seenB.some((p) => 'onlyForA' in p)).toBe(false)
    expect(twinB.properties.desired).not.toHaveProperty('onlyForA')
    expect(seenA.some((p) => 'onlyForB' in p)).toBe(false)
  })

  it('X.509 self-signed device: thumbprint (SHA-1 or SHA-256) authenticates; a wrong certificate is refused', async () => {
    const { issueDeviceCertificate } = await import('../../src/main/hub/tls/index.js')
    for (const form of ['sha1', 'sha256'] as const) {
      const id = uid(`x509-${form}`)
      const cert = await issueDeviceCertificate(h.dataDir, id, { signer: 'self' })
      await h.hub.registry.create({
        deviceId: id, authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: cert.thumbprints[form], secondaryThumbprint: null } }
      })
      defer(async () => { await h.hub.registry.remove({ deviceId: id }).catch(() => {}) })
      const cs = `HostName=${h.hostName};DeviceId=${id};x509=true`
      const client = await openClient(cs, { ca, cert: cert.cert, key: cert.key, defer })
      const m = message('x509 hello')
      m.messageId = uid('mid')
      await client.sendEvent(m)
      const history = await h.hub.telemetry.history({ deviceId: id })
      expect(history.map((s) => s.systemProperties['messageId'])).toContain(m.messageId)

      // Another certificate for the same device id: refused.
      const other = await issueDeviceCertificate(h.dataDir, id, { signer: 'self' })
      const intruder = await openClient(cs, { ca, cert: other.cert, key: other.key, defer, noOpen: true })
      const err = await rejection(intruder.open())
      expect(errName(err)).toMatch(/Unauthorized/)
    }
  })
})

describe('azure-iot-device over MQTT over WebSocket (wss://host:443/$iothub/websocket)', () => {
  const stack = new CleanupStack()
  let h: InProcessHub
  let ca: string
  beforeAll(async () => {
    h = await startHubInProcess({ defer: stack.defer })
    ca = await h.ca()
  }, 90_000)
  afterAll(async () => { await stack.run() })

  it('connects, sends telemetry and answers a method', async () => {
    const id = uid('ws')
    const cs = await h.addDevice(id)
    const client = await openClient(cs, { ca, transport: 'ws', defer: (fn) => { stack.defer(fn) } })
    const m = message('{"ws":true}', { via: 'websocket' })
    m.messageId = uid('mid')
    await client.sendEvent(m)
    const stored = (await h.hub.telemetry.history({ deviceId: id })).find((s) => s.systemProperties['messageId'] === m.messageId)
    expect(stored?.properties['via']).toBe('websocket')
    client.onDeviceMethod('whoami', (req, res) => { void res.send(200, { transport: 'ws', got: req.payload as JsonValue }) })
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'methods', 15_000)).toBe(true)
    const r = await h.hub.methods.invoke({ deviceId: id }, { methodName: 'whoami', payload: 7, responseTimeoutInSeconds: 15 })
    expect(r).toEqual({ status: 200, payload: { transport: 'ws', got: 7 } })
  })
})

describe('hub restart: the same SDK client reconnects by itself and keeps its subscriptions', () => {
  const stack = new CleanupStack()
  afterAll(async () => { await stack.run() })

  it('after close + start on the same data dir, desired updates and method calls still arrive', async () => {
    const h = await startHubInProcess({ defer: stack.defer })
    const ca = await h.ca()
    const id = uid('restart')
    const cs = await h.addDevice(id)
    const client = await openClient(cs, { ca, defer: stack.defer })
    const twin = await client.getTwin()
    const seen = collectDesired(twin)
    const calls: unknown[] = []
    client.onDeviceMethod('after', (req, res) => { calls.push(req.payload); void res.send(200, { n: calls.length }) })
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'desired', 15_000)).toBe(true)
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'methods', 15_000)).toBe(true)
    // Before the restart: works.
    const d0 = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { phase: 'before' } } })
    await waitFor(() => seen.find((p) => p.$version === d0.properties.desired.$version), 15_000, 'desired before restart')

    await h.restart()

    // The SDK reconnects on its own (exponential back-off); wait for the live connection and
    // its (persisted) subscriptions on the new hub.
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'methods', 90_000)).toBe(true)
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'desired', 30_000)).toBe(true)
    const d1 = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { phase: 'after' } } })
    expect(d1.properties.desired.$version).toBeGreaterThan(d0.properties.desired.$version)
    const patch = await waitFor(() => seen.find((p) => p.$version === d1.properties.desired.$version), 30_000, 'desired after restart')
    expect(patch['phase']).toBe('after')
    const r = await h.hub.methods.invoke({ deviceId: id }, { methodName: 'after', payload: { x: 1 }, responseTimeoutInSeconds: 20 })
    expect(r).toEqual({ status: 200, payload: { n: 1 } })
    expect(calls).toEqual([{ x: 1 }])
  }, 180_000)

  it('a client that only listens for desired properties gets them after a restart (persisted session record)', async () => {
    const h = await startHubInProcess({ defer: stack.defer })
    const ca = await h.ca()
    const id = uid('restart-desired')
    const cs = await h.addDevice(id)
    const client = await openClient(cs, { ca, defer: stack.defer })
    const twin = await client.getTwin()
    const seen = collectDesired(twin)
    expect(await h.hub.connections.waitFor({ deviceId: id }, 'desired', 15_000)).toBe(true)
    const d0 = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { phase: 'before' } } })
    await waitFor(() => seen.find((p) => p.$version === d0.properties.desired.$version), 15_000, 'desired before restart')

    await h.restart()

    expect(await h.hub.connections.waitFor({ deviceId: id }, 'desired', 90_000)).toBe(true)
    const d1 = await h.hub.twins.patch({ deviceId: id }, { properties: { desired: { phase: 'after' } } })
    const patch = await waitFor(() => seen.find((p) => p.$version === d1.properties.desired.$version), 30_000, 'desired after restart')
    expect(patch['phase']).toBe('after')
    expect((twin.properties.desired as Record<string, unknown>)['phase']).toBe('after')
  }, 180_000)
})

describe('hub restart as a process (CLI serve, SIGTERM, serve again on the same data dir)', () => {
  it('keeps its CA and devices, and the same SDK client reconnects by itself', async () => {
    const defer: Defer = (fn) => { onTestFinished(async () => { await fn() }) }
    const proc = await startHubProcess({ defer })
    const caBefore = await readFile(proc.caFile, 'utf8')
    const id = uid('proc')
    const cs = await proc.addDevice(id)
    expect(parseConnectionString(cs).HostName).toBe(proc.hostName)
    const client = await openClient(cs, { ca: caBefore, defer })
    const calls: unknown[] = []
    client.onDeviceMethod('noop', (req, res) => { calls.push(req.payload); void res.send(200) })
    const state = async (): Promise<string> => {
      const r = await proc.cli(['device', 'show', id, '--json'])
      if (r.code !== 0) throw new Error(`device show failed: ${r.stderr}`)
      return String((JSON.parse(r.stdout) as { connectionState?: unknown }).connectionState)
    }
    await waitFor(async () => (await state()) === 'Connected', 20_000, 'Connected before the restart')

    const stopped = await proc.kill('SIGTERM')
    expect(stopped.code, `hub stderr:\n${proc.stderr()}`).toBe(0)
    await proc.restart()
    expect(await readFile(proc.caFile, 'utf8')).toBe(caBefore)
    // The SDK reconnects on its own (it has methods enabled), with its exponential back-off.
    await waitFor(async () => (await state()) === 'Connected', 90_000, `Connected after the restart (hub stderr:\n${proc.stderr()})`)
    const m = message('after process restart')
    m.messageId = uid('mid')
    await client.sendEvent(m)

    // Disabling through the CLI (admin socket) drops the live connection.
    const dis = await proc.cli(['device', 'disable', id])
    expect(dis.code, dis.stderr).toBe(0)
    await waitFor(async () => (await state()) === 'Disconnected', 20_000, 'Disconnected after disable')
  }, 150_000)
})
