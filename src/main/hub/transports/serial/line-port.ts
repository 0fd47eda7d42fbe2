// A port speaking Sitehub line protocol v1: framing, identify (hello / challenge / auth),
// dispatch, keep-alive, and the sessions of the device(s) on it (one per multidrop address).
import type { Hub } from '../../services.js'
import type { SerialPortConfig, SerialPortStatus } from '../../serial/types.js'
import type { Logger } from '../../types.js'
import { checkProof, newNonce } from './auth.js'
import { createLineFramer, decodeFrame, frameText } from './framing.js'
import { handleAck, handleMethodResponse, handleReported, handleTelemetry, handleTwinGet, nak, type HandlerCtx, type Msg } from './handlers.js'
import { createLineConnection, failPendingC2d, newSession, withAddress, type LineSession, type SessionIo } from './line-session.js'
import { openPortLink, type BackoffOptions, type PortFactory, type PortLink } from './port-link.js'
import { createPortState, type PortWorker, type PortState } from './port-state.js'

export const PROTOCOL_VERSION = 1
const ALL_CAPS = ['tel', 'twin', 'des', 'call', 'c2d']
const TOUCH_INTERVAL_MS = 1000

export interface LinePortDeps {
  hub: Hub
  log: Logger
  backoff?: BackoffOptions
  factory?: PortFactory
  stats: HandlerCtx['counters']
}

