// A fleet of simulated devices: starts them with bounded concurrency (a thousand TLS handshakes
// at once would stall the hub and the simulator alike), aggregates their stats, stops them all.
import { createSimulatedDevice, type SimEvent, type SimulatedDevice, type SimulatedDeviceOptions } from './device.js'

export interface FleetOptions extends Omit<SimulatedDeviceOptions, 'connectionString' | 'onEvent'> {
  /** One connection string per device. */
  connectionStrings: string[]
  /** Devices connecting at the same time (default 25). */
  concurrency?: number
  onEvent?: (event: SimEvent) => void
}

export interface FleetStats {
  devices: number
  connected: number
  messagesSent: number
  reportedPatches: number
  methodCalls: number
  errors: number
  /** Devices whose start failed (their error is in `lastError`). */
  failedToStart: number
  lastError?: string
}

export interface Fleet {
  readonly devices: SimulatedDevice[]
  /** Starts every device; resolves when each has booted or failed (failures are counted, not thrown). */
  start(): Promise<FleetStats>
  stop(): Promise<void>
  stats(): FleetStats
}

export function createFleet (opts: FleetOptions): Fleet {
  const { connectionStrings, concurrency = 25, onEvent, ...deviceOpts } = opts
  const stats: FleetStats = { devices: connectionStrings.length, connected: 0, messagesSent: 0, reportedPatches: 0, methodCalls: 0, errors: 0, failedToStart: 0 }
  const connected = new Set<string>()
  const onDeviceEvent = (e: SimEvent): void => {
    switch (e.type) {
      case 'connected': connected.add(e.deviceId); break
      case 'disconnected': connected.delete(e.deviceId); break
      case 'telemetry': stats.messagesSent++; break
      case 'reported': stats.reportedPatches++; break
      case 'method': stats.methodCalls++; break
      case 'error': stats.errors++; stats.lastError = `${e.deviceId}: ${e.message}`; break
    }
    onEvent?.(e)
  }
  const devices = connectionStrings.map((connectionString) => createSimulatedDevice({ ...deviceOpts, connectionString, onEvent: onDeviceEvent }))
  let stopped = false

  const snapshot = (): FleetStats => ({ ...stats, connected: connected.size })

  return {
    devices,
    async start () {
      let next = 0
      const worker = async (): Promise<void> => {
        while (!stopped && next < devices.length) {
          const d = devices[next++] as SimulatedDevice
          try {
            await d.start()
          } catch (err) {
            stats.failedToStart++
            stats.lastError = `${d.deviceId}: ${(err as Error).message}`
            await d.stop().catch(() => {})
          }
        }
      }
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, devices.length)) }, worker))
      return snapshot()
    },
    async stop () {
      stopped = true
      await Promise.all(devices.map((d) => d.stop().catch(() => {})))
    },
    stats: snapshot
  }
}
