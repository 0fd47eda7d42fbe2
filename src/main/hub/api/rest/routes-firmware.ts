// The firmware library over REST (a Sitehub extension, docs/firmware.md):
//   PUT    /firmware/{name}/{version}        upload (raw bytes, streamed to disk)   service token
//   GET    /firmware                         list                                    service token
//   GET    /firmware/{name}/{version}        metadata                                service token
//   DELETE /firmware/{name}/{version}        remove (409 while devices install it)   service token
//   GET    /firmware/{name}/{version}/image  the bytes, Range-capable               DEVICE token
// Routes with need 'DeviceConnect' skip the service check in index.ts and authenticate here.
import { createReadStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { parseRange } from '../../firmware/range.js'
import { FirmwareError } from '../../firmware/types.js'
import { parseResource, parseSasToken } from '../../registry/sas.js'
import type { Hub } from '../../services.js'
import { HttpError, sendJson, sendNoContent } from './http.js'
import type { Route, RouteContext } from './router.js'

/** Library errors become HTTP errors with the library's status and name. */
function mapped (fn: (ctx: RouteContext) => Promise<void>): (ctx: RouteContext) => Promise<void> {
  return async (ctx) => {
    try {
      await fn(ctx)
    } catch (err) {
      if (err instanceof FirmwareError) throw new HttpError(err.status, err.errorName, err.message)
      throw err
    }
  }
}

/**
 * A device downloads with its own SAS token (sr = host/devices/{id}, signed with its key) or a
 * token of a policy carrying DeviceConnect or ServiceConnect (gateways, back ends, operators).
 */
export function authenticateDownload (hub: Hub, header: string | undefined): { ok: true; who: string } | { ok: false; reason: string } {
  if (header === undefined || header === '') return { ok: false, reason: 'the Authorization header with a SharedAccessSignature is missing' }
  const token = parseSasToken(header)
  if (token instanceof Error) return { ok: false, reason: token.message }
  if (token.skn !== undefined) {
    const asDevice = hub.registry.authenticateService(header, 'DeviceConnect')
    if (asDevice.ok) return { ok: true, who: `policy ${asDevice.policy.keyName}` }
    const asService = hub.registry.authenticateService(header, 'ServiceConnect')
    return asService.ok ? { ok: true, who: `policy ${asService.policy.keyName}` } : { ok: false, reason: asDevice.reason }
  }
  const res = parseResource(token.sr)
  if (res instanceof Error) return { ok: false, reason: res.message }
  const [kind, deviceId, modules, moduleId] = res.segments
  if (kind !== 'devices' || deviceId === undefined || deviceId === '') return { ok: false, reason: 'a device token must be for host/devices/{deviceId}' }
  const identity = modules === 'modules' && moduleId !== undefined ? { deviceId, moduleId } : { deviceId }
  const verdict = hub.registry.authenticateDevice({ ...identity, sasToken: header })
  return verdict.ok ? { ok: true, who: `device ${deviceId}` } : { ok: false, reason: verdict.reason ?? 'device authentication failed' }
}

async function download (hub: Hub, { req, res, params }: RouteContext): Promise<void> {
  req.resume()
  const verdict = authenticateDownload(hub, req.headers.authorization)
  if (!verdict.ok) throw new HttpError(401, 'IotHubUnauthorizedAccess', `Unauthorized: ${verdict.reason}.`)
  const { image, path } = hub.firmware.open(params['name'] ?? '', params['version'] ?? '')
  const etag = `"${image.sha256}"`
  const common: Record<string, string> = {
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'x-ms-sha256': image.sha256,
    'x-ms-firmware-name': image.name,
    'x-ms-firmware-version': image.version,
    'Content-Type': 'application/octet-stream',
    'Cache-Control': 'no-cache'
  }
  // If-Range with a different validator: the client's partial copy is stale, send it all.
  const ifRange = req.headers['if-range']
  const rangeHeader = ifRange !== undefined && ifRange !== etag ? undefined : req.headers.range
  const range = parseRange(rangeHeader, image.size)
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { ...common, 'Content-Range': `bytes */${image.size}`, 'Content-Length': 0 })
    res.end()
    return
  }
  const start = range.kind === 'partial' ? range.start : 0
  const end = range.kind === 'partial' ? range.end : image.size - 1
  const headers: Record<string, string | number> = { ...common, 'Content-Length': end - start + 1 }
  if (range.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${image.size}`
  hub.logger.debug('firmware download', { who: verdict.who, name: image.name, version: image.version, start, end })
  if (req.method === 'HEAD') {
    res.writeHead(range.kind === 'partial' ? 206 : 200, headers)
    res.end()
    return
  }
  // Open before the head goes out, so a missing file is a clean 500 rather than a truncated 200.
  const stream = createReadStream(path, { start, end })
  await new Promise<void>((resolve, reject) => { stream.once('open', () => resolve()); stream.once('error', reject) })
  res.writeHead(range.kind === 'partial' ? 206 : 200, headers)
  await pipeline(stream, res).catch((err: Error) => {
    // The device went away mid-transfer; it resumes with Range. Nothing to report to it.
    hub.logger.debug('firmware download interrupted', { who: verdict.who, error: err.message })
  })
}

async function upload (hub: Hub, { req, res, params }: RouteContext): Promise<void> {
  const sha = req.headers['x-ms-sha256']
  const len = req.headers['content-length']
  const description = req.headers['x-ms-firmware-description']
  const { image, created } = await hub.firmware.add({
    name: params['name'] ?? '',
    version: params['version'] ?? '',
    data: req,
    ...(typeof sha === 'string' && sha !== '' ? { expectedSha256: sha } : {}),
    ...(typeof len === 'string' && len !== '' ? { expectedSize: Number(len) } : {}),
    ...(typeof description === 'string' && description !== '' ? { description: decodeURIComponent(description) } : {})
  }).catch((err: unknown) => {
    // The library stopped reading: drain the rest so the client sees our answer, not a reset.
    req.resume()
    throw err
  })
  sendJson(res, created ? 201 : 200, withPath(hub, image), { ETag: `"${image.sha256}"` })
}

function withPath (hub: Hub, image: ReturnType<Hub['firmware']['mustGet']>): Record<string, unknown> {
  return { ...image, downloadPath: hub.firmware.imagePath(image.name, image.version) }
}

export function firmwareRoutes (hub: Hub): Route[] {
  const p = (ctx: RouteContext): [string, string] => [ctx.params['name'] ?? '', ctx.params['version'] ?? '']
  return [
    { method: 'PUT', pattern: '/firmware/{name}/{version}', need: 'ServiceConnect', handle: mapped((ctx) => upload(hub, ctx)) },
    {
      method: 'GET', pattern: '/firmware', need: 'ServiceConnect',
      handle: mapped(async ({ res }) => { sendJson(res, 200, hub.firmware.list().map((img) => withPath(hub, img))) })
    },
    {
      method: 'GET', pattern: '/firmware/{name}/{version}', need: 'ServiceConnect',
      handle: mapped(async (ctx) => {
        const [name, version] = p(ctx)
        const image = hub.firmware.mustGet(name, version)
        sendJson(ctx.res, 200, { ...withPath(hub, image), inUseBy: hub.firmware.inUseBy(name, version), updatePayload: hub.firmware.updatePayload(name, version) })
      })
    },
    {
      method: 'DELETE', pattern: '/firmware/{name}/{version}', need: 'ServiceConnect',
      handle: mapped(async (ctx) => {
        const [name, version] = p(ctx)
        await hub.firmware.remove(name, version, { force: ctx.query.get('force') === 'true' })
        sendNoContent(ctx.res)
      })
    },
    { method: 'GET', pattern: '/firmware/{name}/{version}/image', need: 'DeviceConnect', handle: mapped((ctx) => download(hub, ctx)) },
    { method: 'HEAD', pattern: '/firmware/{name}/{version}/image', need: 'DeviceConnect', handle: mapped((ctx) => download(hub, ctx)) }
  ]
}
