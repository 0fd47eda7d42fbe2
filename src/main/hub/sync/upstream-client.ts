// A small HTTPS client for the cloud hub's service REST API (protocol C), authenticated with
// the policy connection string's SAS token (renewed before it expires), trusting an explicit
// CA. Deliberately not azure-iothub: the core must not depend on the service SDK.
import { Agent, request } from 'node:https'
import { randomUUID } from 'node:crypto'
import { createSasToken } from '../registry/sas.js'
import type { DeviceDocument, JsonObject, JsonValue, TwinDocument } from '../types.js'
import type { ServiceConnectionString } from './connection-string.js'

const API = 'api-version=2021-04-12'

export class UpstreamError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'UpstreamError'
  }
}

/** A network-level failure (refused, reset, timeout, TLS): the link, not the request, is at fault. */
export class LinkError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'LinkError'
  }
}

export interface UpstreamClientOptions {
  cs: ServiceConnectionString
  ca?: string | Buffer
  requestTimeoutMs?: number
  tokenTtlSeconds?: number
  now?: () => number
}

export interface UpstreamClient {
  request<T = JsonValue>(method: string, path: string, body?: JsonValue, headers?: Record<string, string>): Promise<T>
  /** POST /devices/query, every page (C.4). */
  query(sql: string, pageSize?: number): Promise<TwinDocument[]>
  ping(): Promise<void>
  getDevice(deviceId: string): Promise<DeviceDocument | null>
  listDevices(): Promise<DeviceDocument[]>
  createDevice(device: JsonObject): Promise<DeviceDocument>
  updateDevice(device: JsonObject, etag?: string): Promise<DeviceDocument>
  getTwin(deviceId: string): Promise<TwinDocument | null>
  /** Bulk create (POST /devices, up to 100 per request, C.2). Resolves with the ids that failed and why. */
  createDevices(devices: JsonObject[]): Promise<Map<string, string>>
  patchTwin(deviceId: string, patch: JsonObject, etag?: string): Promise<TwinDocument>
  /** Current SAS token (renewed when less than a fifth of its life remains). */
  token(): string
  tokenRenewals(): number
  close(): void
}

