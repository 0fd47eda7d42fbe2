// CONNECT: identity, credentials, authentication, session creation (protocol A.2, A.3, A.9).
import { randomUUID } from 'node:crypto'
import type { AuthenticateError, Client, ConnectPacket, PublishPacket } from 'aedes'
import type { DeviceCredentials, Hub } from '../../services.js'
import { certificateThumbprints } from '../../tls/thumbprint.js'
import type { Logger } from '../../types.js'
import { parseClientId, parseUsername, sasExpiry } from './credentials.js'
import type { DeviceSession, StreamInfo, TransportState } from './session.js'
import { parseInbound, telemetryPrefix } from './topics.js'

export interface ConnectDeps {
  hub: Hub
  log: Logger
  state: TransportState
}

const UNKNOWN_STREAM: StreamInfo = { remote: 'unknown', transport: 'mqtt' }
/** setTimeout's limit; longer token lifetimes are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

function refused (message: string): AuthenticateError {
  // [A.2] CONNACK 5 (not authorized) for every refusal
  return Object.assign(new Error(message), { returnCode: 5 as const })
}

function peerThumbprints (info: StreamInfo): DeviceCredentials['certThumbprints'] {
  const cert = info.tlsSocket?.getPeerCertificate()
  if (cert === undefined || cert.raw === undefined || cert.raw.length === 0) return undefined
  return certificateThumbprints(cert.raw)
}

export function createConnectHooks (deps: ConnectDeps) {
  const { hub, log, state } = deps

  /** Closes the connection when the SAS token's `se` passes [A.1] (cloud logs 401003 then 404104). */
  function armExpiry (s: DeviceSession, se: number): void {
    const delay = se * 1000 - hub.clock.now()
    s.expiryTimer = setTimeout(() => {
      s.expiryTimer = null
      if (s.client.closed) return
      if (se * 1000 > hub.clock.now()) {
        armExpiry(s, se)
        return
      }
      log.info('SAS token expired; disconnecting', { key: s.key, code: 401003 })
      s.closeReason ??= 'SAS token expired (401003)'
      s.client.close()
    }, Math.max(0, Math.min(delay, MAX_TIMER_MS)))
    s.expiryTimer.unref()
  }

  return {
    preConnect (client: Client, packet: ConnectPacket, cb: (err: Error | null, ok: boolean) => void): void {
      state.connects.set(client, { clean: packet.clean !== false, will: (packet.will as PublishPacket | undefined) ?? null })
      // aedes keeps no session (persistence.ts); every session looks persistent to it so that
      // each QoS 1 delivery passes persistence.outgoingUpdate (C2D PUBACK correlation).
      packet.clean = false
      cb(null, true)
    },

    authenticate (client: Client, username: string | undefined, password: Buffer | undefined,
      done: (err: AuthenticateError | null, ok: boolean | null) => void): void {
      const info = state.streams.get(client) ?? UNKNOWN_STREAM
      const flags = state.connects.get(client) ?? { clean: true, will: null }
      state.connects.delete(client)
      const clientId = client.id

      const fail = (reason: string): void => {
        state.stats.authFailures++
        log.warn('device connection refused', { clientId, remote: info.remote, reason })
        hub.events.emit('device.authFailed', { clientId, reason, remote: info.remote, at: new Date(hub.clock.now()).toISOString() })
        done(refused(reason), null)
      }

      // [A.2] client id `d` or `d/m`; the username names the same identity
      const identity = parseClientId(clientId)
      if (identity === null) return fail(`client id '${clientId}' is not deviceId or deviceId/moduleId`)
      const user = username === undefined ? null : parseUsername(username)
      if (user === null) return fail('username is not {host}/{deviceId}[/{moduleId}]/?api-version=...')
      if (user.deviceId !== identity.deviceId || user.moduleId !== identity.moduleId) {
        return fail(`username names ${user.deviceId}${user.moduleId === undefined ? '' : '/' + user.moduleId}, client id ${clientId}`)
      }
      // [A.9] a will is accepted only on the identity's own events topic
      const will = flags.will
      if (will !== null) {
        const t = parseInbound(will.topic)
        if (t.kind !== 'telemetry' || t.deviceId !== identity.deviceId || t.moduleId !== identity.moduleId) {
          return fail(`will topic '${will.topic}' is not this identity's events topic`)
        }
      }

      const sasToken = password === undefined || password.length === 0 ? undefined : password.toString('utf8')
      const creds: DeviceCredentials = { deviceId: identity.deviceId }
      if (identity.moduleId !== undefined) creds.moduleId = identity.moduleId
      if (sasToken !== undefined) creds.sasToken = sasToken
      const thumbprints = peerThumbprints(info)
      if (thumbprints !== undefined) creds.certThumbprints = thumbprints
      if (user.modelId !== undefined) creds.modelId = user.modelId
      let result
      try {
        result = hub.registry.authenticateDevice(creds)
      } catch (err) {
        return fail(`authentication error: ${(err as Error).message}`)
      }
      if (!result.ok) return fail(result.reason ?? 'not authorized')

      const s: DeviceSession = {
        client,
        identity,
        key: clientId,
        info,
        clean: flags.clean,
        will,
        connectedAt: new Date(hub.clock.now()).toISOString(),
        eventsPrefix: telemetryPrefix(identity),
        forwardTag: `sitehub:${randomUUID()}`,
        forwardCounter: 0,
        c2dPending: new Map(),
        twinQueue: Promise.resolve(),
        conn: null,
        closeReason: null,
        expiryTimer: null,
        lastTouch: 0
      }
      const se = sasToken === undefined ? null : sasExpiry(sasToken)
      if (se !== null) armExpiry(s, se)
      state.sessions.set(client, s)
      // [A.1] one live connection per identity: aedes closes an older client with the same id
      // before it registers this one (and the connection manager would too); name the reason.
      const prev = state.live.get(clientId)
      if (prev !== undefined) prev.closeReason ??= 'ConnectionForcefullyClosedOnNewConnection (400027)'
      done(null, true)
    }
  }
}
