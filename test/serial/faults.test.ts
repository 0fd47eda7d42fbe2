// Fault injection on real pty pairs: garbage, partial frames, bad checksums, oversize lines,
// unplug and replug (socat stopped and restarted), a slow device and a silent one.
import { describe, expect, it, onTestFinished } from 'vitest'
import { frame } from '../../src/main/sim/serial/frames.js'
import { SerialDevice, startSerialDevice, type SerialDeviceOptions } from '../../src/main/sim/serial/device.js'
import { addDevice, ptyPair, startSerialHub, tmpDir, until } from './helpers.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function device (opts: SerialDeviceOptions): Promise<SerialDevice> {
  const d = await startSerialDevice(opts)
  defer(() => d.close())
  return d
}

async function setup (keepAliveSec = 5) {
  const { hub } = await startSerialHub(defer)
  const dir = await tmpDir(defer)
  const pty = await ptyPair(dir, defer)
  const key = await addDevice(hub, 'dev-1')
  await hub.serial.add({ name: 'p1', path: pty.a, keepAliveSec, maxLineBytes: 1024 })
  const port = () => hub.serial.status()[0]
  return { hub, pty, key, port }
}

describe('serial robustness', () => {
  it('survives garbage, partial frames, bad checksums and oversize lines, and counts them', async () => {
    const { hub, pty, key, port } = await setup()
    const dev = await device({ path: pty.b, deviceId: 'dev-1', key, ackTimeoutMs: 300 })

    dev.sendRaw(Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x13, 0x37, 0x0a]))
    dev.sendRaw('not a frame at all\n{"t":"tel"}*ZZZZ\n')
    const bad = frame({ t: 'tel', i: 9999, body: 1 }).toString().replace(/\*[0-9A-F]{4}/, '*0000')
    dev.sendRaw(bad)
    dev.sendRaw('x'.repeat(5000) + '\n')
    // one frame in three pieces
    const good = frame({ t: 'tel', i: 500, body: { split: true } })
    dev.sendRaw(good.subarray(0, 10)); await sleep(30)
    dev.sendRaw(good.subarray(10, 20)); await sleep(30)
    dev.sendRaw(good.subarray(20))
    await dev.sendTelemetry({ after: 'garbage' })

    await until(async () => (await hub.telemetry.history({ deviceId: 'dev-1' }, 10)).length === 2, 5000, 'two messages')
    const bodies = (await hub.telemetry.history({ deviceId: 'dev-1' }, 10)).map((m) => JSON.parse(m.body.toString()))
    expect(bodies).toEqual([{ split: true }, { after: 'garbage' }])
    const c = port()?.counters
    expect(c?.badChecksum).toBe(1)
    expect(c?.oversize).toBe(1)
    expect(c?.garbage).toBeGreaterThanOrEqual(3)
    expect(hub.connections.isConnected({ deviceId: 'dev-1' })).toBe(true)
  })

  it('a retransmitted telemetry frame (its ack was lost) is stored once and acked again', async () => {
    const { hub, pty, key } = await setup()
    const dev = await device({ path: pty.b, deviceId: 'dev-1', key })
    let acks = 0
    dev.on('frame', (m: Record<string, unknown>) => { if (m['t'] === 'ack' && m['i'] === 777) acks++ })
    const f = frame({ t: 'tel', i: 777, body: { once: true } })
    dev.sendRaw(f)
    dev.sendRaw(f)
    await until(() => acks === 2, 5000, 'two acks')
    expect((await hub.telemetry.history({ deviceId: 'dev-1' }, 10)).length).toBe(1)
  })

  it('unplug and replug: disconnected, counted, reconnected with backoff; nothing accepted is lost', async () => {
    const { hub, pty, key, port } = await setup()
    const dev = await device({ path: pty.b, deviceId: 'dev-1', key, ackTimeoutMs: 200, retries: 100, reopenMs: 100 })
    await dev.sendTelemetry({ n: 1 })
    const disconnected = new Promise((resolve) => hub.events.once('device.disconnected', resolve))

    await pty.stop() // cable pulled: both pty ends vanish
    expect(await disconnected).toMatchObject({ deviceId: 'dev-1' })
    await until(() => port()?.state === 'backoff' || port()?.state === 'closed', 3000, 'port down')
    expect(hub.connections.isConnected({ deviceId: 'dev-1' })).toBe(false)
    // readings taken while unplugged are retransmitted once the line is back
    const during = dev.sendTelemetry({ n: 2 })
    await sleep(500)

    await pty.start()
    await until(() => hub.connections.isConnected({ deviceId: 'dev-1' }), 10_000, 'reconnected')
    await during
    await dev.sendTelemetry({ n: 3 })
    const ns = (await hub.telemetry.history({ deviceId: 'dev-1' }, 10)).map((m) => JSON.parse(m.body.toString()).n)
    expect(ns).toEqual([1, 2, 3])
    const st = port()
    expect(st?.counters.portErrors).toBeGreaterThanOrEqual(1)
    expect(st?.counters.opens).toBeGreaterThanOrEqual(2)
    expect(st?.state).toBe('open')
    // methods reach it again
    const res = await hub.methods.invoke({ deviceId: 'dev-1' }, { methodName: 'echo', payload: 7, responseTimeoutInSeconds: 5 })
    expect(res).toEqual({ status: 200, payload: 7 })
  })

  it('a slow device (a few bytes at a time) works, and a silent one is disconnected after 3x keep-alive', async () => {
    const { hub, pty, key } = await setup(1)
    const dev = await device({ path: pty.b, deviceId: 'dev-1', key, slowChunk: 3, slowDelayMs: 2, ackTimeoutMs: 3000 })
    await dev.sendTelemetry({ slow: true })
    const r = await hub.methods.invoke({ deviceId: 'dev-1' }, { methodName: 'slow', payload: { ms: 300 }, responseTimeoutInSeconds: 5 })
    expect(r).toEqual({ status: 200, payload: { sleptMs: 300 } })
    expect((await hub.telemetry.history({ deviceId: 'dev-1' }, 5)).length).toBe(1)

    dev.opts.mute = true // stops answering pings and everything else
    // (no wall-clock bound here: shared machines are noisy; the 3x keep-alive rule is the hub's timer)
    const ev = await new Promise<{ reason: string }>((resolve) => hub.events.once('device.disconnected', resolve))
    expect(ev.reason).toMatch(/silent/)
    expect(hub.serial.status()[0]?.devices[0]?.lastError).toBe('device silent')
  })
})

describe('offline command queue to a serial device', () => {
  it('a command queued while the cable is pulled runs when the device is back', async () => {
    const { hub, pty, key } = await setup()
    const dev = await device({ path: pty.b, deviceId: 'dev-1', key, reopenMs: 100 })
    await pty.stop()
    await until(() => !hub.connections.isConnected({ deviceId: 'dev-1' }), 5000, 'disconnected')
    const cmd = await hub.commands.enqueue({ deviceId: 'dev-1' }, { methodName: 'echo', payload: { queued: true }, ttlInSeconds: 60 })
    const calls: string[] = []
    dev.on('call', (n: string) => calls.push(n))
    await pty.start()
    const done = await until(() => { const c = hub.commands.get(cmd.commandId); return c?.status === 'succeeded' ? c : null }, 15_000, 'command succeeded')
    expect(done.response).toEqual({ status: 200, payload: { queued: true } })
    expect(calls).toEqual(['echo'])
  })
})
