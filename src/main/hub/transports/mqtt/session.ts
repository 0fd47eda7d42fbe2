// Per-client state of an authenticated device, kept beside the aedes client object.
import type { TLSSocket } from 'node:tls'
import type { Client, PublishPacket } from 'aedes'
import type { DeviceConnection, Identity, IdentityKey } from '../../types.js'

export type ListenerKind = 'mqtts' | 'mqtt' | 'wss'

/** How a stream reached the transport (listeners.ts fills it in). */
export interface StreamInfo {
  tlsSocket?: TLSSocket
  remote: string
  transport: ListenerKind
}

export interface PendingC2d {
  resolve(): void
  reject(err: Error): void
}

export interface DeviceSession {
  readonly client: Client
  readonly identity: Identity
  readonly key: IdentityKey
  readonly info: StreamInfo
  /** The clean flag the device asked for (aedes itself is always told clean=false). */
  readonly clean: boolean
  /** The will packet object aedes will hand back to authorizePublish on an ungraceful close. */
  readonly will: PublishPacket | null
  readonly connectedAt: string
  /** `devices/{d}[/modules/{m}]/messages/events/`: compared first on every PUBLISH. */
  readonly eventsPrefix: string
  /** brokerId stamped on every packet the hub produces for this client (authorizeForward). */
  readonly forwardTag: string
  forwardCounter: number
  readonly c2dPending: Map<number, PendingC2d>
  /** Twin requests of one client run in order (a GET after a PATCH sees the PATCH). */
  twinQueue: Promise<void>
  conn: DeviceConnection | null
  closeReason: string | null
  expiryTimer: NodeJS.Timeout | null
  lastTouch: number
}

export interface TransportStats {
  connected: number
  connects: number
  authFailures: number
  protocolErrors: number
  telemetry: number
  telemetryBytes: number
  twinGets: number
  twinPatches: number
  methodRequests: number
  methodResponses: number
  desiredPatches: number
  c2dSent: number
  c2dAcked: number
}

export function createStats (): TransportStats {
  return {
    connected: 0,
    connects: 0,
    authFailures: 0,
    protocolErrors: 0,
    telemetry: 0,
    telemetryBytes: 0,
    twinGets: 0,
    twinPatches: 0,
    methodRequests: 0,
    methodResponses: 0,
    desiredPatches: 0,
    c2dSent: 0,
    c2dAcked: 0
  }
}

/** Everything the hooks, handlers and connections share. */
export interface TransportState {
  readonly sessions: WeakMap<Client, DeviceSession>
  readonly streams: WeakMap<Client, StreamInfo>
  /** CONNECT flags seen in preConnect, consumed by authenticate. */
  readonly connects: WeakMap<Client, { clean: boolean; will: PublishPacket | null }>
  /** Sessions attached to the hub, by identity key. */
  readonly live: Map<IdentityKey, DeviceSession>
  readonly stats: TransportStats
  /** Set while the transport shuts down: wills of the clients it closes are not forwarded. */
  closing: boolean
  /**
   * Attaches a session to the hub once (index.ts). Called on aedes' clientReady and, earlier,
   * by the first SUBSCRIBE: aedes resumes reading right after CONNACK but emits clientReady only
   * after draining its outgoing queue, so a fast client (mosquitto_sub) subscribes before it.
   */
  attach: (s: DeviceSession) => void
}

export function createTransportState (): TransportState {
  return { sessions: new WeakMap(), streams: new WeakMap(), connects: new WeakMap(), live: new Map(), stats: createStats(), closing: false, attach: () => {} }
}
