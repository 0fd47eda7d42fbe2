// DeviceConnection over one aedes client: how the core reaches an MQTT device (A.6-A.8).
import { HubError } from '../../errors.js'
import type { Hub } from '../../services.js'
import type { C2dMessage, DeviceConnection, JsonObject, Logger, MethodRequest } from '../../types.js'
import { deliver } from './deliver.js'
import { encodeC2dBag } from './property-bag.js'
import type { DeviceSession, TransportStats } from './session.js'
import { c2dTopic, desiredPatchTopic, methodRequestTopic } from './topics.js'

export interface ConnectionDeps {
  hub: Hub
  log: Logger
  stats: TransportStats
}

export function createDeviceConnection (s: DeviceSession, deps: ConnectionDeps): DeviceConnection {
  const { hub, stats } = deps
  const subscribed = (): ReturnType<Hub['connections']['subscriptions']> => hub.connections.subscriptions(s.identity)
  return {
    identity: s.identity,
    key: s.key,
    transport: 'mqtt',
    remote: s.info.remote,
    connectedAt: s.connectedAt,

    sendMethodRequest (req: MethodRequest): void {
      // [A.8] only to a device subscribed to methods (per the hub's session record); never an empty body
      if (s.client.closed || !subscribed().methods) return
      stats.methodRequests++
      deliver(s, methodRequestTopic(req.methodName, req.requestId), req.payloadJson === '' ? 'null' : req.payloadJson, 0)
    },

    sendDesiredPatch (patch: JsonObject, version: number): void {
      // [A.7] QoS 0, body = effective change plus $version
      if (s.client.closed || !subscribed().desired) return
      stats.desiredPatches++
      deliver(s, desiredPatchTopic(version), JSON.stringify({ ...patch, $version: version }), 0)
    },

    sendC2d (msg: C2dMessage): Promise<void> {
      if (s.client.closed) {
        return Promise.reject(new HubError('DeviceConnectionClosedRemotely', `Connection of ${s.key} is closed.`))
      }
      if (s.identity.moduleId !== undefined) {
        return Promise.reject(new HubError('ArgumentInvalid', 'Cloud-to-device messages cannot be sent to a module.'))
      }
      // [A.6] QoS 1; the device's PUBACK completes the message (index.ts 'ack' -> c2dPending)
      return new Promise<void>((resolve, reject) => {
        const counter = deliver(s, c2dTopic(s.identity.deviceId, encodeC2dBag(msg)), Buffer.from(msg.body, 'base64'), 1, (err) => {
          if (err !== undefined && err !== null) {
            s.c2dPending.delete(counter)
            reject(err)
          }
        })
        s.c2dPending.set(counter, { resolve, reject })
        stats.c2dSent++
      })
    },

    close (reason: string): void {
      s.closeReason ??= reason
      s.client.close()
    }
  }
}

/** Rejects every C2D send still waiting for a PUBACK (the connection closed first). */
export function failPendingC2d (s: DeviceSession): void {
  if (s.c2dPending.size === 0) return
  const err = new HubError('DeviceConnectionClosedRemotely', `Connection of ${s.key} closed before the device acknowledged.`)
  for (const p of s.c2dPending.values()) p.reject(err)
  s.c2dPending.clear()
}
