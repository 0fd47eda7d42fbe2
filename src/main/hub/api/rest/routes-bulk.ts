// Bulk registry operations: POST /devices with 1-100 ExportImportDevice items (C.2).
// Items are applied one by one, in order; a failing item does not undo the others
// (IoT Hub's partial-success rule is unverified; per-item errors tell the caller exactly what failed).
import { HubError, argumentInvalid } from '../../errors.js'
import type { Hub } from '../../services.js'
import type { JsonValue } from '../../types.js'
import { readJson, sendJson } from './http.js'
import type { Route } from './router.js'
import { deviceInput } from './routes-registry.js'

const MODES = ['create', 'update', 'updateifmatchetag', 'delete', 'deleteifmatchetag', 'updatetwin', 'updatetwinifmatchetag', 'createorupdate'] as const
type Mode = typeof MODES[number]

export interface BulkError { deviceId: string; errorCode: string; errorStatus: string }

export async function applyImportItem (hub: Hub, item: Record<string, unknown>, defaultMode: Mode): Promise<void> {
  const deviceId = item['id'] ?? item['deviceId']
  if (typeof deviceId !== 'string') throw argumentInvalid('Each item needs an id.')
  const mode = (typeof item['importMode'] === 'string' ? item['importMode'].toLowerCase() : defaultMode) as Mode
  if (!MODES.includes(mode)) throw argumentInvalid(`Unknown importMode '${String(item['importMode'])}'.`)
  const identity = typeof item['moduleId'] === 'string' ? { deviceId, moduleId: item['moduleId'] } : { deviceId }
  const etag = typeof item['eTag'] === 'string' ? item['eTag'] : undefined
  const body = { ...item, deviceId }
  delete (body as Record<string, unknown>)['id']
  const twinPatch = (): JsonValue | undefined => {
    const patch: Record<string, JsonValue> = {}
    if (item['tags'] !== undefined && item['tags'] !== null) patch['tags'] = item['tags'] as JsonValue
    const props = item['properties'] as Record<string, unknown> | undefined
    if (props?.['desired'] !== undefined && props['desired'] !== null) patch['properties'] = { desired: props['desired'] as JsonValue }
    return Object.keys(patch).length === 0 ? undefined : patch
  }
  const applyTwin = async (ifMatch?: string): Promise<void> => {
    const patch = twinPatch()
    if (patch !== undefined) await hub.twins.patch(identity, patch, ifMatch ?? (typeof item['twinETag'] === 'string' ? item['twinETag'] : '*'))
  }
  switch (mode) {
    case 'create':
      await hub.registry.create(deviceInput(body, identity))
      await applyTwin('*')
      return
    case 'createorupdate':
      if (hub.registry.get(identity)) await hub.registry.update({ ...deviceInput(body, identity), etag: '*' })
      else await hub.registry.create(deviceInput(body, identity))
      await applyTwin('*')
      return
    case 'update':
    case 'updateifmatchetag': {
      const e = mode === 'update' ? '*' : etag
      if (e === undefined) throw argumentInvalid('updateIfMatchETag needs the item eTag.')
      await hub.registry.update({ ...deviceInput(body, identity), etag: e })
      await applyTwin()
      return
    }
    case 'delete':
      await hub.registry.remove(identity, '*')
      return
    case 'deleteifmatchetag':
      if (etag === undefined) throw argumentInvalid('deleteIfMatchETag needs the item eTag.')
      await hub.registry.remove(identity, etag)
      return
    case 'updatetwin':
    case 'updatetwinifmatchetag':
      hub.registry.mustGet(identity)
      await applyTwin(mode === 'updatetwin' ? '*' : (typeof item['twinETag'] === 'string' ? item['twinETag'] : etag))
  }
}

export function bulkRoutes (hub: Hub): Route[] {
  return [{
    method: 'POST', pattern: '/devices', need: 'RegistryWrite',
    async handle ({ req, res }) {
      const body = await readJson(req, 1024 * 1024)
      if (!Array.isArray(body) || body.length === 0 || body.length > 100) throw argumentInvalid('A bulk request is a JSON array of 1 to 100 devices.')
      const errors: BulkError[] = []
      for (const item of body) {
        const id = typeof item === 'object' && item !== null ? String((item as Record<string, unknown>)['id'] ?? '') : ''
        try {
          if (typeof item !== 'object' || item === null || Array.isArray(item)) throw argumentInvalid('Each item must be an object.')
          await applyImportItem(hub, item as Record<string, unknown>, 'create')
        } catch (err) {
          if (!(err instanceof HubError)) throw err
          errors.push({ deviceId: id, errorCode: err.errorName, errorStatus: err.message })
        }
      }
      sendJson(res, errors.length === 0 ? 200 : 400, { isSuccessful: errors.length === 0, errors, warnings: [] })
    }
  }]
}