export function createUpstreamClient (opts: UpstreamClientOptions): UpstreamClient {
  const { cs } = opts
  const now = opts.now ?? Date.now
  const ttl = opts.tokenTtlSeconds ?? 3600
  const timeoutMs = opts.requestTimeoutMs ?? 5000
  const agent = new Agent({ keepAlive: true, maxSockets: 16, ...(opts.ca === undefined ? {} : { ca: opts.ca }) })
  let cached: { token: string; expiry: number } | null = null
  let renewals = 0

  const token = (): string => {
    const sec = Math.floor(now() / 1000)
    if (cached === null || cached.expiry - sec < ttl / 5) {
      const expiry = sec + ttl
      cached = { token: createSasToken({ resource: cs.hostName, key: cs.key, keyName: cs.keyName, expiry }), expiry }
      renewals++
    }
    return cached.token
  }

  const send = <T>(method: string, path: string, body?: JsonValue, headers: Record<string, string> = {}, onHeaders?: (h: Record<string, string | string[] | undefined>) => void): Promise<T> => new Promise<T>((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const sep = path.includes('?') ? '&' : '?'
    const req = request({
      host: cs.host,
      port: cs.httpsPort,
      method,
      path: `${path}${sep}${API}`,
      agent,
      headers: {
        Authorization: token(),
        'Request-Id': randomUUID(),
        'User-Agent': 'sitehub-sync/1',
        ...(payload === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(payload.length) }),
        ...headers
      }
    }, (res) => {
      onHeaders?.(res.headers)
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', (err) => reject(new LinkError(err.message)))
      res.on('end', () => {
        clearTimeout(timer)
        const text = Buffer.concat(chunks).toString('utf8')
        const status = res.statusCode ?? 0
        if (status >= 200 && status < 300) {
          if (text === '') { resolve(undefined as T); return }
          try { resolve(JSON.parse(text) as T) } catch { reject(new UpstreamError(status, 'BadResponse', `upstream sent invalid JSON for ${method} ${path}`)) }
          return
        }
        let code = String(status)
        let message = text
        try {
          const parsed = JSON.parse(text) as { Message?: string }
          if (typeof parsed.Message === 'string') {
            const [head, rest] = parsed.Message.split(';')
            code = head?.split(':')[1] ?? code
            message = rest ?? parsed.Message
          }
        } catch { /* plain text body */ }
        reject(new UpstreamError(status, code, `${method} ${path}: ${status} ${message}`))
      })
    })
    const timer = setTimeout(() => { req.destroy(new Error(`no answer within ${timeoutMs} ms`)) }, timeoutMs)
    req.on('error', (err) => { clearTimeout(timer); reject(new LinkError(`${method} ${path}: ${err.message}`)) })
    req.end(payload)
  })

  const enc = encodeURIComponent
  const orNull = async <T>(p: Promise<T>): Promise<T | null> => {
    try { return await p } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) return null
      throw err
    }
  }
  return {
    request: (m, p, b, h) => send(m, p, b, h),
    async query (sql, pageSize = 100) {
      const out: TwinDocument[] = []
      let continuation: string | undefined
      do {
        let next: string | undefined
        const page = await send<TwinDocument[]>('POST', '/devices/query', { query: sql }, {
          'x-ms-max-item-count': String(pageSize), ...(continuation === undefined ? {} : { 'x-ms-continuation': continuation })
        }, (h) => { const c = h['x-ms-continuation']; next = typeof c === 'string' && c !== '' ? c : undefined })
        out.push(...page)
        continuation = next
      } while (continuation !== undefined)
      return out
    },
    ping: async () => { await send('GET', '/statistics/devices') },
    getDevice: (id) => orNull(send<DeviceDocument>('GET', `/devices/${enc(id)}`)),
    async listDevices () {
      // Pages of 1000 (IoT Hub's maximum). A Sitehub cloud continues with x-ms-continuation;
      // Azure IoT Hub has no paging on GET /devices: a full first page means there may be more,
      // so the ids come from a paged query and the identities missing from the page one by one.
      const out: DeviceDocument[] = []
      let continuation: string | undefined
      let pages = 0
      do {
        let next: string | undefined
        const page = await send<DeviceDocument[]>('GET', '/devices/?top=1000', undefined, continuation === undefined ? {} : { 'x-ms-continuation': continuation },
          (h) => { const c = h['x-ms-continuation']; next = typeof c === 'string' && c !== '' ? c : undefined })
        out.push(...page)
        pages++
        if (next === undefined && pages === 1 && page.length >= 1000) {
          const seen = new Set(out.map((d) => d.deviceId))
          const ids = (await this.query('SELECT deviceId FROM devices', 1000)).map((r) => r.deviceId).filter((id) => typeof id === 'string' && !seen.has(id))
          for (let i = 0; i < ids.length; i += 8) {
            const got = await Promise.all(ids.slice(i, i + 8).map(async (id) => await orNull(send<DeviceDocument>('GET', `/devices/${enc(id)}`))))
            for (const d of got) if (d !== null) out.push(d)
          }
        }
        continuation = next
      } while (continuation !== undefined)
      return out
    },
    createDevice: (device) => send<DeviceDocument>('PUT', `/devices/${enc(String(device['deviceId']))}`, device),
    updateDevice: (device, etag) => send<DeviceDocument>('PUT', `/devices/${enc(String(device['deviceId']))}`, device, { 'If-Match': `"${etag ?? '*'}"` }),
    getTwin: (id) => orNull(send<TwinDocument>('GET', `/twins/${enc(id)}`)),
    async createDevices (devices) {
      const failed = new Map<string, string>()
      for (let i = 0; i < devices.length; i += 100) {
        const chunk = devices.slice(i, i + 100).map((d) => { const { deviceId, ...rest } = d; return { id: deviceId as JsonValue, importMode: 'create', ...rest } })
        type BulkResult = { isSuccessful?: boolean; errors?: Array<{ deviceId?: string; errorCode?: string; errorStatus?: string }> }
        let res: BulkResult
        try {
          res = await send<BulkResult>('POST', '/devices', chunk)
        } catch (err) {
          if (!(err instanceof UpstreamError) || err.status !== 400) throw err
          // 400 carries the per-device errors; fall back to single creates to learn which
          for (const d of devices.slice(i, i + 100)) {
            try { await send('PUT', `/devices/${enc(String(d['deviceId']))}`, d) } catch (e) {
              if (e instanceof LinkError) throw e
              failed.set(String(d['deviceId']), (e as Error).message)
            }
          }
          continue
        }
        for (const e of res?.errors ?? []) if (e.deviceId !== undefined) failed.set(e.deviceId, `${e.errorCode ?? ''} ${e.errorStatus ?? ''}`.trim())
      }
      return failed
    },
    patchTwin: (id, patch, etag) => send<TwinDocument>('PATCH', `/twins/${enc(id)}`, patch, { 'If-Match': `"${etag ?? '*'}"` }),
    token,
    tokenRenewals: () => renewals,
    close: () => { agent.destroy() }
  }
}
