// Sockets for the MQTT transport (protocol section 0): MQTT over TLS (8883), optional plain
// MQTT, and MQTT over WebSocket at /$iothub/websocket on the HTTPS server.
import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { createServer as createTlsServer, TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { MqttTransport } from './index.js'

export interface ListenMqttOptions {
  bind: string
  mqttsPort: number
  /** Plain MQTT (no TLS) only when set. */
  mqttPort: number | null
  tls: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer | Array<string | Buffer> }
}

export interface MqttListeners {
  mqttsPort: number
  mqttPort: number | null
  addresses: { mqtts: AddressInfo; mqtt: AddressInfo | null }
  close(): Promise<void>
}

const remoteOf = (s: Socket): string => `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`

function listen (server: NetServer, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}

/** Stops listening and ends the connections still open (clients are also closed by the transport). */
function closeServer (server: NetServer, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve()
      return
    }
    server.close(() => { resolve() })
    for (const s of sockets) s.destroy()
  })
}

function track (server: NetServer): Set<Socket> {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  return sockets
}

export async function listenMqtt (transport: MqttTransport, opts: ListenMqttOptions): Promise<MqttListeners> {
  // [A.2] requestCert so that X.509 devices can present a client certificate; the chain is
  // judged by the registry (thumbprints), not by TLS, hence rejectUnauthorized: false.
  const tlsServer = createTlsServer({
    key: opts.tls.key,
    cert: opts.tls.cert,
    ...(opts.tls.ca === undefined ? {} : { ca: opts.tls.ca }),
    requestCert: true,
    rejectUnauthorized: false
  }, (socket) => {
    transport.handleConnection(socket, { tlsSocket: socket, remote: remoteOf(socket), transport: 'mqtts' })
  })
  tlsServer.on('tlsClientError', () => { /* failed handshakes are the client's problem */ })
  const tlsSockets = track(tlsServer)
  const mqtts = await listen(tlsServer, opts.mqttsPort, opts.bind)

  let plain: NetServer | null = null
  let plainSockets = new Set<Socket>()
  let mqtt: AddressInfo | null = null
  if (opts.mqttPort !== null) {
    const server = createNetServer((socket) => {
      transport.handleConnection(socket, { remote: remoteOf(socket), transport: 'mqtt' })
    })
    plainSockets = track(server)
    try {
      mqtt = await listen(server, opts.mqttPort, opts.bind)
    } catch (err) {
      await closeServer(tlsServer, tlsSockets)
      throw err
    }
    plain = server
  }

  return {
    mqttsPort: mqtts.port,
    mqttPort: mqtt?.port ?? null,
    addresses: { mqtts, mqtt },
    async close () {
      await Promise.all([closeServer(tlsServer, tlsSockets), plain === null ? undefined : closeServer(plain, plainSockets)])
    }
  }
}

export const WEBSOCKET_PATH = '/$iothub/websocket'

function pathOf (req: IncomingMessage): string {
  const url = req.url ?? ''
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

/**
 * [0] MQTT over WebSocket: upgrades only `/$iothub/websocket` (sub-protocol `mqtt`) and
 * refuses every other upgrade path. Returns a function that detaches it again.
 */
export function attachWebSocket (server: HttpsServer | HttpServer, transport: MqttTransport): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false)
  })
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathOf(req) !== WEBSOCKET_PATH) {
      socket.once('finish', () => { socket.destroy() })
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws)
      const raw = req.socket
      stream.on('error', () => { ws.terminate() })
      transport.handleConnection(stream, {
        ...(raw instanceof TLSSocket ? { tlsSocket: raw } : {}),
        remote: remoteOf(raw),
        transport: 'wss'
      })
    })
  }
  server.on('upgrade', onUpgrade)
  return () => {
    server.off('upgrade', onUpgrade)
    wss.close()
  }
}
