// The only way the hub sends to a device: the aedes client's own publish, never broker.publish,
// which would route `$iothub/...` topics to every client subscribed to them.
import type { PublishPacket } from 'aedes'
import type { DeviceSession } from './session.js'

/**
 * Writes one packet to `s.client` and returns its forward counter. The packet carries the
 * session's forwardTag as brokerId: authorizeForward lets through only packets so tagged
 * for that very client, and aedes' dedupe needs the counter to grow.
 */
export function deliver (s: DeviceSession, topic: string, payload: Buffer | string, qos: 0 | 1, done?: (err?: Error) => void): number {
  const brokerCounter = ++s.forwardCounter
  const packet: PublishPacket & { brokerId: string; brokerCounter: number } = {
    cmd: 'publish',
    topic,
    payload,
    qos,
    retain: false,
    dup: false,
    brokerId: s.forwardTag,
    brokerCounter
  }
  // aedes calls the callback unconditionally for QoS 0
  s.client.publish(packet, done ?? noop)
  return brokerCounter
}

function noop (): void {}
