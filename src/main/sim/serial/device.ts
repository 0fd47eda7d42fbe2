// The reference serial device: speaks Sitehub line protocol v1 over a real serial port (or a
// pty), the way a microcontroller would. Used by `sitehub simulate --serial PATH`, the tests
// and the bench. It identifies (challenge-response over its key, or a SAS token), sends
// telemetry, reports properties, applies desired properties (echoing them as reported),
// answers direct methods, acks C2D messages, retransmits unacknowledged requests, and reopens
// its port when it disappears.
import { EventEmitter } from 'node:events'
import { SerialPort } from 'serialport'
import { frame, parseLine, proof } from './frames.js'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
export type JsonObj = { [k: string]: Json }

export interface MethodResult { status: number; payload?: Json }

export interface SerialDeviceOptions {
  path: string
  deviceId: string
  /** Device symmetric key (base64) for the challenge-response proof. */
  key?: string
  /** Or a SAS token presented in hello. */
  sas?: string
  /** Multidrop address (1..247). */
  address?: number
  baudRate?: number
  /** Send a telemetry message every N ms (0 = only on request). */
  telemetryIntervalMs?: number
  /** Extra methods; built in: echo, reboot, slow ({ms}), fail. */
  methods?: Record<string, (payload: Json) => MethodResult | Promise<MethodResult>>
  capabilities?: string[]
  /** Retransmit an unacknowledged request after this long (default 1000 ms), at most `retries` times. */
  ackTimeoutMs?: number
  retries?: number
  /** Reopen the port this long after it disappears (default 300 ms). */
  reopenMs?: number
  /** A slow device: write frames in chunks of `slowChunk` bytes, `slowDelayMs` apart. */
  slowChunk?: number
  slowDelayMs?: number
  /** Answer nothing at all (a device that hung). */
  mute?: boolean
  /** Make a port object (defaults to serialport's SerialPort). */
  portFactory?: (path: string, baudRate: number) => SerialPort
}

interface Pending {
  msg: JsonObj
  tries: number
  timer: NodeJS.Timeout
  resolve(v: JsonObj): void
  reject(err: Error): void
}

export interface SimStats {
  welcomes: number
  sent: number
  received: number
  retransmits: number
  naks: number
  badFrames: number
  reopens: number
}

export class SerialDevice extends EventEmitter {
  readonly opts: SerialDeviceOptions
  readonly stats: SimStats = { welcomes: 0, sent: 0, received: 0, retransmits: 0, naks: 0, badFrames: 0, reopens: 0 }
  desired: JsonObj = {}
  reported: JsonObj = {}
  ready = false
  private port: SerialPort | null = null
  private buf = ''
  private nextId = 1
  private pending = new Map<number, Pending>()
  private telTimer: NodeJS.Timeout | null = null
  private reopenTimer: NodeJS.Timeout | null = null
  private closed = false
  private helloAt = 0
  private writeChain: Promise<void> = Promise.resolve()

  constructor (opts: SerialDeviceOptions) {
    super()
    this.opts = opts
  }

  /** Opens the port and identifies; resolves once the hub said welcome. */
  async start (timeoutMs = 10_000): Promise<void> {
    this.openPort()
    if (this.opts.telemetryIntervalMs !== undefined && this.opts.telemetryIntervalMs > 0) {
      this.telTimer = setInterval(() => {
        if (this.ready) this.sendTelemetry(this.sample()).catch(() => {})
      }, this.opts.telemetryIntervalMs)
    }
    await this.waitReady(timeoutMs)
  }

