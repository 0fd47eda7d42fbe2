import type { PublishPacket } from 'aedes'
import type { Hub } from '../../../services.js'
import type { Logger } from '../../../types.js'
import type { DeviceSession, TransportStats } from '../session.js'

export interface HandlerDeps {
  hub: Hub
  log: Logger
  stats: TransportStats
}

/** aedes' authorizePublish callback: an error disconnects; success lets aedes PUBACK (QoS 1). */
export type PublishCallback = (err?: Error | null) => void

export type { DeviceSession, PublishPacket }
