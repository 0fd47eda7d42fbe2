// Plain https calls to a test hub's service REST API with a policy SAS token (no SDK).
import { request } from 'node:https'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import type { TestHub } from './harness.js'

export interface RestResult { status: number; body: any; headers: Record<string, string | string[] | undefined> }

export function rest (hub: TestHub, ca: string, method: string, path: string, body?: unknown, opts: { policy?: string; auth?: string | null; headers?: Record<string, string> } = {}): Promise<RestResult> {
  const name = opts.policy ?? 'iothubowner'
  const hostName = hub.running.hub.registry.policies.connectionString(name).match(/HostName=([^;]+)/)?.[1] as string
  const p = hub.running.hub.registry.policies.get(name)
  if (p === undefined) throw new Error(`no policy ${name}`)
  const auth = opts.auth === undefined ? createSasToken({ resource: hostName, key: p.primaryKey, expiry: Math.floor(Date.now() / 1000) + 3600, keyName: name }) : opts.auth
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (auth !== null) headers['Authorization'] = auth
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    if (payload !== undefined) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = String(payload.length) }
    const req = request({ host: hub.ip, port: 443, ca, method, path: `${path}${path.includes('?') ? '&' : '?'}api-version=2021-04-12`, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let parsed: unknown = text
        try { parsed = text === '' ? undefined : JSON.parse(text) } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}
