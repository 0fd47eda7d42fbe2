// Framing unit tests: the line framer and frame codec alone, then a line-protocol port over
// SerialPortMock (SerialPortMock.binding: an ESM import of MockBinding is a second copy).
import { SerialPortMock } from 'serialport'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub } from '../../index.js'
import { createMemoryStore } from '../../store/memory-store.js'
import { crc16 } from './crc.js'
import { createLineFramer, decodeFrame, encodeFrame, frameText } from './framing.js'
import { createSerialTransport } from './index.js'
import { proofSignature } from './auth.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

describe('crc16', () => {
  it('is CRC-16/CCITT-FALSE', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x29b1)
  })
})

describe('line framer', () => {
  const run = (max: number, chunks: Array<string | Buffer>) => {
    const lines: string[] = []
    const over: number[] = []
    const f = createLineFramer(max, { onLine: (l) => lines.push(l.toString('latin1')), onOversize: (n) => over.push(n) })
    for (const c of chunks) f.push(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1'))
    return { lines, over, pending: f.pending() }
  }

  it('splits lines across chunks, drops CR, skips empty lines, keeps a partial tail', () => {
    expect(run(100, ['ab', 'c\r\n\n', 'de\nf', 'g'])).toEqual({ lines: ['abc', 'de'], over: [], pending: 2 })
  })

  it('drops an oversize line up to its newline without buffering it, then carries on', () => {
    const r = run(8, ['123456', '789012', '345\nok\n', 'x'.repeat(20), '\n'])
    expect(r.lines).toEqual(['ok'])
    expect(r.over).toEqual([15, 20])
  })
})

describe('frame codec', () => {
  it('round-trips and rejects bad checksums, missing CRC and non-objects', () => {
    const f = encodeFrame({ t: 'tel', i: 1, body: { x: 'é' } })
    const line = f.subarray(0, f.length - 1)
    expect(decodeFrame(line)).toEqual({ ok: true, msg: { t: 'tel', i: 1, body: { x: 'é' } } })
    const broken = Buffer.from(line)
    broken[3] = 0x58
    expect(decodeFrame(broken)).toMatchObject({ ok: false, error: 'checksum' })
    expect(decodeFrame(Buffer.from('{"t":"tel"}'))).toMatchObject({ ok: false, error: 'garbage' })
    expect(decodeFrame(frameText('[1,2]').subarray(0, -1))).toMatchObject({ ok: false, error: 'garbage', detail: 'not a JSON object' })
    expect(decodeFrame(frameText('{nope').subarray(0, -1))).toMatchObject({ ok: false, error: 'garbage', detail: 'not JSON' })
  })
})

describe('line port over SerialPortMock', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

  it('identifies by challenge-response and acks telemetry, over a mocked port', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sitehub-serial-mock-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const hub = await createHub({ config: { dataDir, hostName: 'h', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role: 'edge' }, store: createMemoryStore(), fsync: false })
    cleanups.push(() => hub.close())
    const binding = SerialPortMock.binding
    binding.reset()
    binding.createPort('/dev/mock0', { record: true })
    let mock: SerialPortMock | null = null
    const transport = createSerialTransport(hub, {
      portFactory: (cfg) => (mock = new SerialPortMock({ path: cfg.path, baudRate: cfg.baudRate, autoOpen: false }))
    })
    cleanups.push(() => transport.close())
    const key = (await hub.registry.create({ deviceId: 'm1' })).authentication.symmetricKey.primaryKey ?? ''
    await hub.serial.add({ name: 'mock', path: '/dev/mock0' })

    const written = (): string[] => {
      const rec = (mock as unknown as { port: { recording: Buffer } } | null)?.port?.recording ?? Buffer.alloc(0)
      return rec.toString('utf8').split('\n').filter((l) => l !== '').map((l) => l.slice(0, l.lastIndexOf('*')))
    }
    const waitWritten = async (re: RegExp): Promise<string> => {
      for (let i = 0; i < 200; i++) {
        const hit = written().find((l) => re.test(l))
        if (hit !== undefined) return hit
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      throw new Error(`nothing written matching ${re}: ${written().join(' | ')}`)
    }
    await waitWritten(/"t":"who"/)
    const port = (mock as unknown as { port: { emitData(d: Buffer): void } }).port
    port.emitData(encodeFrame({ t: 'hello', v: 1, dev: 'm1' }))
    const challenge = JSON.parse(await waitWritten(/"t":"challenge"/)) as { nonce: string }
    // split the auth frame in two reads
    const auth = encodeFrame({ t: 'auth', sig: proofSignature(key, 'm1', challenge.nonce) })
    port.emitData(auth.subarray(0, 7))
    port.emitData(auth.subarray(7))
    await waitWritten(/"t":"welcome"/)
    expect(hub.connections.isConnected({ deviceId: 'm1' })).toBe(true)
    port.emitData(encodeFrame({ t: 'tel', i: 1, body: 5 }))
    await waitWritten(/"t":"ack","i":1/)
    expect((await hub.telemetry.history({ deviceId: 'm1' }, 5)).map((m) => m.body.toString())).toEqual(['5'])
  })
})
