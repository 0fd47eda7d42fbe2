// The cloud's public address with a man in the middle on its MQTT port, to lose exactly the
// answers a test names. 443 is the plain TCP proxy of harness.ts; 8883 terminates TLS with a
// certificate for the proxy address issued by the test CA (which the edge trusts as its
// upstream CA), opens its own TLS connection to the real cloud and forwards MQTT packets both
// ways. While `dropDown` is set, cloud->edge PUBLISHes whose topic matches it are swallowed
// (listed in `dropped`): e.g. the 204 of a reported patch the cloud applied and made durable
// (a Sitehub cloud answers only then), which is the moment a crash leaves the edge unsure.
// `dropUp` does the same edge->cloud (a patch lost before the cloud got it).
// pause()/resume() black-hole and cut both ports like the TCP proxy.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer, type Server, type TLSSocket } from 'node:tls'
import { ensureTls } from '../../src/main/hub/tls/ensure-tls.js'
import { startProxy, testCa, type Proxy } from './harness.js'

export interface InterceptingProxy extends Proxy {
  /** Swallow cloud->edge PUBLISHes on 8883 whose topic matches (null: forward everything). */
  dropDown: RegExp | null
  /** Swallow edge->cloud PUBLISHes on 8883 whose topic matches (null: forward everything). */
  dropUp: RegExp | null
  /** Topics swallowed so far (both ways). */
  dropped: string[]
}

/** Splits an MQTT byte stream into whole packets. */
function framer (onPacket: (packet: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0)
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    for (;;) {
      if (buf.length < 2) return
      let len = 0
      let mul = 1
      let i = 1
      for (;;) {
        if (i >= buf.length) return // remaining length not complete yet
        const b = buf[i] as number
        len += (b & 0x7f) * mul
        mul *= 128
        i++
        if ((b & 0x80) === 0) break
        if (i > 4) throw new Error('malformed MQTT remaining length')
      }
      const total = i + len
      if (buf.length < total) return
      onPacket(buf.subarray(0, total))
      buf = buf.subarray(total)
    }
  }
}

/** The topic of a PUBLISH packet, or null for any other packet type. */
function publishTopic (packet: Buffer): string | null {
  if (((packet[0] as number) >> 4) !== 3) return null
  let i = 1
  while (((packet[i] as number) & 0x80) !== 0) i++
  i++
  const n = packet.readUInt16BE(i)
  return packet.subarray(i + 2, i + 2 + n).toString('utf8')
}

export async function startInterceptingProxy (target: string, ip: string): Promise<InterceptingProxy> {
  const tcp = await startProxy(target, [443], ip)
  const caDir = process.env['SITEHUB_TEST_CA_DIR'] as string
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-mitm-'))
  mkdirSync(join(dir, 'tls'), { recursive: true })
  for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(caDir, 'tls', f), join(dir, 'tls', f))
  const tls = await ensureTls(dir, { hostName: ip, bind: ip })
  const ca = testCa()
  const pairs = new Set<{ a: TLSSocket; b: TLSSocket | null }>()
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (a) => {
    const pair: { a: TLSSocket; b: TLSSocket | null } = { a, b: null }
    pairs.add(pair)
    a.on('error', () => {})
    a.on('close', () => { pair.b?.destroy(); pairs.delete(pair) })
    if (self.paused) { a.pause(); return }
    // The cloud's certificate names its public address (this proxy) and its bind address.
    const b = connect({ host: target, port: 8883, ca, checkServerIdentity: () => undefined })
    pair.b = b
    b.on('error', () => { a.destroy() })
    b.on('close', () => { a.destroy() })
    const up = framer((packet) => {
      const topic = publishTopic(packet)
      if (topic !== null && self.dropUp !== null && self.dropUp.test(topic)) { self.dropped.push(topic); return }
      b.write(packet)
    })
    a.on('data', (chunk: Buffer) => {
      try { up(chunk) } catch { a.destroy(); b.destroy() }
    })
    const down = framer((packet) => {
      const topic = publishTopic(packet)
      if (topic !== null && self.dropDown !== null && self.dropDown.test(topic)) { self.dropped.push(topic); return }
      a.write(packet)
    })
    b.on('data', (chunk: Buffer) => {
      try { down(chunk) } catch { a.destroy(); b.destroy() }
    })
  })
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(8883, ip, () => resolve()) })
  const self: InterceptingProxy = {
    ip,
    paused: false,
    dropDown: null,
    dropUp: null,
    dropped: [],
    pause () {
      self.paused = true
      tcp.pause()
      for (const p of pairs) { p.a.pause(); p.b?.pause() }
    },
    resume () {
      self.paused = false
      tcp.resume()
      for (const p of pairs) { p.a.destroy(); p.b?.destroy() }
      pairs.clear()
    },
    async close () {
      self.resume()
      await tcp.close()
      await new Promise<void>((r) => server.close(() => r()))
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return self
}
