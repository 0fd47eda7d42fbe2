// Line protocol v1 over real pty pairs (socat), with the reference serial device on the far end.
import { describe, expect, it, onTestFinished } from 'vitest'
import { startSerialDevice, type SerialDevice, type SerialDeviceOptions } from '../../src/main/sim/serial/device.js'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import { startHubProcess } from '../helpers/hub.js'
import { addDevice, ptyPair, startSerialHub, tmpDir, until } from './helpers.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }

async function device (opts: SerialDeviceOptions): Promise<SerialDevice> {
  const d = await startSerialDevice(opts)
  defer(() => d.close())
  return d
}

describe('serial line protocol over a pty pair', () => {
  it('identifies, sends telemetry (durable before ack), reports, gets desired, answers methods', async () => {
    const { hub } = await startSerialHub(defer)
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)
    const key = await addDevice(hub, 'press-1')
    await hub.serial.add({ name: 'line1', path: pty.a, keepAliveSec: 5 })
    const dev = await device({ path: pty.b, deviceId: 'press-1', key })

    expect(hub.connections.isConnected({ deviceId: 'press-1' })).toBe(true)
    const info = hub.connections.list().find((c) => c.deviceId === 'press-1')
    expect(info?.transport).toBe('serial')
    expect(info?.details?.['port']).toBe('line1')

    // telemetry: acked only once in the durable log
    await dev.sendTelemetry({ temperature: 21.5 }, { kind: 'reading' })
    const hist = await hub.telemetry.history({ deviceId: 'press-1' }, 10)
    expect(hist).toHaveLength(1)
    expect(JSON.parse(hist[0]?.body.toString() ?? '')).toEqual({ temperature: 21.5 })
    expect(hist[0]?.properties['kind']).toBe('reading')
    expect(hist[0]?.transport).toBe('serial')

    // reported patch
    const ver = await dev.reportProperties({ firmware: '1.2.3' })
    expect(ver).toBeGreaterThan(0)
    expect(hub.twins.get({ deviceId: 'press-1' }).properties.reported['firmware']).toBe('1.2.3')

    // desired notification: the device applies it and echoes it as reported
    const gotDesired = new Promise((resolve) => dev.once('desired', resolve))
    await hub.twins.patchDesired({ deviceId: 'press-1' }, { setpoint: 42 })
    expect(await gotDesired).toEqual({ setpoint: 42 })
    await until(() => hub.twins.get({ deviceId: 'press-1' }).properties.reported['setpoint'] === 42, 5000, 'setpoint echoed')

    // twin get
    const twin = await dev.getTwin()
    expect(twin.desired['setpoint']).toBe(42)

    // direct method round trip through hub.methods.invoke
    const res = await hub.methods.invoke({ deviceId: 'press-1' }, { methodName: 'echo', payload: { hello: 'world' }, responseTimeoutInSeconds: 5 })
    expect(res).toEqual({ status: 200, payload: { hello: 'world' } })
    const missing = await hub.methods.invoke({ deviceId: 'press-1' }, { methodName: 'nope', responseTimeoutInSeconds: 5 })
    expect(missing.status).toBe(404)

    // C2D: queued, delivered, acked by the device
    const gotC2d = new Promise<{ body: string }>((resolve) => dev.once('c2d', resolve))
    await hub.c2d.send({ deviceId: 'press-1' }, { body: 'open valve' })
    expect((await gotC2d).body).toBe('open valve')
    await until(() => hub.c2d.pending({ deviceId: 'press-1' }).length === 0, 5000, 'c2d completed')

    // last activity and counters, as for an MQTT device
    const st = hub.serial.status().find((p) => p.name === 'line1')
    expect(st?.state).toBe('open')
    expect(st?.counters.framesIn).toBeGreaterThan(5)
    expect(st?.devices[0]).toMatchObject({ deviceId: 'press-1', connected: true })
    expect(hub.registry.get({ deviceId: 'press-1' })?.connectionState).toBe('Connected')
  })

  it('accepts a SAS token in hello and refuses a wrong key or an unknown device', async () => {
    const { hub } = await startSerialHub(defer)
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)
    const key = await addDevice(hub, 'sas-1')
    await hub.serial.add({ name: 'p', path: pty.a, keepAliveSec: 2 })
    const sas = createSasToken({ resource: 'serial.test/devices/sas-1', key, expiry: Math.floor(Date.now() / 1000) + 3600 })
    const dev = await device({ path: pty.b, deviceId: 'sas-1', sas })
    expect(dev.ready).toBe(true)
    await dev.close()

    const bad = new (await import('../../src/main/sim/serial/device.js')).SerialDevice({ path: pty.b, deviceId: 'sas-1', key: Buffer.alloc(32, 1).toString('base64') })
    defer(() => bad.close())
    const refused = new Promise((resolve) => bad.once('refused', resolve))
    await bad.start(200).catch(() => {})
    expect(String(await refused)).toMatch(/does not match/)
    expect(hub.connections.isConnected({ deviceId: 'sas-1' })).toBe(false)
    await until(() => (hub.serial.status()[0]?.counters.authFailures ?? 0) >= 1, 2000, 'auth failure counted')
  })
})

