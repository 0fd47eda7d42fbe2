// A small fake of the Hub for the transport tests: services record their calls; the parts the
// transport never touches are absent. Not a test file itself (no `.test.ts`).
import { createEventBus } from '../../events.js'
import type { AuthResult, DeviceCredentials, Hub } from '../../services.js'
import type { DeviceConnection, Identity, JsonValue, SessionSubscriptions, TelemetryMessage } from '../../types.js'

const keyOf = (i: Identity): string => (i.moduleId === undefined ? i.deviceId : `${i.deviceId}/${i.moduleId}`)
const NONE: SessionSubscriptions = { methods: false, desired: false, twinResponses: false, c2d: false, inputs: false }

export interface Deferred<T> {
  promise: Promise<T>
  resolve(v: T): void
  reject(e: Error): void
}

export function deferred<T> (): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

export interface FakeHub extends Hub {
  calls: {
    auth: DeviceCredentials[]
    attach: Array<{ conn: DeviceConnection; cleanSession: boolean }>
    detach: Array<{ key: string; reason: string }>
    subscribe: Array<{ key: string; feature: keyof SessionSubscriptions; on: boolean }>
    telemetry: TelemetryMessage[]
    patches: Array<{ key: string; patch: JsonValue }>
    methodResponses: Array<{ key: string; rid: string; status: number; payload: JsonValue }>
    touches: string[]
  }
  /** Decide each CONNECT; default: ok. */
  authResult: (creds: DeviceCredentials) => AuthResult
  /** Decide each telemetry accept; default: resolve at once. */
  acceptImpl: (msg: TelemetryMessage) => Promise<number>
  patchImpl: (identity: Identity, patch: JsonValue) => Promise<number>
  /** The hub's own session record, settable by tests (as after a hub restart). */
  sessions: Map<string, SessionSubscriptions>
  live: Map<string, DeviceConnection>
  /** Resolves with the connection once `key` is attached. */
  connected(key: string): Promise<DeviceConnection>
}

export function createFakeHub (): FakeHub {
  const calls: FakeHub['calls'] = { auth: [], attach: [], detach: [], subscribe: [], telemetry: [], patches: [], methodResponses: [], touches: [] }
  const live = new Map<string, DeviceConnection>()
  const sessions = new Map<string, SessionSubscriptions>()
  const waiting = new Map<string, Array<(c: DeviceConnection) => void>>()
  let seq = 0
  const silent = { debug () {}, info () {}, warn () {}, error () {} }

  const hub = {
    config: { dataDir: '', hostName: 'hub.local', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: 0, role: 'edge' },
    events: createEventBus(),
    logger: silent,
    clock: { now: () => Date.now() },
    calls,
    sessions,
    live,
    authResult: (_creds: DeviceCredentials): AuthResult => ({ ok: true }),
    acceptImpl: (_msg: TelemetryMessage): Promise<number> => Promise.resolve(++seq),
    patchImpl: (_identity: Identity, _patch: JsonValue): Promise<number> => Promise.resolve(2),
    connected (key: string): Promise<DeviceConnection> {
      const c = live.get(key)
      if (c) return Promise.resolve(c)
      return new Promise((resolve) => { waiting.set(key, [...(waiting.get(key) ?? []), resolve]) })
    },
    registry: {
      authenticateDevice (creds: DeviceCredentials): AuthResult {
        calls.auth.push(creds)
        return hub.authResult(creds)
      },
      touch (identity: Identity) { calls.touches.push(keyOf(identity)) }
    },
    twins: {
      getForDevice: () => ({ desired: { a: 1, $version: 3 }, reported: { b: 2, $version: 5 } }),
      patchReported (identity: Identity, patch: JsonValue): Promise<number> {
        calls.patches.push({ key: keyOf(identity), patch })
        return hub.patchImpl(identity, patch)
      }
    },
    telemetry: {
      accept (msg: TelemetryMessage): Promise<number> {
        calls.telemetry.push(msg)
        return hub.acceptImpl(msg)
      }
    },
    methods: {
      handleResponse (identity: Identity, rid: string, status: number, payload: JsonValue): boolean {
        calls.methodResponses.push({ key: keyOf(identity), rid, status, payload })
        return true
      }
    },
    connections: {
      attach (conn: DeviceConnection, opts: { cleanSession: boolean }) {
        calls.attach.push({ conn, cleanSession: opts.cleanSession })
        const prev = live.get(conn.key)
        live.set(conn.key, conn)
        if (prev && prev !== conn) prev.close('ConnectionForcefullyClosedOnNewConnection (400027)')
        if (opts.cleanSession) sessions.delete(conn.key)
        for (const w of waiting.get(conn.key) ?? []) w(conn)
        waiting.delete(conn.key)
      },
      detach (conn: DeviceConnection, reason: string) {
        calls.detach.push({ key: conn.key, reason })
        if (live.get(conn.key) === conn) live.delete(conn.key)
      },
      subscribe (conn: DeviceConnection, feature: keyof SessionSubscriptions, on: boolean) {
        calls.subscribe.push({ key: conn.key, feature, on })
        sessions.set(conn.key, { ...(sessions.get(conn.key) ?? NONE), [feature]: on })
      },
      get: (identity: Identity) => live.get(keyOf(identity)),
      subscriptions: (identity: Identity) => ({ ...(sessions.get(keyOf(identity)) ?? NONE) })
    },
    close: () => Promise.resolve()
  }
  return hub as unknown as FakeHub
}
