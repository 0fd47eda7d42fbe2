// Client of a running hub's admin channel (for the CLI).
import { connect, type Socket } from 'node:net'
import { ErrorCodes, HubError, type ErrorName } from '../errors.js'
import { onLines } from './lines.js'
import { MAX_LINE_BYTES, adminSocketPath, type AdminMethodName, type AdminParams, type AdminResponse, type AdminResult } from './protocol.js'

export interface AdminClient {
  readonly path: string
  call<M extends AdminMethodName>(method: M, params: AdminParams<M>): Promise<AdminResult<M>>
  close(): Promise<void>
}

/** No hub is running on the data dir (nothing listens on its admin socket). */
export class HubNotRunningError extends Error {
  constructor (readonly path: string) {
    super(`no running Sitehub answers on ${path}`)
    this.name = 'HubNotRunningError'
  }
}

/** An admin error, as a HubError when the name is an IoT Hub error name. */
function toError (body: { code: number; name: string; message: string }): Error {
  if (Object.hasOwn(ErrorCodes, body.name)) return new HubError(body.name as ErrorName, body.message)
  const err = new Error(body.message)
  err.name = body.name
  return err
}

function open (path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path)
    const timer = setTimeout(() => { socket.destroy(); reject(new HubNotRunningError(path)) }, timeoutMs)
    socket.once('connect', () => { clearTimeout(timer); socket.removeAllListeners('error'); resolve(socket) })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      // ENOENT: no socket file; ECONNREFUSED: a stale file from a hub that is gone.
      reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? new HubNotRunningError(path) : err)
    })
  })
}

/** Connects to the hub running on `dataDir`; rejects with HubNotRunningError when there is none. */
export async function createAdminClient (dataDir: string, opts: { timeoutMs?: number } = {}): Promise<AdminClient> {
  const path = adminSocketPath(dataDir)
  const socket = await open(path, opts.timeoutMs ?? 2000)
  let nextId = 1
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }
  onLines(socket, MAX_LINE_BYTES, (line) => {
    let res: AdminResponse
    try { res = JSON.parse(line) as AdminResponse } catch { return }
    const p = typeof res.id === 'number' ? pending.get(res.id) : undefined
    if (p === undefined || typeof res.id !== 'number') return
    pending.delete(res.id)
    if ('error' in res) p.reject(toError(res.error))
    else p.resolve(res.result)
  }, () => { failAll(new Error('the hub sent a reply line that is too long')) })
  socket.on('error', (err) => { failAll(err) })
  let gone: Error | undefined
  socket.on('close', () => {
    gone = new Error('the hub closed the admin connection (did it stop?)')
    failAll(gone)
  })

  return {
    path,
    call (method, params) {
      const id = nextId++
      return new Promise((resolve, reject) => {
        if (gone !== undefined || socket.destroyed) { reject(gone ?? new Error('the admin connection is closed')); return }
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        socket.write(JSON.stringify({ id, method, params }) + '\n')
      })
    },
    async close () {
      if (socket.destroyed) return
      await new Promise<void>((resolve) => { socket.once('close', () => { resolve() }); socket.end() })
    }
  }
}
