// TelemetryService over the durable telemetry log: accept, history, cursor reads, drop events.
import type { HubEventBus } from '../events.js'
import type { TelemetryService } from '../services.js'
import { identityKey } from '../registry/ids.js'
import type { Clock, Logger } from '../types.js'
import { openTelemetryLog } from './log.js'

export async function createTelemetryService (opts: {
  dir: string; fsync: boolean; clock: Clock; logger: Logger; events: HubEventBus; maxBytes?: number; maxAgeMs?: number
}): Promise<TelemetryService & { close(): Promise<void> }> {
  const { events } = opts
  const dropObservers = new Set<(range: { firstSeq: number; lastSeq: number }) => Promise<void>>()
  const log = await openTelemetryLog({
    dir: opts.dir,
    fsync: opts.fsync,
    clock: opts.clock,
    logger: opts.logger,
    ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
    ...(opts.maxAgeMs === undefined ? {} : { maxAgeMs: opts.maxAgeMs }),
    onDrop: (drop) => events.emit('telemetry.dropped', drop),
    beforeDrop: async (range) => { for (const fn of [...dropObservers]) await fn(range) }
  })
  return {
    async accept (msg) {
      const seq = await log.append(msg)
      const ev = { deviceId: msg.deviceId, seq, size: msg.body.length, at: msg.enqueuedTime }
      events.emit('telemetry.received', msg.moduleId === undefined ? ev : { ...ev, moduleId: msg.moduleId })
      return seq
    },
    history: (identity, limit = 100) => log.history(identityKey(identity), limit),
    read: (fromSeq, limit) => log.read(fromSeq, limit),
    readDevice: (identity, fromSeq, limit) => log.readDevice(identityKey(identity), fromSeq, limit),
    deviceCount: (identity) => log.deviceCount(identityKey(identity)),
    stats: () => log.stats(),
    onBeforeDrop (fn) { dropObservers.add(fn); return () => { dropObservers.delete(fn) } },
    close: () => log.close()
  }
}
