// The firmware library and the ready-made reports over HTTPS: service-authenticated upload, list,
// metadata and delete; the device-authenticated, Range-capable download; GET /reports.
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import { deviceSasToken, parseConnectionString } from '../helpers/sdk.js'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'

let h: ServiceHub
let ca: Buffer

beforeAll(async () => {
  h = await startServiceHub()
  ca = readFileSync(h.endpoints.caFile)
}, 60_000)
afterAll(async () => { await h?.close() })

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; json: () => any }

function call (method: string, path: string, opts: { auth?: string; headers?: Record<string, string | number>; body?: Buffer | Readable } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers }
    if (opts.auth !== undefined) headers['Authorization'] = opts.auth
    const req = request({ host: h.ip, port: 443, method, path, headers, ca }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (opts.body instanceof Readable) opts.body.pipe(req)
    else req.end(opts.body)
  })
}

const ownerToken = (): string => {
  const p = h.hub.registry.policies.get('iothubowner')!
  return createSasToken({ resource: h.ip, key: p.primaryKey, keyName: 'iothubowner', expiry: Math.floor(Date.now() / 1000) + 600, encodeResource: false })
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

async function deviceToken (deviceId: string): Promise<string> {
  await h.hub.registry.create({ deviceId })
  const cs = parseConnectionString(h.hub.registry.deviceConnectionString({ deviceId }))
  return deviceSasToken(cs.HostName, deviceId, cs.SharedAccessKey!)
}

describe('firmware REST', () => {
  const image = randomBytes(2 * 1024 * 1024 + 123)

  it('uploads a streamed image (201), is idempotent (200), and lists it', async () => {
    // A chunked upload (no Content-Length), 64 KiB at a time.
    const chunks = Array.from({ length: Math.ceil(image.length / 65536) }, (_, i) => image.subarray(i * 65536, (i + 1) * 65536))
    const up = await call('PUT', '/firmware/pump-fw/2.1.0', { auth: ownerToken(), body: Readable.from(chunks), headers: { 'x-ms-sha256': sha(image) } })
    expect(up.status).toBe(201)
    expect(up.json()).toMatchObject({ name: 'pump-fw', version: '2.1.0', size: image.length, sha256: sha(image), downloadPath: '/firmware/pump-fw/2.1.0/image' })
    const again = await call('PUT', '/firmware/pump-fw/2.1.0', { auth: ownerToken(), body: image })
    expect(again.status).toBe(200)
    const list = await call('GET', '/firmware', { auth: ownerToken() })
    expect(list.status).toBe(200)
    expect(list.json()).toContainEqual(expect.objectContaining({ name: 'pump-fw', version: '2.1.0', size: image.length }))
    const meta = await call('GET', '/firmware/pump-fw/2.1.0', { auth: ownerToken() })
    expect(meta.json()).toMatchObject({ inUseBy: [], updatePayload: { url: `https://${h.ip}/firmware/pump-fw/2.1.0/image`, sha256: sha(image) } })
  })

  it('refuses uploads without a service token, with a wrong sha256, with other bytes for an existing version', async () => {
    expect((await call('PUT', '/firmware/x/1', { body: Buffer.from('abc') })).status).toBe(401)
    const devTok = await deviceToken('fw-up-dev')
    expect((await call('PUT', '/firmware/x/1', { auth: devTok, body: Buffer.from('abc') })).status).toBe(401)
    const bad = await call('PUT', '/firmware/x/1', { auth: ownerToken(), body: Buffer.from('abc'), headers: { 'x-ms-sha256': 'f'.repeat(64) } })
    expect([bad.status, bad.headers['iothub-errorcode']]).toEqual([400, 'Sha256Mismatch'])
    expect((await call('PUT', '/firmware/pump-fw/2.1.0', { auth: ownerToken(), body: Buffer.from('other') })).status).toBe(409)
    expect((await call('PUT', '/firmware/bad%20name/1', { auth: ownerToken(), body: Buffer.from('abc') })).status).toBe(400)
    expect(h.hub.firmware.get('x', '1')).toBeUndefined()
  })

  it('serves the image to a device with its own SAS token: headers, full body, Range, If-Range', async () => {
    await h.hub.firmware.add({ name: 'dl-fw', version: '1.0', data: image })
    const tok = await deviceToken('fw-dl-dev')
    const full = await call('GET', '/firmware/dl-fw/1.0/image', { auth: tok })
    expect(full.status).toBe(200)
    expect(full.headers['content-length']).toBe(String(image.length))
    expect(full.headers['x-ms-sha256']).toBe(sha(image))
    expect(full.headers['etag']).toBe(`"${sha(image)}"`)
    expect(full.headers['accept-ranges']).toBe('bytes')
    expect(sha(full.body)).toBe(sha(image))

    const part = await call('GET', '/firmware/dl-fw/1.0/image', { auth: tok, headers: { Range: 'bytes=1000000-' } })
    expect(part.status).toBe(206)
    expect(part.headers['content-range']).toBe(`bytes 1000000-${image.length - 1}/${image.length}`)
    expect(part.body.equals(image.subarray(1000000))).toBe(true)
    const mid = await call('GET', '/firmware/dl-fw/1.0/image', { auth: tok, headers: { Range: 'bytes=10-19', 'If-Range': `"${sha(image)}"` } })
    expect([mid.status, mid.body.equals(image.subarray(10, 20))]).toEqual([206, true])
    const stale = await call('GET', '/firmware/dl-fw/1.0/image', { auth: tok, headers: { Range: 'bytes=10-19', 'If-Range': '"old"' } })
    expect([stale.status, stale.body.length]).toEqual([200, image.length])
    const past = await call('GET', '/firmware/dl-fw/1.0/image', { auth: tok, headers: { Range: `bytes=${image.length}-` } })
    expect([past.status, past.headers['content-range']]).toEqual([416, `bytes */${image.length}`])
    const head = await call('HEAD', '/firmware/dl-fw/1.0/image', { auth: tok })
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(image.length), 0])
  })

  it('refuses a download without a valid device token (401) and answers 404 for an unknown image', async () => {
    const tok = await deviceToken('fw-dl-dev2')
    expect((await call('GET', '/firmware/dl-fw/1.0/image')).status).toBe(401)
    const forged = tok.replace(/sig=[^&]+/, 'sig=' + encodeURIComponent(randomBytes(32).toString('base64')))
    const r = await call('GET', '/firmware/dl-fw/1.0/image', { auth: forged })
    expect([r.status, r.headers['iothub-errorcode']]).toEqual([401, 'IotHubUnauthorizedAccess'])
    expect((await call('GET', '/firmware/dl-fw/1.0/image', { auth: 'SharedAccessSignature garbage' })).status).toBe(401)
    await h.hub.registry.setStatus({ deviceId: 'fw-dl-dev2' }, 'disabled')
    expect((await call('GET', '/firmware/dl-fw/1.0/image', { auth: tok })).status).toBe(401)
    const ok = await deviceToken('fw-dl-dev3')
    expect((await call('GET', '/firmware/dl-fw/9.9/image', { auth: ok })).status).toBe(404)
    // A service token with ServiceConnect may fetch it too (operators checking an image).
    expect((await call('GET', '/firmware/dl-fw/1.0/image', { auth: ownerToken(), headers: { Range: 'bytes=0-0' } })).status).toBe(206)
  })

  it('deletes (204), refusing while a device reports it is installing the image (409) unless forced', async () => {
    await h.hub.firmware.add({ name: 'del-fw', version: '1', data: Buffer.from('delete me') })
    await h.hub.registry.create({ deviceId: 'fw-busy' })
    await h.hub.twins.patchReported({ deviceId: 'fw-busy' }, { firmware: { current: '0.9', pending: '1', pendingName: 'del-fw', status: 'downloading', progress: 40 } })
    const refused = await call('DELETE', '/firmware/del-fw/1', { auth: ownerToken() })
    expect([refused.status, refused.headers['iothub-errorcode']]).toEqual([409, 'FirmwareInUse'])
    expect(refused.json().message).toMatch(/fw-busy/)
    await h.hub.twins.patchReported({ deviceId: 'fw-busy' }, { firmware: { status: 'current', current: '1', pending: null } })
    expect((await call('DELETE', '/firmware/del-fw/1', { auth: ownerToken() })).status).toBe(204)
    expect((await call('GET', '/firmware/del-fw/1', { auth: ownerToken() })).status).toBe(404)
    expect((await call('DELETE', '/firmware/del-fw/1', { auth: ownerToken() })).status).toBe(404)
  })
})

