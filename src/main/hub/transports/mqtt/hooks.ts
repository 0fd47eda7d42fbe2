// The aedes policy hooks: the only seam between MQTT and the hub (protocol A.4, A.9).
import type { AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes'
import type { Hub } from '../../services.js'
import type { Logger } from '../../types.js'
import { createConnectHooks } from './connect.js'
import { createMethodResponseHandler } from './handlers/method-response.js'
import { createTelemetryHandler } from './handlers/telemetry.js'
import { createTwinHandler } from './handlers/twin.js'
import type { DeviceSession, TransportState } from './session.js'
import { bagAfter, classifySubscription, parseInbound } from './topics.js'

export interface HookDeps {
  hub: Hub
  log: Logger
  state: TransportState
}

/** registry.touch at most once a second per client: it is an in-memory timestamp anyway. */
const TOUCH_INTERVAL_MS = 1000
const EMPTY = Buffer.alloc(0)

function payloadOf (packet: PublishPacket): Buffer {
  const p = packet.payload
  return Buffer.isBuffer(p) ? p : p === undefined ? EMPTY : Buffer.from(p)
}

export function createHooks (deps: HookDeps) {
  const { hub, log, state } = deps
  const { sessions, stats } = state
  const handlerDeps = { hub, log, stats }
  const telemetry = createTelemetryHandler(handlerDeps)
  const twin = createTwinHandler(handlerDeps)
  const methodResponse = createMethodResponseHandler(handlerDeps)

  function touch (s: DeviceSession): void {
    const now = hub.clock.now()
    if (now - s.lastTouch < TOUCH_INTERVAL_MS) return
    s.lastTouch = now
    hub.registry.touch(s.identity, now)
  }

  function refuse (s: DeviceSession, reason: string, cb: (err?: Error | null) => void): void {
    stats.protocolErrors++
    log.warn('protocol violation; disconnecting', { key: s.key, reason })
    s.closeReason ??= `protocol violation: ${reason}`
    cb(new Error(reason))
  }

  return {
    ...createConnectHooks(deps),

    authorizePublish (client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void): void {
      const s = client === null ? undefined : sessions.get(client)
      if (s === undefined) {
        cb(new Error('not authenticated'))
        return
      }
      // [A.9] QoS 2 is not supported: close the connection
      if (packet.qos === 2) return refuse(s, 'QoS 2 PUBLISH', cb)
      touch(s)
      const topic = packet.topic
      // a device is not gone "ungracefully" when the hub itself shuts down: drop its will
      if (state.closing && packet === s.will) {
        cb(new Error('transport closing'))
        return
      }
      // [A.4] hot path: the identity's own events topic, ids as the Node SDK sends them
      if (topic.startsWith(s.eventsPrefix)) {
        telemetry(s, packet, bagAfter(topic, s.eventsPrefix.length), cb)
        return
      }
      const t = parseInbound(topic)
      switch (t.kind) {
        case 'telemetry':
          // [A.9] ids may arrive percent-encoded (Python SDK); another identity's topic is refused
          if (t.deviceId !== s.identity.deviceId || t.moduleId !== s.identity.moduleId) {
            return refuse(s, `publish to another identity's topic '${topic}'`, cb)
          }
          telemetry(s, packet, t.bag, cb)
          return
        case 'twinGet':
          twin.get(s, t.rid)
          break
        case 'twinReported':
          twin.patchReported(s, t.rid, payloadOf(packet))
          break
        case 'methodResponse':
          methodResponse(s, t.rid, t.status, payloadOf(packet))
          break
        default:
          // [A.9] only documented topics; 3.1.1 has no negative PUBACK, so disconnect
          return refuse(s, `unsupported topic '${topic}'`, cb)
      }
      // $iothub requests are handled by the hub; aedes then "publishes" them to nobody
      // (no client may subscribe to them and authorizeForward drops them).
      packet.retain = false
      cb(null)
    },

    authorizeSubscribe (client: Client, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void): void {
      const s = sessions.get(client)
      const feature = s === undefined ? null : classifySubscription(sub.topic, s.identity)
      if (s === undefined || feature === null) {
        // [A.4] SUBACK 0x80 for anything but the documented filters of this very identity
        log.info('subscription refused', { clientId: client.id, filter: sub.topic })
        cb(null, null)
        return
      }
      touch(s)
      if (s.conn === null) state.attach(s)
      if (s.conn !== null) hub.connections.subscribe(s.conn, feature, true)
      // [A.9] QoS 2 requests were already lowered to 1 (index.ts capSubscribeQos)
      cb(null, sub)
    },

    /** Only packets the hub produced for this very client reach it (see deliver.ts). */
    authorizeForward (client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
      const s = sessions.get(client)
      return s !== undefined && packet.brokerId === s.forwardTag ? packet : null
    }
  }
}
