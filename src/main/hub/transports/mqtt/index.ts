// The IoT Hub MQTT dialect on an embedded aedes broker (protocol section A).
// createMqttTransport(hub) -> handleConnection(stream) for each accepted socket (listeners.ts).
import type { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { Aedes, type Client, type PublishPacket, type PubrelPacket } from 'aedes'
import type { Hub } from '../../services.js'
import type { Logger, SessionSubscriptions } from '../../types.js'
import { createDeviceConnection, failPendingC2d } from './connection.js'
import { createHooks } from './hooks.js'
import { createHubPersistence } from './persistence.js'
import { createTransportState, type DeviceSession, type StreamInfo, type TransportStats } from './session.js'
import { classifySubscription } from './topics.js'

export type { StreamInfo, TransportStats } from './session.js'

export interface MqttTransport {
  readonly broker: Aedes
  /** Serves one accepted connection (TLS socket, plain socket or WebSocket stream). */
  handleConnection(stream: Duplex, info?: StreamInfo): void
  close(): Promise<void>
  stats(): TransportStats
}

export interface MqttTransportOptions {
  logger?: Logger
}

function capSubscribeQos (packet: { cmd: string; subscriptions?: Array<{ qos: number }> }): void {
  if (packet.cmd !== 'subscribe' || packet.subscriptions === undefined) return
  for (const sub of packet.subscriptions) if (sub.qos > 1) sub.qos = 1
}

export async function createMqttTransport (hub: Hub, opts: MqttTransportOptions = {}): Promise<MqttTransport> {
  const log = opts.logger ?? hub.logger
  const state = createTransportState()
  const { sessions, stats } = state
  const hooks = createHooks({ hub, log, state })
  const broker = await Aedes.createBroker({ persistence: createHubPersistence(), ...hooks })

  state.attach = (s: DeviceSession): void => {
    if (s.conn !== null || s.client.closed) return
    s.conn = createDeviceConnection(s, { hub, log, stats })
    state.live.set(s.key, s)
    stats.connects++
    stats.connected++
    hub.registry.touch(s.identity, hub.clock.now())
    hub.connections.attach(s.conn, { cleanSession: s.clean })
    log.debug('device connected', { key: s.key, remote: s.info.remote, transport: s.info.transport, clean: s.clean })
  }
  broker.on('clientReady', (client: Client) => {
    const s = sessions.get(client)
    if (s !== undefined) state.attach(s)
  })

  broker.on('clientError', (client: Client, err: Error) => {
    const s = sessions.get(client)
    if (s !== undefined) s.closeReason ??= `error: ${err.message}`
  })
  broker.on('keepaliveTimeout', (client: Client) => {
    const s = sessions.get(client)
    if (s !== undefined) s.closeReason ??= 'keep-alive timeout'
  })

  broker.on('clientDisconnect', (client: Client) => {
    const s = sessions.get(client)
    if (s === undefined) return
    if (s.expiryTimer !== null) clearTimeout(s.expiryTimer)
    s.expiryTimer = null
    failPendingC2d(s)
    if (state.live.get(s.key) === s) state.live.delete(s.key)
    if (s.conn !== null) {
      stats.connected--
      hub.connections.detach(s.conn, s.closeReason ?? 'disconnected')
    }
  })

  // [A.6] the device's PUBACK completes a C2D message (persistence.ts hands back the packet)
  broker.on('ack', (packet: PublishPacket | PubrelPacket | undefined, client: Client) => {
    const counter = (packet as { brokerCounter?: number } | undefined)?.brokerCounter
    const s = counter === undefined ? undefined : sessions.get(client)
    const pending = s?.c2dPending.get(counter ?? -1)
    if (s === undefined || pending === undefined) return
    s.c2dPending.delete(counter ?? -1)
    stats.c2dAcked++
    pending.resolve()
  })

  // UNSUBSCRIBE switches a feature off in the hub's session record (a closing connection
  // keeps its record: aedes, told clean=false, emits nothing for it).
  broker.on('unsubscribe', (filters: string[], client: Client) => {
    const s = sessions.get(client)
    if (s === undefined || s.conn === null || client.closed) return
    for (const f of filters) {
      const feature: keyof SessionSubscriptions | null = classifySubscription(f, s.identity)
      if (feature !== null) hub.connections.subscribe(s.conn, feature, false)
    }
  })

  return {
    broker,
    handleConnection (stream, info) {
      const client = broker.handle(stream)
      if (info !== undefined) state.streams.set(client, info)
      // [A.9] a SUBSCRIBE asking for QoS 2 is granted 1. aedes fixes the SUBACK code from the
      // request before authorizeSubscribe runs and has no hook for it, so the request is
      // lowered as it leaves the client's packet parser (an aedes internal; absent = no-op).
      ;(client as unknown as { _parser?: EventEmitter })._parser?.prependListener('packet', capSubscribeQos)
    },
    close () {
      state.closing = true
      for (const s of state.live.values()) s.closeReason ??= 'hub shutting down'
      return new Promise<void>((resolve) => { broker.close(() => { resolve() }) })
    },
    stats: () => ({ ...stats })
  }
}
