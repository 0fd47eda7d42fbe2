// What every port worker (line protocol or Modbus) tracks for status: state, counters, last error.
import type { SerialPortConfig, SerialPortStatus, SerialDeviceStatus, PortCounters, PortState as State } from '../../serial/types.js'
import { emptyCounters } from '../../serial/types.js'
import type { Clock } from '../../types.js'

export interface PortState {
  state: State
  since: string
  retryAt: string | null
  lastError: string | null
  lastActivity: string | null
  readonly counters: PortCounters
  setState(state: State, retryAt?: number): void
  snapshot(devices: SerialDeviceStatus[]): SerialPortStatus
}

export interface PortWorker {
  readonly config: SerialPortConfig
  status(): SerialPortStatus
  close(reason: string): Promise<void>
}

export function createPortState (cfg: SerialPortConfig, clock: Clock): PortState {
  const iso = (ms: number): string => new Date(ms).toISOString()
  const ps: PortState = {
    state: 'opening',
    since: iso(clock.now()),
    retryAt: null,
    lastError: null,
    lastActivity: null,
    counters: emptyCounters(),
    setState (state, retryAt) {
      if (state !== ps.state) ps.since = iso(clock.now())
      ps.state = state
      ps.retryAt = retryAt === undefined ? null : iso(retryAt)
    },
    snapshot: (devices) => ({
      name: cfg.name,
      path: cfg.path,
      protocol: cfg.protocol,
      state: ps.state,
      since: ps.since,
      lastError: ps.lastError,
      retryAt: ps.retryAt,
      counters: { ...ps.counters },
      devices
    })
  }
  return ps
}