describe('reports REST', () => {
  it('lists the catalogue and runs a report', async () => {
    const list = await call('GET', '/reports', { auth: ownerToken() })
    expect(list.status).toBe(200)
    const names = (list.json() as Array<{ name: string }>).map((r) => r.name)
    expect(names).toEqual(expect.arrayContaining(['firmware-status', 'firmware-versions', 'firmware-in-progress', 'reboot-status', 'config-status', 'devices-in-error']))
    await h.hub.registry.create({ deviceId: 'rep-1' })
    await h.hub.twins.patchReported({ deviceId: 'rep-1' }, { firmware: { current: '7.0', status: 'current', progress: 100 } })
    const run = await call('GET', '/reports/firmware-versions', { auth: ownerToken() })
    expect(run.status).toBe(200)
    expect(run.json()).toMatchObject({ name: 'firmware-versions', kind: 'groups' })
    expect(run.json().rows).toContainEqual({ version: '7.0', devices: 1 })
    expect((await call('GET', '/reports/nope', { auth: ownerToken() })).status).toBe(404)
    expect((await call('GET', '/reports')).status).toBe(401)
  })

  it('every catalogue query runs on the query engine', () => {
    for (const r of h.hub.reports.list()) expect(Array.isArray(h.hub.reports.run(r.name).rows)).toBe(true)
  })
})