describe('RS-485 multidrop (line protocol, addressed devices)', () => {
  it('two addressed devices share one line; each gets its own frames; an unlisted device is refused', async () => {
    const { EventEmitter } = await import('node:events')
    const { SerialPort } = await import('serialport')
    const { hub } = await startSerialHub(defer)
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)
    const k1 = await addDevice(hub, 'drop-1')
    const k2 = await addDevice(hub, 'drop-2')
    await hub.serial.add({ name: 'bus', path: pty.a, keepAliveSec: 5, devices: [{ deviceId: 'drop-1', address: 1 }, { deviceId: 'drop-2', address: 2 }] })

    // one physical line, two transceivers: every device hears every byte
    const line = new SerialPort({ path: pty.b, baudRate: 115200 })
    defer(() => new Promise((resolve) => { line.close(() => resolve(undefined)) }))
    await new Promise((resolve) => line.once('open', resolve))
    const tap = (): InstanceType<typeof SerialPort> => {
      const ee = new EventEmitter() as InstanceType<typeof EventEmitter> & Record<string, unknown>
      line.on('data', (d: Buffer) => ee.emit('data', d))
      Object.assign(ee, {
        isOpen: true,
        open: (cb: (e: Error | null) => void) => { setImmediate(() => cb(null)) },
        write: (b: Buffer) => line.write(b),
        drain: (cb: () => void) => { line.drain(cb) },
        close: (cb?: () => void) => { ee['isOpen'] = false; cb?.() }
      })
      return ee as unknown as InstanceType<typeof SerialPort>
    }
    const d1 = await device({ path: pty.b, deviceId: 'drop-1', key: k1, address: 1, portFactory: tap })
    const d2 = await device({ path: pty.b, deviceId: 'drop-2', key: k2, address: 2, portFactory: tap })
    await d1.sendTelemetry({ from: 1 })
    await d2.sendTelemetry({ from: 2 })
    expect((await hub.telemetry.history({ deviceId: 'drop-1' }, 5)).map((m) => m.body.toString())).toEqual(['{"from":1}'])
    expect((await hub.telemetry.history({ deviceId: 'drop-2' }, 5)).map((m) => m.body.toString())).toEqual(['{"from":2}'])
    const calls: string[] = []
    d1.on('call', (n: string) => calls.push(`1:${n}`))
    d2.on('call', (n: string) => calls.push(`2:${n}`))
    expect((await hub.methods.invoke({ deviceId: 'drop-2' }, { methodName: 'echo', payload: 2, responseTimeoutInSeconds: 5 })).payload).toBe(2)
    expect(calls).toEqual(['2:echo'])
    const info = hub.connections.list().find((c) => c.deviceId === 'drop-2')
    expect(info?.remote).toMatch(/#2$/)

    // a registered device that is not configured on the bus is refused
    const k3 = await addDevice(hub, 'intruder')
    const bad = new (await import('../../src/main/sim/serial/device.js')).SerialDevice({ path: pty.b, deviceId: 'intruder', key: k3, address: 3, portFactory: tap })
    defer(() => bad.close())
    const refused = new Promise((resolve) => bad.once('refused', resolve))
    void bad.start(300).catch(() => {})
    expect(String(await refused)).toMatch(/not configured on port bus/)

    // a device leaves: the keep-alive asks for it alone ("who" addressed to 2); drop-1, which the
    // hub has, is not asked to identify again
    const welcomes1 = d1.stats.welcomes
    let onLine = ''
    line.on('data', (b: Buffer) => { onLine += b.toString() })
    await d2.close()
    await until(() => onLine.includes('{"a":2,"t":"who"}'), 10_000, 'an addressed "who" for drop-2')
    expect(onLine).not.toContain('{"t":"who"}')
    expect(onLine).not.toContain('{"a":1,"t":"who"}')
    expect(d1.stats.welcomes).toBe(welcomes1)
    expect(hub.connections.isConnected({ deviceId: 'drop-1' })).toBe(true)
  })
})

