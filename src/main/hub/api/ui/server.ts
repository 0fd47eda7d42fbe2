// The UI port: serves the built renderer and the typed contract over a WebSocket (/ui/ws).
// Every call carries its session token; the API checks it against the access table. On a
// loopback address it speaks plain HTTP; on any other address only HTTPS/WSS (the hub's own
// certificate), so passwords and tokens never cross the LAN in clear.
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import { contentSecurityPolicy } from '../../../../shared/csp.js'
import type { HubStatus, UiEvent, WsServerFrame } from '../../../../shared/contract/index.js'
import type { Hub } from '../../services.js'
import { createEventCoalescer } from './events.js'
import type { AuthOptions } from '../../accounts/index.js'
import { createUiApi } from './handlers.js'
import { serialStatusViews } from './site-handlers.js'

export interface UiServerOptions {
  hub: Hub
  status: () => HubStatus
  /** Default 127.0.0.1. A non-loopback address needs `tls`. */
  bind?: string
  /** PEM key and certificate: serve HTTPS + WSS (required off loopback). */
  tls?: { key: string | Buffer; cert: string | Buffer }
  /** Session, sign-in and audit limits. */
  auth?: AuthOptions
  /** 0 = any free port. */
  port: number
  /** The built renderer (out/renderer). */
  staticDir: string
  /** Event batch interval, default 250 ms. */
  intervalMs?: number
}

export interface UiServer { url: string; port: number; close(): Promise<void> }

/** Slow sockets: past this many buffered bytes, batches are dropped and the client told to resync. */
const MAX_BUFFERED = 4 * 1024 * 1024
const MAX_FRAME = 1024 * 1024

export function isLoopback (host: string): boolean {
  const h = host.replace(/^::ffff:/i, '')
  return h === '::1' || h === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2'
}

function serveStatic (dir: string, req: IncomingMessage, res: ServerResponse): void {
  const headers = { 'content-security-policy': contentSecurityPolicy(), 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }
  if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, headers).end(); return }
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
  const file = normalize(join(dir, path === '/' ? 'index.html' : path))
  if (!file.startsWith(dir + sep) && file !== dir) { res.writeHead(404, headers).end(); return }
  const target = existsSync(file) && statSync(file).isFile() ? file : join(dir, 'index.html')
  if (!existsSync(target)) {
    res.writeHead(503, { ...headers, 'content-type': 'text/plain; charset=utf-8' })
    res.end('The technician UI is not built. Run `npm run build` (it writes out/renderer), then reload.\n')
    return
  }
  res.writeHead(200, { ...headers, 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-cache' })
  if (req.method === 'HEAD') { res.end(); return }
  createReadStream(target).pipe(res)
}

export async function startUiServer (opts: UiServerOptions): Promise<UiServer> {
  const bind = opts.bind ?? '127.0.0.1'
  if (!isLoopback(bind) && opts.tls === undefined) {
    throw new Error(`the technician UI listens on ${bind} (not loopback) only with TLS: passwords and sessions must not cross the LAN in clear`)
  }
  const scheme = opts.tls === undefined ? 'http' : 'https'
  const staticDir = normalize(opts.staticDir)
  const api = createUiApi({ hub: opts.hub, status: opts.status, ...(opts.auth === undefined ? {} : { auth: opts.auth }) })
  const { sessions } = api.auth
  /** Signed-in sockets and their token: only these get event batches. */
  const signedIn = new Map<WebSocket, string>()
  const sockets = new Set<WebSocket>()
  const behind = new WeakSet<WebSocket>()
  const send = (ws: WebSocket, frame: WsServerFrame): void => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame)) }
  const broadcast = (events: UiEvent[]): void => {
    for (const [ws, token] of signedIn) {
      if (sessions.peek(token) === undefined) { signedIn.delete(ws); continue }
      if (ws.bufferedAmount > MAX_BUFFERED) { behind.add(ws); continue }
      if (behind.has(ws)) { behind.delete(ws); send(ws, { events: [{ type: 'resync', reason: 'events were dropped while the connection was slow' }] }) }
      send(ws, { events })
    }
  }
  const coalescer = createEventCoalescer({ events: opts.hub.events, clock: opts.hub.clock, sync: opts.hub, syncActive: () => sockets.size > 0, onBatch: broadcast, serialStatus: () => serialStatusViews(opts.hub), ...(opts.intervalMs === undefined ? {} : { intervalMs: opts.intervalMs }) })

  const handler = (req: IncomingMessage, res: ServerResponse): void => { serveStatic(staticDir, req, res) }
  const http: Server = opts.tls === undefined ? createServer(handler) : createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
  const wss = new WebSocketServer({
    server: http,
    path: '/ui/ws',
    maxPayload: MAX_FRAME,
    // Another site open in the same browser must not drive the hub: same origin only.
    verifyClient: ({ req, origin }: { req: IncomingMessage; origin: string }) => origin === undefined || origin === `${scheme}://${req.headers.host ?? ''}`
  })
  wss.on('connection', (ws, req) => {
    const address = (req.socket.remoteAddress ?? '').replace(/^::ffff:/i, '')
    sockets.add(ws)
    const gone = (): void => { sockets.delete(ws); signedIn.delete(ws) }
    ws.on('close', gone)
    ws.on('error', gone)
    send(ws, { hello: { version: 1 } })
    ws.on('message', (data) => {
      let frame: { id?: unknown; method?: unknown; input?: unknown; token?: unknown }
      try { frame = JSON.parse(String(data)) as typeof frame } catch { ws.close(1003, 'frames must be JSON'); return }
      if (typeof frame.id !== 'number') { ws.close(1003, 'a call needs a numeric id'); return }
      const callId = frame.id
      const token = typeof frame.token === 'string' ? frame.token : undefined
      const method = frame.method
      void api.handle(method, frame.input, { token, address, local: isLoopback(address) }).then(result => {
        // The socket follows the session its calls carry (a reconnect re-auths with its first call).
        if ((method === 'auth.signIn' || method === 'auth.setup') && result.ok) signedIn.set(ws, (result.value as { token: string }).token)
        else if (method === 'auth.signOut') signedIn.delete(ws)
        else if (token !== undefined && sessions.peek(token) !== undefined) signedIn.set(ws, token)
        send(ws, { id: callId, result })
      })
    })
  })

  // The WebSocketServer re-emits the HTTP server's errors; the listen error is handled below.
  wss.on('error', () => {})
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(opts.port, bind, () => { http.off('error', reject); resolve() })
    })
  } catch (err) {
    coalescer.close()
    api.close()
    wss.close()
    throw err
  }
  const port = (http.address() as AddressInfo).port
  const host = bind.includes(':') ? `[${bind}]` : bind
  return {
    url: `${scheme}://${host}:${port}/`,
    port,
    async close () {
      coalescer.close()
      api.close()
      for (const ws of sockets) ws.terminate()
      await new Promise<void>(resolve => { wss.close(() => resolve()) })
      http.closeAllConnections()
      await new Promise<void>(resolve => { http.close(() => resolve()) })
    }
  }
}
