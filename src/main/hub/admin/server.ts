// The local admin channel of a running hub, so the CLI can manage it: a unix socket
// DIR/admin.sock usable by the owner only (0600), or a named pipe on Windows.
import { existsSync } from 'node:fs'
import { chmod, mkdir, unlink } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { isHubError } from '../errors.js'
import type { Hub } from '../services.js'
import { createAdminDispatcher } from './handlers.js'
import { onLines } from './lines.js'
import { MAX_LINE_BYTES, adminSocketPath, type AdminErrorBody, type AdminRequest, type AdminResponse } from './protocol.js'

export interface AdminServer {
  /** Socket path (or pipe name) the server listens on. */
  path: string
  close(): Promise<void>
}

const isWindows = process.platform === 'win32'

export function errorBody (err: unknown): AdminErrorBody {
  if (isHubError(err)) return { code: err.code, name: err.errorName, message: err.message }
  return { code: 500001, name: 'ServerError', message: err instanceof Error ? err.message : String(err) }
}

/** True when something answers on the socket (another hub on this data dir). */
function answers (path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path)
    probe.once('connect', () => { probe.destroy(); resolve(true) })
    probe.once('error', () => { resolve(false) })
  })
}

/** A socket file left by a hub that crashed is removed; a live one means the data dir is in use. */
async function clearStaleSocket (path: string, dataDir: string): Promise<void> {
  if (isWindows || !existsSync(path)) return
  if (await answers(path)) throw new Error(`another Sitehub is already running with data dir ${dataDir} (its admin socket ${path} answers)`)
  await unlink(path).catch(() => {})
}

function listen (server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    // Create the socket 0600 from the start (no window where others could connect);
    // process.umask cannot be set in worker threads, hence the chmod below as well.
    let oldMask: number | undefined
    try { oldMask = isWindows ? undefined : process.umask(0o177) } catch { oldMask = undefined }
    try {
      server.listen(path, () => { server.off('error', reject); resolve() })
    } finally {
      if (oldMask !== undefined) process.umask(oldMask)
    }
  })
}

export async function startAdminServer (hub: Hub, dataDir: string): Promise<AdminServer> {
  const path = adminSocketPath(dataDir)
  await mkdir(dataDir, { recursive: true })
  await clearStaleSocket(path, dataDir)
  const { dispatch } = createAdminDispatcher(hub)
  const sockets = new Set<Socket>()

  let closed = false
  const handle = (socket: Socket): void => {
    if (closed) { socket.destroy(); return }
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {}) // a client that goes away mid-reply is not the hub's problem
    const reply = (res: AdminResponse): void => { if (!socket.destroyed) socket.write(JSON.stringify(res) + '\n') }
    onLines(socket, MAX_LINE_BYTES, (line) => {
      let req: AdminRequest
      try {
        req = JSON.parse(line) as AdminRequest
        if (typeof req !== 'object' || req === null || typeof req.method !== 'string') throw new Error('no method')
      } catch {
        reply({ id: null, error: { code: 400004, name: 'ArgumentInvalid', message: 'each request must be one JSON object {id, method, params} per line' } })
        return
      }
      const id = typeof req.id === 'number' || typeof req.id === 'string' ? req.id : null
      dispatch(req.method, req.params).then(
        (result) => { reply({ id, result: result ?? null }) },
        (err: unknown) => {
          if (!isHubError(err)) hub.logger.warn('admin request failed', { method: req.method, error: String(err) })
          reply({ id, error: errorBody(err) })
        }
      )
    }, () => {
      reply({ id: null, error: { code: 400004, name: 'ArgumentInvalid', message: `a request line is longer than ${MAX_LINE_BYTES} bytes` } })
      socket.end()
    })
  }

  const server = createServer(handle)
  await listen(server, path)
  if (!isWindows) await chmod(path, 0o600)
  hub.logger.info('admin socket listening', { path })

  return {
    path,
    async close () {
      if (closed) return
      closed = true
      const done = new Promise<void>((resolve) => server.close(() => { resolve() }))
      for (const s of sockets) s.destroy()
      await done
      if (!isWindows) await unlink(path).catch(() => {})
    }
  }
}
