// startServer: the hub core plus its listeners (MQTT over TLS, optional plain MQTT, HTTPS with
// MQTT over WebSocket at /$iothub/websocket) and the local admin socket.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startAdminServer } from './admin/server.js'
import { describeEndpoints } from './api/ui/status.js'
import type { AuthOptions } from './accounts/index.js'
import { isLoopback, startUiServer } from './api/ui/server.js'
import { createRestHandler } from './api/rest/index.js'
import { createHub } from './index.js'
import type { Hub, HubConfig } from './services.js'
import { ensureTls } from './tls/index.js'
import { createMqttTransport } from './transports/mqtt/index.js'
import { createSerialTransport } from './transports/serial/index.js'
import { attachWebSocket, listenMqtt } from './transports/mqtt/listeners.js'
import type { Logger } from './types.js'
import { silentLogger } from './logger.js'

export interface Endpoints {
  hostName: string
  bind: string
  mqtts: string
  mqtt: string | null
  https: string
  websocket: string
  dataDir: string
  caFile: string
  pid: number
  role: 'edge' | 'cloud'
  /** The technician UI (HTTP + WebSocket), when started with `ui`. */
  ui?: string
}

export interface RunningHub {
  hub: Hub
  endpoints: Endpoints
  close(): Promise<void>
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void

export interface StartServerOptions {
  config: HubConfig
  logger?: Logger
  fsync?: boolean
  /** Upstream sync timings (tests shorten the heartbeat and backoff). */
  sync?: import('./sync/service.js').SyncOptions
  /** Telemetry log retention (tests use a small log to exercise drops). */
  telemetry?: { maxBytes?: number; maxAgeMs?: number }
  /** HTTPS request handler; defaults to the service REST API. */
  createRequestHandler?: (hub: Hub) => RequestHandler
  /** Technician UI (api/ui/server.ts); off when absent. On a non-loopback bind it serves HTTPS with the hub's certificate. */
  ui?: {
    port: number; bind?: string; staticDir: string; /** A default port: when it is taken, warn and run without the UI. */ optional?: boolean
    /** Session, sign-in and audit retention limits (api/ui). */
    auth?: AuthOptions
  }
}

function listenHttps (server: HttpsServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

const urlHost = (h: string): string => (h.includes(':') ? `[${h}]` : h)

export async function startServer (opts: StartServerOptions): Promise<RunningHub> {
  const { config } = opts
  const logger = opts.logger ?? silentLogger
  // The store lock comes first: a second hub on the same data dir must fail before it touches the TLS files.
  const hub = await createHub({ config, logger, ...(opts.fsync === undefined ? {} : { fsync: opts.fsync }), ...(opts.sync === undefined ? {} : { sync: opts.sync }), ...(opts.telemetry === undefined ? {} : { telemetry: opts.telemetry }) })
  const cleanups: Array<() => Promise<void>> = [() => hub.close()]
  const close = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) {
      await c().catch((err: Error) => logger.warn('shutdown step failed', { error: err.message }))
    }
  }
  try {
    const tls = await ensureTls(config.dataDir, {
      hostName: config.hostName, bind: config.bind, onChange: (message) => logger.info('tls', { message }),
      // A LAN UI on its own address: the certificate covers that address too.
      ...(opts.ui?.bind !== undefined && !isLoopback(opts.ui.bind) ? { extraNames: [opts.ui.bind] } : {})
    })
    const transport = await createMqttTransport(hub, { logger })
    cleanups.push(() => transport.close())
    // serial ports in hub.serial open now and reopen with backoff when they fail
    const serial = createSerialTransport(hub, { logger })
    cleanups.push(() => serial.close())
    const mqtt = await listenMqtt(transport, {
      bind: config.bind, mqttsPort: config.mqttsPort, mqttPort: config.mqttPort, tls: { key: tls.key, cert: tls.cert, ca: tls.ca }
    })
    cleanups.push(() => mqtt.close())
    const https = createHttpsServer({ key: tls.key, cert: tls.cert }, (opts.createRequestHandler ?? createRestHandler)(hub))
    attachWebSocket(https, transport)
    const httpsPort = await listenHttps(https, config.httpsPort, config.bind)
    cleanups.push(() => new Promise<void>((resolve) => {
      https.closeAllConnections()
      https.close(() => resolve())
    }))
    const admin = await startAdminServer(hub, config.dataDir)
    cleanups.push(() => admin.close())
    const host = urlHost(config.bind === '0.0.0.0' || config.bind === '::' ? config.hostName : config.bind)
    const endpoints: Endpoints = {
      hostName: config.hostName,
      bind: config.bind,
      mqtts: `mqtts://${host}:${mqtt.mqttsPort}`,
      mqtt: mqtt.mqttPort === null ? null : `mqtt://${host}:${mqtt.mqttPort}`,
      https: `https://${host}:${httpsPort}`,
      websocket: `wss://${host}:${httpsPort}/$iothub/websocket`,
      dataDir: config.dataDir,
      caFile: tls.caFile,
      pid: process.pid,
      role: config.role
    }
    if (opts.ui !== undefined) {
      try {
        const lan = opts.ui.bind !== undefined && !isLoopback(opts.ui.bind)
        const ui = await startUiServer({
          hub, port: opts.ui.port, staticDir: opts.ui.staticDir, ...(opts.ui.bind === undefined ? {} : { bind: opts.ui.bind }),
          // Off loopback: HTTPS + WSS with the hub's own certificate (browsers trust DIR/tls/ca.pem).
          ...(lan ? { tls: { key: tls.key, cert: tls.cert } } : {}),
          ...(opts.ui.auth === undefined ? {} : { auth: opts.ui.auth }),
          status: () => ({ state: 'running', endpoints: describeEndpoints(endpoints), devices: hub.registry.count().total, connected: hub.connections.count() })
        })
        cleanups.push(() => ui.close())
        // Bound to every interface: name the host the certificate is for, not 0.0.0.0.
        endpoints.ui = opts.ui.bind === '0.0.0.0' || opts.ui.bind === '::' ? `https://${urlHost(config.hostName)}:${ui.port}/` : ui.url
        if (lan && hub.store.size('accounts') === 0) {
          logger.warn('the technician UI is open to the LAN but has no account yet: create the first admin with `sitehub account add NAME --role admin`, ' +
            'or in the UI from the hub machine itself (a loopback address)')
        }
      } catch (err) {
        if (opts.ui.optional !== true || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
        logger.warn('technician UI not started: its default port is taken (choose one with --ui-port, or --ui-port off)', { bind: opts.ui.bind, port: opts.ui.port })
      }
    }
    return { hub, endpoints, close }
  } catch (err) {
    await close()
    throw err
  }
}
