// A line-protocol device on a port (one per address on a multidrop line), and the
// DeviceConnection through which the core reaches it.
import { HubError } from '../../errors.js'
import type { C2dMessage, DeviceConnection, Identity, JsonObject, JsonValue, MethodRequest } from '../../types.js'

export interface PendingC2d {
  resolve(): void
  reject(err: Error): void
}

export interface LineSession {
  /** Demux key on the port: the address, or 0 on a single-device port. */
  readonly slot: number
  /** Echoed as "a" in every hub frame on a multidrop port. */
  readonly address: number | undefined
  phase: 'idle' | 'challenged' | 'ready'
  identity: Identity | null
  nonce: string | null
  caps: Set<string>
  conn: DeviceConnection | null
  lastRx: number
  lastPing: number
  lastTouch: number
  c2dPending: Map<string, PendingC2d>
  /** Telemetry request ids recently accepted (or in flight): a retransmission is acked, not stored twice. */
  recentTel: Map<string, Promise<void>>
  /** Twin operations of one device run in order (a get after a rep sees the rep). */
  twinQueue: Promise<void>
  errors: number
  lastError: string | null
  lastActivity: string | null
}

export function newSession (slot: number, address: number | undefined): LineSession {
  return {
    slot, address, phase: 'idle', identity: null, nonce: null, caps: new Set(), conn: null,
    lastRx: 0, lastPing: 0, lastTouch: 0, c2dPending: new Map(), recentTel: new Map(),
    twinQueue: Promise.resolve(), errors: 0, lastError: null, lastActivity: null
  }
}

export interface SessionIo {
  portName: string
  path: string
  /** Writes a frame from JSON text (the "a" field is added here on multidrop ports). */
  sendText(s: LineSession, json: string): void
  /** The session ends: detach from the core, reset to idle. */
  end(s: LineSession, reason: string, sayBye: boolean): void
}

/** Builds `{"a":N,` + rest: the address goes first so a multidrop device can filter cheaply. */
export function withAddress (s: LineSession, json: string): string {
  return s.address === undefined ? json : `{"a":${s.address},${json.slice(1)}`
}

export function createLineConnection (s: LineSession, identity: Identity, io: SessionIo, connectedAt: string): DeviceConnection {
  const key = identity.moduleId === undefined ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`
  const live = (): boolean => s.phase === 'ready' && s.conn === conn
  const conn: DeviceConnection = {
    identity,
    key,
    transport: 'serial',
    remote: s.address === undefined ? `serial:${io.path}` : `serial:${io.path}#${s.address}`,
    connectedAt,
    sendMethodRequest (req: MethodRequest): void {
      if (!live()) return
      const payload = req.payloadJson === '' ? 'null' : req.payloadJson
      io.sendText(s, `{"t":"call","i":${JSON.stringify(req.requestId)},"name":${JSON.stringify(req.methodName)},"payload":${payload}}`)
    },
    sendDesiredPatch (patch: JsonObject, version: number): void {
      if (!live()) return
      io.sendText(s, JSON.stringify({ t: 'des', ver: version, patch }))
    },
    sendC2d (msg: C2dMessage): Promise<void> {
      if (!live()) return Promise.reject(new HubError('DeviceConnectionClosedRemotely', `Connection of ${key} is closed.`))
      return new Promise<void>((resolve, reject) => {
        s.c2dPending.set(msg.messageId, { resolve, reject })
        const body = Buffer.from(msg.body, 'base64')
        const text = body.toString('utf8')
        const frame: Record<string, JsonValue> = { t: 'c2d', i: msg.messageId }
        // text when it round-trips as UTF-8, base64 otherwise
        if (Buffer.from(text, 'utf8').equals(body)) frame['body'] = text
        else frame['b64'] = msg.body
        if (Object.keys(msg.properties).length > 0) frame['props'] = msg.properties
        io.sendText(s, JSON.stringify(frame))
      })
    },
    close (reason: string): void {
      if (s.conn !== conn) return
      io.end(s, reason, true)
    },
    details () {
      return {
        port: io.portName,
        path: io.path,
        ...(s.address === undefined ? {} : { address: s.address }),
        lastActivity: s.lastActivity,
        errors: s.errors,
        lastError: s.lastError
      }
    }
  }
  return conn
}

/** Rejects every C2D message still waiting for the device's ack. */
export function failPendingC2d (s: LineSession, why: string): void {
  if (s.c2dPending.size === 0) return
  const err = new HubError('DeviceConnectionClosedRemotely', why)
  for (const p of s.c2dPending.values()) p.reject(err)
  s.c2dPending.clear()
}