export function startLinePort (cfg: SerialPortConfig, deps: LinePortDeps): PortWorker {
  const { hub, log } = deps
  const ps: PortState = createPortState(cfg, hub.clock)
  const multidrop = cfg.devices.some((d) => d.address !== undefined)
  const sessions = new Map<number, LineSession>()
  const boundTo = new Map(cfg.devices.map((d) => [d.deviceId, d]))
  let link: PortLink | null = null

  const sessionFor = (slot: number, address: number | undefined): LineSession => {
    let s = sessions.get(slot)
    if (s === undefined) sessions.set(slot, s = newSession(slot, address))
    return s
  }

  function writeText (json: string): void {
    const buf = frameText(json)
    if (link?.write(buf) === true) {
      ps.counters.framesOut++
      ps.counters.bytesOut += buf.length
    }
  }

  const io: SessionIo = {
    portName: cfg.name,
    path: cfg.path,
    sendText: (s, json) => { writeText(withAddress(s, json)) },
    end (s, reason, sayBye) {
      if (sayBye && s.phase === 'ready') io.sendText(s, `{"t":"bye","msg":${JSON.stringify(reason)}}`)
      const conn = s.conn
      failPendingC2d(s, `Connection of ${s.identity?.deviceId ?? '?'} closed: ${reason}`)
      s.phase = 'idle'
      s.conn = null
      s.nonce = null
      s.recentTel.clear()
      if (conn !== null) {
        log.info('serial device disconnected', { port: cfg.name, deviceId: conn.identity.deviceId, reason })
        hub.connections.detach(conn, reason)
      }
    }
  }
  const ctx: HandlerCtx = { hub, log, io, counters: deps.stats, port: ps.counters }

  function fail (s: LineSession, why: string): void {
    s.errors++
    s.lastError = why
  }

  function touch (s: LineSession): void {
    const now = hub.clock.now()
    s.lastRx = now
    s.lastActivity = new Date(now).toISOString()
    ps.lastActivity = s.lastActivity
    if (s.identity !== null && s.phase === 'ready' && now - s.lastTouch >= TOUCH_INTERVAL_MS) {
      s.lastTouch = now
      hub.registry.touch(s.identity, now)
    }
  }

  function authFailed (s: LineSession, deviceId: string, reason: string): void {
    ps.counters.authFailures++
    fail(s, reason)
    log.warn('serial device refused', { port: cfg.name, deviceId, reason })
    hub.events.emit('device.authFailed', { clientId: deviceId, reason, remote: `serial:${cfg.path}`, at: new Date(hub.clock.now()).toISOString() })
    s.phase = 'idle'
    s.nonce = null
    nak(ctx, s, undefined, 401003, reason)
  }

  function welcome (s: LineSession, deviceId: string): void {
    const identity = { deviceId }
    const connectedAt = new Date(hub.clock.now()).toISOString()
    // a device that says hello again while connected starts a new session
    if (s.conn !== null) io.end(s, 'device identified again', false)
    const conn = createLineConnection(s, identity, io, connectedAt)
    s.identity = identity
    s.phase = 'ready'
    s.nonce = null
    s.conn = conn
    io.sendText(s, JSON.stringify({ t: 'welcome', v: PROTOCOL_VERSION, dev: deviceId, keepAlive: cfg.keepAliveSec, time: connectedAt }))
    hub.registry.touch(identity, hub.clock.now())
    hub.connections.attach(conn, { cleanSession: true })
    // what the device said it handles decides what the core may send it
    if (s.caps.has('call')) hub.connections.subscribe(conn, 'methods', true)
    if (s.caps.has('des')) hub.connections.subscribe(conn, 'desired', true)
    if (s.caps.has('twin')) hub.connections.subscribe(conn, 'twinResponses', true)
    if (s.caps.has('c2d')) hub.connections.subscribe(conn, 'c2d', true)
    log.info('serial device connected', { port: cfg.name, deviceId, address: s.address })
  }

  function onHello (s: LineSession, m: Msg): void {
    const dev = m['dev']
    if (typeof dev !== 'string' || dev === '') { nak(ctx, s, undefined, 400004, 'hello needs "dev": the device id'); return }
    if (m['v'] !== undefined && m['v'] !== PROTOCOL_VERSION) { nak(ctx, s, undefined, 400004, `this hub speaks line protocol v${PROTOCOL_VERSION}`); return }
    if (boundTo.size > 0) {
      const b = boundTo.get(dev)
      if (b === undefined) { authFailed(s, dev, `device '${dev}' is not configured on port ${cfg.name}`); return }
      if (multidrop && b.address !== s.address) { authFailed(s, dev, `device '${dev}' is configured at address ${String(b.address)}, not ${String(s.address)}`); return }
    }
    const caps = Array.isArray(m['caps']) ? m['caps'].filter((c): c is string => typeof c === 'string') : ALL_CAPS
    s.caps = new Set(caps)
    if (typeof m['sas'] === 'string') {
      const res = hub.registry.authenticateDevice({ deviceId: dev, sasToken: m['sas'] })
      if (!res.ok) { authFailed(s, dev, res.reason ?? 'not authorized'); return }
      welcome(s, dev)
      return
    }
    s.identity = { deviceId: dev }
    s.nonce = newNonce()
    s.phase = s.phase === 'ready' ? 'ready' : 'challenged'
    if (s.phase === 'ready') {
      // identified again without a token: fall back to a fresh challenge
      io.end(s, 'device identified again', false)
      s.identity = { deviceId: dev }
      s.nonce = newNonce()
      s.phase = 'challenged'
    }
    io.sendText(s, JSON.stringify({ t: 'challenge', nonce: s.nonce }))
  }

  function onAuth (s: LineSession, m: Msg): void {
    if (s.phase !== 'challenged' || s.nonce === null || s.identity === null) { nak(ctx, s, undefined, 401003, 'auth without a challenge: send hello first'); return }
    if (typeof m['sig'] !== 'string') { nak(ctx, s, undefined, 400004, 'auth needs "sig"'); return }
    const deviceId = s.identity.deviceId
    const res = checkProof(hub.registry, deviceId, s.nonce, m['sig'])
    if (!res.ok) { authFailed(s, deviceId, res.reason ?? 'not authorized'); return }
    welcome(s, deviceId)
  }

  function dispatch (m: Msg): void {
    let slot = 0
    let address: number | undefined
    if (multidrop) {
      const a = m['a']
      if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > 247) { ps.counters.garbage++; ps.lastError = 'frame without a valid address (1..247) on a multidrop port'; return }
      slot = a
      address = a
    }
    const s = sessionFor(slot, address)
    touch(s)
    const t = m['t']
    switch (t) {
      case 'hello': onHello(s, m); return
      case 'auth': onAuth(s, m); return
      case 'ping': io.sendText(s, '{"t":"pong"}'); return
      case 'pong': return
      case 'bye': io.end(s, 'device said bye', false); return
      default: break
    }
    if (s.phase !== 'ready') {
      // a device that missed our restart: tell it to identify again
      nak(ctx, s, typeof m['i'] === 'string' || typeof m['i'] === 'number' ? m['i'] : undefined, 401003, 'identify first: send hello')
      return
    }
    switch (t) {
      case 'tel': handleTelemetry(ctx, s, m); return
      case 'rep': handleReported(ctx, s, m); return
      case 'get': handleTwinGet(ctx, s, m); return
      case 'res': handleMethodResponse(ctx, s, m); return
      case 'ack':
      case 'nak': handleAck(s, m); return
      default:
        ps.counters.garbage++
        fail(s, `unknown message type ${JSON.stringify(t)}`)
        nak(ctx, s, undefined, 400004, `unknown message type ${JSON.stringify(t)}`)
    }
  }

  const framer = createLineFramer(cfg.maxLineBytes, {
    onLine (line) {
      const f = decodeFrame(line)
      if (!f.ok) {
        // no answer: the frame (and its address) cannot be trusted; the device retransmits
        if (f.error === 'checksum') ps.counters.badChecksum++
        else ps.counters.garbage++
        ps.lastError = `${f.error}: ${f.detail}`
        return
      }
      ps.counters.framesIn++
      try {
        dispatch(f.msg)
      } catch (err) {
        ps.counters.garbage++
        ps.lastError = (err as Error).message
        log.error('serial frame handling failed', { port: cfg.name, error: (err as Error).message })
      }
    },
    onOversize (bytes) {
      ps.counters.oversize++
      ps.lastError = `line of ${bytes} bytes exceeds maxLineBytes ${cfg.maxLineBytes}`
      log.warn('serial line too long; dropped', { port: cfg.name, bytes })
    }
  })

  function endAll (reason: string): void {
    for (const s of sessions.values()) io.end(s, reason, false)
  }

  const kaMs = cfg.keepAliveSec * 1000
  /** A session the hub does not have: idle, or a handshake that stalled (no answer for keepAlive). */
  const unidentified = (s: LineSession | undefined, now: number): boolean =>
    s === undefined || s.phase === 'idle' || (s.phase === 'challenged' && now - s.lastRx >= kaMs)

  /**
   * Keep-alive: ping a silent device, drop one silent for 3x keepAlive; send "who" to every device
   * the hub does not have (on a multidrop line addressed to each configured address). A device
   * answers "who" with hello even when it believes it is connected: it may have missed the bye
   * of a hub that restarted or died, and the hub sends "who" to no device it has.
   */
  const kaTimer = setInterval(() => {
    if (link === null || !link.isOpen()) return
    const now = hub.clock.now()
    for (const s of sessions.values()) {
      if (s.phase !== 'ready') continue
      const idle = now - s.lastRx
      if (idle >= 3 * kaMs) { fail(s, 'device silent'); io.end(s, `device silent for ${Math.round(idle / 1000)} s`, false); continue }
      if (idle >= kaMs && now - s.lastPing >= kaMs) { s.lastPing = now; io.sendText(s, '{"t":"ping"}') }
    }
    if (!multidrop) {
      if (unidentified(sessions.get(0), now)) writeText('{"t":"who"}')
      return
    }
    for (const d of cfg.devices) {
      if (d.address !== undefined && unidentified(sessions.get(d.address), now)) writeText(`{"a":${d.address},"t":"who"}`)
    }
  }, Math.max(250, Math.floor(kaMs / 2)))
  kaTimer.unref()

  link = openPortLink(cfg, {
    onOpen () {
      ps.setState('open')
      ps.counters.opens++
      log.info('serial port open', { port: cfg.name, path: cfg.path })
      // ask every device on the line to identify (they may have been connected before a restart
      // or before the port went away: the hub has no session now, whatever they believe)
      writeText('{"t":"who"}')
    },
    onData (chunk) {
      ps.counters.bytesIn += chunk.length
      framer.push(chunk)
    },
    onDown (err) {
      framer.reset()
      if (err !== null) {
        ps.counters.portErrors++
        ps.lastError = err.message
        log.warn('serial port lost', { port: cfg.name, path: cfg.path, error: err.message })
      }
      ps.setState('closed')
      endAll(err === null ? 'serial port closed' : `serial port lost: ${err.message}`)
    },
    onRetry (at) { ps.setState('backoff', at) }
  }, { log, ...(deps.backoff === undefined ? {} : { backoff: deps.backoff }), ...(deps.factory === undefined ? {} : { factory: deps.factory }) })

  return {
    config: cfg,
    status (): SerialPortStatus {
      const devices = [...sessions.values()].filter((s) => s.identity !== null || s.errors > 0).map((s) => ({
        deviceId: s.identity?.deviceId ?? '?',
        ...(s.address === undefined ? {} : { address: s.address }),
        connected: s.phase === 'ready',
        lastActivity: s.lastActivity,
        errors: s.errors,
        lastError: s.lastError
      }))
      for (const d of cfg.devices) {
        if (!devices.some((x) => x.deviceId === d.deviceId)) {
          devices.push({ deviceId: d.deviceId, ...(d.address === undefined ? {} : { address: d.address }), connected: false, lastActivity: null, errors: 0, lastError: null })
        }
      }
      return ps.snapshot(devices)
    },
    async close (reason) {
      clearInterval(kaTimer)
      for (const s of sessions.values()) if (s.phase === 'ready') io.sendText(s, `{"t":"bye","msg":${JSON.stringify(reason)}}`)
      endAll(reason)
      const l = link
      link = null
      await l?.close()
      ps.setState('closed')
    }
  }
}
