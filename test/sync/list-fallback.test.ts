// The registry listing against a hub that behaves like Azure IoT Hub: GET /devices is capped
// at 1,000 with no continuation. Azure cannot run here, so this is a small stand-in HTTPS
// server (a mock, on purpose) answering only the three requests the fallback uses: the capped
// GET /devices, the paged POST /devices/query for ids, and GET /devices/{id}.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseServiceConnectionString } from '../../src/main/hub/sync/connection-string.js'
import { createUpstreamClient } from '../../src/main/hub/sync/upstream-client.js'
import { ensureTls } from '../../src/main/hub/tls/ensure-tls.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { testCa } from './harness.js'

const N = 1234
const ids = Array.from({ length: N }, (_, i) => `az-${String(i).padStart(4, '0')}`)
const doc = (deviceId: string): Record<string, unknown> => ({ deviceId, status: 'enabled', etag: 'e', authentication: { type: 'sas', symmetricKey: { primaryKey: `k-${deviceId}`, secondaryKey: null } } })

describe('registry listing past 1,000 devices against an Azure-like hub (no GET /devices paging)', () => {
  let server: Server
  let dir: string
  const ip = randomLoopbackIp()
  const seen = { list: 0, queries: 0, gets: 0, continuationHeaderSent: false }
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sitehub-azlike-'))
    mkdirSync(join(dir, 'tls'), { recursive: true })
    const caDir = process.env['SITEHUB_TEST_CA_DIR'] as string
    for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(caDir, 'tls', f), join(dir, 'tls', f))
    const tls = await ensureTls(dir, { hostName: ip, bind: ip })
    server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x')
      const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
        res.end(JSON.stringify(body))
      }
      if (req.method === 'GET' && (url.pathname === '/devices/' || url.pathname === '/devices')) {
        seen.list++
        if (req.headers['x-ms-continuation'] !== undefined) seen.continuationHeaderSent = true
        send(200, ids.slice(0, Math.min(1000, Number(url.searchParams.get('top') ?? 1000))).map(doc)) // Azure: capped, no header
        return
      }
      if (req.method === 'POST' && url.pathname === '/devices/query') {
        seen.queries++
        const from = Number(req.headers['x-ms-continuation'] ?? 0)
        const size = Number(req.headers['x-ms-max-item-count'] ?? 100)
        const page = ids.slice(from, from + size).map((deviceId) => ({ deviceId }))
        req.resume()
        send(200, page, from + size < N ? { 'x-ms-continuation': String(from + size) } : {})
        return
      }
      const m = /^\/devices\/([^/]+)$/.exec(url.pathname)
      if (req.method === 'GET' && m !== null) {
        seen.gets++
        const id = decodeURIComponent(m[1] as string)
        if (ids.includes(id)) send(200, doc(id)); else send(404, { Message: 'ErrorCode:DeviceNotFound;no' })
        return
      }
      send(404, { Message: 'ErrorCode:NotFound;no' })
    })
    await new Promise<void>((resolve) => server.listen(443, ip, () => resolve()))
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('a full first page without continuation: the rest comes from a paged id query and single GETs', async () => {
    const client = createUpstreamClient({ cs: parseServiceConnectionString(`HostName=${ip};SharedAccessKeyName=iothubowner;SharedAccessKey=${Buffer.from('k').toString('base64')}`), ca: testCa() })
    try {
      const all = await client.listDevices()
      expect(all).toHaveLength(N)
      expect(new Set(all.map((d) => d.deviceId))).toEqual(new Set(ids))
      expect(all.find((d) => d.deviceId === 'az-1233')?.authentication.symmetricKey.primaryKey).toBe('k-az-1233')
      expect(seen).toMatchObject({ list: 1, gets: N - 1000, continuationHeaderSent: false })
      expect(seen.queries).toBe(Math.ceil(N / 1000))
    } finally { client.close() }
  })
})