  waitReady (timeoutMs = 10_000): Promise<void> {
    if (this.ready) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.off('welcome', ok); reject(new Error(`${this.opts.deviceId}: no welcome within ${timeoutMs} ms`)) }, timeoutMs)
      const ok = (): void => { clearTimeout(t); resolve() }
      this.once('welcome', ok)
    })
  }

  /** A simulated reading. */
  sample (): JsonObj {
    return { temperature: Math.round((20 + Math.random() * 5) * 10) / 10, humidity: Math.round(40 + Math.random() * 20), ts: new Date().toISOString() }
  }

  sendTelemetry (body: Json, props?: Record<string, string>): Promise<JsonObj> {
    return this.request({ t: 'tel', body, ...(props === undefined ? {} : { props }) })
  }

  async reportProperties (patch: JsonObj): Promise<number> {
    const ack = await this.request({ t: 'rep', patch })
    Object.assign(this.reported, patch)
    return Number(ack['ver'])
  }

  async getTwin (): Promise<{ desired: JsonObj; reported: JsonObj }> {
    const r = await this.request({ t: 'get' })
    return { desired: r['desired'] as JsonObj, reported: r['reported'] as JsonObj }
  }

  /** Writes raw bytes (fault injection: garbage, partial frames). */
  sendRaw (data: Buffer | string): void {
    this.write(Buffer.isBuffer(data) ? data : Buffer.from(data))
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.telTimer !== null) clearInterval(this.telTimer)
    if (this.reopenTimer !== null) clearTimeout(this.reopenTimer)
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error('device closed')) }
    this.pending.clear()
    const port = this.port
    this.port = null
    this.ready = false
    if (port?.isOpen === true) {
      if (!(this.opts.mute ?? false)) port.write(frame(this.addr({ t: 'bye' })))
      await new Promise<void>((resolve) => { port.drain(() => { port.close(() => { resolve() }) }) })
    }
  }

  // --- internals ---------------------------------------------------------------------------

  private addr (msg: JsonObj): JsonObj {
    return this.opts.address === undefined ? msg : { a: this.opts.address, ...msg }
  }

  private openPort (): void {
    if (this.closed) return
    const make = this.opts.portFactory ?? ((path: string, baudRate: number) => new SerialPort({ path, baudRate, autoOpen: false }))
    const port = make(this.opts.path, this.opts.baudRate ?? 115200)
    this.port = port
    port.on('data', (chunk: Buffer) => { this.onData(chunk) })
    port.on('error', () => { this.lost(port) })
    port.on('close', () => { this.lost(port) })
    port.open((err) => {
      if (this.port !== port) return
      if (err) { this.lost(port); return }
      this.hello()
    })
  }

  private lost (port: SerialPort): void {
    if (this.port !== port) return
    this.port = null
    this.ready = false
    this.buf = ''
    port.removeAllListeners('data')
    port.removeAllListeners('close')
    if (port.isOpen) port.close(() => {})
    this.emit('down')
    if (this.closed) return
    this.stats.reopens++
    this.reopenTimer = setTimeout(() => { this.reopenTimer = null; this.openPort() }, this.opts.reopenMs ?? 300)
  }

  private write (buf: Buffer): void {
    const port = this.port
    if (port === null || !port.isOpen) return
    this.stats.sent++
    const chunk = this.opts.slowChunk
    if (chunk === undefined) { port.write(buf); return }
    // a slow device: the hub sees the frame trickle in
    this.writeChain = this.writeChain.then(async () => {
      for (let i = 0; i < buf.length; i += chunk) {
        if (!port.isOpen) return
        port.write(buf.subarray(i, i + chunk))
        await new Promise((resolve) => setTimeout(resolve, this.opts.slowDelayMs ?? 5))
      }
    })
  }

  private send (msg: JsonObj): void {
    this.write(frame(this.addr(msg)))
  }

  private hello (): void {
    // do not flood a hub that keeps asking "who"
    const now = Date.now()
    if (now - this.helloAt < 200) return
    this.helloAt = now
    this.ready = false
    const caps = this.opts.capabilities ?? ['tel', 'twin', 'des', 'call', 'c2d']
    this.send({ t: 'hello', v: 1, dev: this.opts.deviceId, caps, fw: 'sim-1.0', ...(this.opts.sas === undefined ? {} : { sas: this.opts.sas }) })
  }

  private request (msg: JsonObj): Promise<JsonObj> {
    const i = this.nextId++
    return new Promise((resolve, reject) => {
      const full = { ...msg, i }
      const p: Pending = { msg: full, tries: 0, resolve, reject, timer: setTimeout(() => { this.retransmit(i) }, this.opts.ackTimeoutMs ?? 1000) }
      this.pending.set(i, p)
      if (this.ready) this.send(full)
    })
  }

  private retransmit (i: number): void {
    const p = this.pending.get(i)
    if (p === undefined) return
    if (p.tries >= (this.opts.retries ?? 10)) {
      this.pending.delete(i)
      p.reject(new Error(`request ${i} (${String(p.msg['t'])}) not acknowledged`))
      return
    }
    p.tries++
    this.stats.retransmits++
    if (this.ready) this.send(p.msg)
    p.timer = setTimeout(() => { this.retransmit(i) }, this.opts.ackTimeoutMs ?? 1000)
  }

  private onData (chunk: Buffer): void {
    this.buf += chunk.toString('utf8')
    if (this.buf.length > 1_000_000) this.buf = ''
    let nl: number
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '')
      this.buf = this.buf.slice(nl + 1)
      if (line === '') continue
      const msg = parseLine(line)
      if (msg === null) { this.stats.badFrames++; continue }
      // on a multidrop line, frames for other addresses are not ours ("who" has no address)
      if (msg['a'] !== undefined && msg['a'] !== this.opts.address) continue
      this.stats.received++
      if (this.opts.mute === true) continue
      this.emit('frame', msg)
      this.onMessage(msg)
    }
  }

  private onMessage (m: Record<string, unknown>): void {
    switch (m['t']) {
      // the hub sends "who" only to devices it does not have: even if we believe we are connected,
      // we missed its bye (it restarted, lost power, or dropped us); identify again
      case 'who': this.hello(); return
      case 'challenge':
        if (this.opts.key === undefined) return
        this.send({ t: 'auth', sig: proof(this.opts.key, this.opts.deviceId, String(m['nonce'])) })
        return
      case 'welcome': this.onWelcome(); return
      case 'ping': this.send({ t: 'pong' }); return
      case 'bye':
        this.ready = false
        this.emit('bye', m['msg'])
        setTimeout(() => { if (!this.ready) this.hello() }, 500).unref()
        return
      case 'ack':
      case 'twin': this.settle(m, null); return
      case 'nak':
        this.stats.naks++
        if (m['code'] === 401003) {
          this.ready = false
          this.emit('refused', m['msg'])
          // identify again (after a hub restart), unless the hub refused the hello itself
          if (m['i'] !== undefined) this.hello()
          return
        }
        this.settle(m, new Error(`nak ${String(m['code'])}: ${String(m['msg'])}`))
        return
      case 'des': this.onDesired(m); return
      case 'call': this.onCall(m).catch(() => {}); return
      case 'c2d':
        this.emit('c2d', { id: m['i'], body: m['body'] ?? Buffer.from(String(m['b64'] ?? ''), 'base64').toString('utf8'), props: m['props'] ?? {} })
        this.send({ t: 'ack', i: m['i'] as Json })
        return
      default:
    }
  }

  private onWelcome (): void {
    this.ready = true
    this.stats.welcomes++
    this.emit('welcome')
    // requests made while identifying go out now
    for (const p of this.pending.values()) this.send(p.msg)
    // a device learns its desired state after every (re)connect
    this.getTwin().then((t) => {
      this.desired = t.desired
      this.applyDesired(t.desired)
    }).catch(() => {})
  }

  private settle (m: Record<string, unknown>, err: Error | null): void {
    const i = m['i']
    if (typeof i !== 'number') return
    const p = this.pending.get(i)
    if (p === undefined) return
    this.pending.delete(i)
    clearTimeout(p.timer)
    if (err === null) p.resolve(m as JsonObj)
    else p.reject(err)
  }

  /** Desired properties are applied and echoed as reported (the IoT Hub convention). */
  private applyDesired (patch: JsonObj): void {
    const echo: JsonObj = {}
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith('$')) continue
      echo[k] = v
    }
    if (Object.keys(echo).length > 0) this.reportProperties(echo).catch(() => {})
  }

  private onDesired (m: Record<string, unknown>): void {
    const patch = (m['patch'] ?? {}) as JsonObj
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete this.desired[k]
      else this.desired[k] = v
    }
    this.emit('desired', patch, m['ver'])
    this.applyDesired(patch)
  }

  private async onCall (m: Record<string, unknown>): Promise<void> {
    const name = String(m['name'])
    const payload = (m['payload'] ?? null) as Json
    this.emit('call', name, payload)
    let result: MethodResult
    const custom = this.opts.methods?.[name]
    try {
      if (custom !== undefined) result = await custom(payload)
      else if (name === 'echo') result = { status: 200, payload }
      else if (name === 'slow') {
        const ms = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? Number(payload['ms'] ?? 1000) : 1000
        await new Promise((resolve) => setTimeout(resolve, ms))
        result = { status: 200, payload: { sleptMs: ms } }
      } else if (name === 'reboot') {
        result = { status: 200, payload: { rebooting: true } }
        setTimeout(() => { this.ready = false; this.hello() }, 100).unref()
      } else if (name === 'fail') result = { status: 500, payload: { error: 'simulated failure' } }
      else result = { status: 404, payload: { error: `no method ${name}` } }
    } catch (err) {
      result = { status: 500, payload: { error: (err as Error).message } }
    }
    this.send({ t: 'res', i: m['i'] as Json, status: result.status, payload: result.payload ?? null })
  }
}

export async function startSerialDevice (opts: SerialDeviceOptions, timeoutMs?: number): Promise<SerialDevice> {
  const d = new SerialDevice(opts)
  await d.start(timeoutMs)
  return d
}
