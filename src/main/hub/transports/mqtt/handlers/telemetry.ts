// Device-to-cloud telemetry (protocol A.5, A.9): the hot path of the hub.
import { HubError } from '../../../errors.js'
import type { TelemetryMessage } from '../../../types.js'
import { decodeBag } from '../property-bag.js'
import type { DeviceSession, HandlerDeps, PublishCallback, PublishPacket } from './types.js'

/** [A.5] D2C messages are at most 256 KB. */
export const MAX_TELEMETRY_BYTES = 256 * 1024

export function createTelemetryHandler (deps: HandlerDeps) {
  const { hub, log, stats } = deps
  return function handleTelemetry (s: DeviceSession, packet: PublishPacket, bag: string, cb: PublishCallback): void {
    const payload = packet.payload
    const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
    if (body.length > MAX_TELEMETRY_BYTES) {
      log.warn('telemetry message too large; disconnecting', { key: s.key, code: 413001, size: body.length })
      stats.protocolErrors++
      cb(new HubError('MessageTooLarge', `Message of ${body.length} bytes exceeds ${MAX_TELEMETRY_BYTES}.`))
      return
    }
    const { systemProperties, properties } = decodeBag(bag)
    // [A.9] nothing is retained; the flag travels as an application property
    if (packet.retain) {
      packet.retain = false
      properties['mqtt-retain'] = 'true'
    }
    // [A.9] the will, forwarded as telemetry after an ungraceful disconnect
    if (packet === s.will) properties['iothub-MessageType'] = 'Will'
    const msg: TelemetryMessage = {
      deviceId: s.identity.deviceId,
      systemProperties,
      properties,
      body,
      enqueuedTime: new Date(hub.clock.now()).toISOString(),
      transport: 'mqtt'
    }
    if (s.identity.moduleId !== undefined) msg.moduleId = s.identity.moduleId
    // PUBACK (written by aedes once cb runs) only after the message is durable
    hub.telemetry.accept(msg).then(() => {
      stats.telemetry++
      stats.telemetryBytes += body.length
      cb(null)
    }, (err: Error) => {
      log.error('telemetry not accepted; disconnecting', { key: s.key, error: err.message })
      cb(err)
    })
  }
}