describe('port configuration changes', () => {
  it('reconfiguring a port restarts it; the device identifies again; removing it disconnects', async () => {
    const { hub } = await startSerialHub(defer)
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)
    const key = await addDevice(hub, 'cfg-1')
    await hub.serial.add({ name: 'c', path: pty.a, keepAliveSec: 1 })
    const dev = await device({ path: pty.b, deviceId: 'cfg-1', key, reopenMs: 100 })
    const welcomes = dev.stats.welcomes
    await hub.serial.update('c', { keepAliveSec: 2 })
    await until(() => dev.stats.welcomes > welcomes && hub.connections.isConnected({ deviceId: 'cfg-1' }), 10_000, 'identified again')
    expect(hub.serial.get('c')?.keepAliveSec).toBe(2)
    await dev.sendTelemetry({ after: 'reconfigure' })
    await hub.serial.remove('c')
    await until(() => !hub.connections.isConnected({ deviceId: 'cfg-1' }), 5000, 'disconnected after remove')
    expect(hub.serial.status()).toEqual([])
  })
})

describe('port configuration is durable', () => {
  it('survives a hub restart and the port reopens; the device reconnects on "who"', async () => {
    const { createHub } = await import('../../src/main/hub/index.js')
    const { createSerialTransport } = await import('../../src/main/hub/transports/serial/index.js')
    const dataDir = await tmpDir(defer)
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)
    const config = { dataDir, hostName: 'serial.test', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role: 'edge' as const }
    let hub = await createHub({ config, fsync: false })
    let transport = createSerialTransport(hub, { backoff: { initialMs: 50, maxMs: 400 } })
    const key = await addDevice(hub, 'dur-1')
    await hub.serial.add({ name: 'd', path: pty.a, keepAliveSec: 1 })
    const dev = await device({ path: pty.b, deviceId: 'dur-1', key, reopenMs: 100 })
    await dev.sendTelemetry({ n: 1 })
    await transport.close()
    await hub.close()

    hub = await createHub({ config, fsync: false })
    transport = createSerialTransport(hub, { backoff: { initialMs: 50, maxMs: 400 } })
    defer(async () => { await transport.close(); await hub.close() })
    expect(hub.serial.list().map((p) => p.name)).toEqual(['d'])
    const h = hub
    await until(() => h.connections.isConnected({ deviceId: 'dur-1' }), 20_000, 'reconnected after restart')
    await dev.sendTelemetry({ n: 2 })
    expect((await h.telemetry.history({ deviceId: 'dur-1' }, 5)).map((m) => m.body.toString())).toEqual(['{"n":1}', '{"n":2}'])
  })
  it('a hub killed with SIGKILL (no bye) comes back; the device, still believing it is connected, identifies again on "who"', async () => {
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)
    const proc = await startHubProcess({ defer, mqttsPort: 0, httpsPort: 0 })
    const cs = await proc.addDevice('crash-1')
    const key = /SharedAccessKey=([^;]+)/.exec(cs)?.[1] ?? ''
    expect((await proc.cli(['serial', 'add', pty.a, '--name', 'k', '--keep-alive', '1'])).code).toBe(0)
    const dev = await device({ path: pty.b, deviceId: 'crash-1', key, reopenMs: 100 })
    await dev.sendTelemetry({ n: 1 })
    const heard: string[] = []
    dev.on('frame', (m: { t?: unknown }) => { heard.push(String(m.t)) })

    // power loss: the hub says nothing, the device's side of the line stays up
    await proc.kill('SIGKILL')
    expect(dev.ready).toBe(true)
    await proc.restart()
    await until(() => dev.stats.welcomes >= 2, 20_000, 'the device identified again after the crash')
    expect(heard).not.toContain('bye')
    expect(heard).toContain('who')
    await dev.sendTelemetry({ n: 2 })
    const st = await until(async () => {
      const ports = JSON.parse((await proc.cli(['serial', 'status', '--json'])).stdout) as Array<{ devices: Array<{ deviceId: string; connected: boolean }> }>
      return ports[0]?.devices.find((d) => d.deviceId === 'crash-1' && d.connected)
    }, 10_000, 'serial status shows the device connected')
    expect(st.connected).toBe(true)
  })
})
