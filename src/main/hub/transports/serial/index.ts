// The serial transport: one worker per enabled port in hub.serial (line protocol v1 or Modbus
// RTU), restarted when its configuration changes. Registers itself as hub.serial's runtime so
// `sitehub serial status` and the UI see live state. Never touches the store.
import type { Hub } from '../../services.js'
import type { SerialPortConfig, SerialPortStatus } from '../../serial/types.js'
import type { Logger } from '../../types.js'
import { startLinePort } from './line-port.js'
import { startModbusPort } from './modbus/port.js'
import type { BackoffOptions, PortFactory } from './port-link.js'
import type { PortWorker } from './port-state.js'

export interface SerialTransportOptions {
  logger?: Logger
  /** Reopen backoff of lost ports (tests shorten it). */
  backoff?: BackoffOptions
  /** Line-protocol ports only: how a port object is made (SerialPortMock in framing tests). */
  portFactory?: PortFactory
}

export interface SerialTransportStats {
  ports: number
  telemetry: number
  twinPatches: number
  twinGets: number
  methodResponses: number
}

export interface SerialTransport {
  status(): SerialPortStatus[]
  stats(): SerialTransportStats
  close(): Promise<void>
}

export function createSerialTransport (hub: Hub, opts: SerialTransportOptions = {}): SerialTransport {
  const log = opts.logger ?? hub.logger
  const workers = new Map<string, PortWorker>()
  const stats = { telemetry: 0, twinPatches: 0, twinGets: 0, methodResponses: 0 }
  /** Port restarts run one after another per port (close the old worker before opening the path again). */
  const chains = new Map<string, Promise<void>>()
  let closing = false

  function start (cfg: SerialPortConfig): PortWorker {
    const common = { hub, log, ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }) }
    if (cfg.protocol === 'modbus') return startModbusPort(cfg, { ...common, stats })
    return startLinePort(cfg, { ...common, stats, ...(opts.portFactory === undefined ? {} : { factory: opts.portFactory }) })
  }

  function apply (name: string, cfg: SerialPortConfig | null): void {
    const prev = chains.get(name) ?? Promise.resolve()
    const next = prev.then(async () => {
      const old = workers.get(name)
      if (old !== undefined) {
        workers.delete(name)
        await old.close(cfg === null ? 'serial port removed' : 'serial port reconfigured')
      }
      if (cfg !== null && cfg.enabled && !closing) workers.set(name, start(cfg))
    }).catch((err: Error) => { log.error('serial port (re)start failed', { port: name, error: err.message }) })
    chains.set(name, next)
  }

  const unsubscribe = hub.serial.onChange(apply)
  for (const cfg of hub.serial.list()) apply(cfg.name, cfg)
  hub.serial.setRuntime({ status: (name) => workers.get(name)?.status() })

  return {
    status: () => [...workers.values()].map((w) => w.status()),
    stats: () => ({ ports: workers.size, ...stats }),
    async close () {
      closing = true
      unsubscribe()
      hub.serial.setRuntime(null)
      await Promise.all([...chains.values()])
      await Promise.all([...workers.values()].map((w) => w.close('hub shutting down')))
      workers.clear()
    }
  }
}
