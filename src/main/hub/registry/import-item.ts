// One ExportImportDevice item (C.2) applied to the registry and twins: shared by bulk REST
// (POST /devices), import jobs (POST /jobs/create) and `sitehub device import`.
import { argumentInvalid } from '../errors.js'
import type { DeviceCreateInput, Registry, TwinService } from '../services.js'
import type { Identity, JsonValue } from '../types.js'

export const IMPORT_MODES = ['create', 'update', 'updateifmatchetag', 'delete', 'deleteifmatchetag', 'updatetwin', 'updatetwinifmatchetag', 'createorupdate', 'createorupdateifmatchetag'] as const
export type ImportMode = typeof IMPORT_MODES[number]

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Picks the fields a client may set from a Device body (C.2); the rest (etag, connectionState...) is read-only. */
export function deviceInput (body: unknown, identity: Identity): DeviceCreateInput {
  if (!isObject(body)) throw argumentInvalid('The device must be a JSON object.')
  if (body['deviceId'] !== undefined && body['deviceId'] !== identity.deviceId) {
    throw argumentInvalid(`The deviceId in the body ('${String(body['deviceId'])}') does not match the URL ('${identity.deviceId}').`)
  }
  if (identity.moduleId !== undefined && body['moduleId'] !== undefined && body['moduleId'] !== identity.moduleId) {
    throw argumentInvalid(`The moduleId in the body ('${String(body['moduleId'])}') does not match the URL ('${identity.moduleId}').`)
  }
  const input: DeviceCreateInput = { ...identity }
  if (body['status'] !== undefined) input.status = body['status'] as 'enabled'
  if (body['statusReason'] !== undefined) input.statusReason = body['statusReason'] as string | null
  if (isObject(body['authentication'])) input.authentication = body['authentication'] as NonNullable<DeviceCreateInput['authentication']>
  if (isObject(body['capabilities'])) input.capabilities = { iotEdge: body['capabilities']['iotEdge'] === true }
  if (typeof body['deviceScope'] === 'string') input.deviceScope = body['deviceScope']
  if (Array.isArray(body['parentScopes'])) input.parentScopes = body['parentScopes'].filter((s): s is string => typeof s === 'string')
  if (typeof body['managedBy'] === 'string') input.managedBy = body['managedBy']
  return input
}

/** Applies one item; throws a HubError describing why it failed. */
export async function applyImportItem (deps: { registry: Registry; twins: TwinService }, item: unknown, defaultMode: ImportMode): Promise<void> {
  if (!isObject(item)) throw argumentInvalid('Each item must be a JSON object.')
  const deviceId = item['id'] ?? item['deviceId']
  if (typeof deviceId !== 'string') throw argumentInvalid('Each item needs an id.')
  const mode = (typeof item['importMode'] === 'string' ? item['importMode'].toLowerCase() : defaultMode) as ImportMode
  if (!IMPORT_MODES.includes(mode)) throw argumentInvalid(`Unknown importMode '${String(item['importMode'])}'.`)
  const identity: Identity = typeof item['moduleId'] === 'string' ? { deviceId, moduleId: item['moduleId'] } : { deviceId }
  const etag = typeof item['eTag'] === 'string' ? item['eTag'] : undefined
  const twinEtag = typeof item['twinETag'] === 'string' ? item['twinETag'] : undefined
  const body: Record<string, unknown> = { ...item, deviceId }
  delete body['id']
  const { registry, twins } = deps

  const twinPatch = (): JsonValue | undefined => {
    const patch: Record<string, JsonValue> = {}
    if (isObject(item['tags'])) patch['tags'] = item['tags'] as JsonValue
    const props = item['properties']
    if (isObject(props) && isObject(props['desired'])) {
      const desired = { ...props['desired'] }
      delete desired['$metadata']
      delete desired['$version']
      patch['properties'] = { desired: desired as JsonValue }
    }
    return Object.keys(patch).length === 0 ? undefined : patch
  }
  const applyTwin = async (ifMatch: string): Promise<void> => {
    const patch = twinPatch()
    if (patch !== undefined) await twins.patch(identity, patch, ifMatch)
  }
  const needEtag = (e: string | undefined, what: string): string => {
    if (e === undefined) throw argumentInvalid(`${what} needs the item's eTag.`)
    return e
  }

  switch (mode) {
    case 'create':
      await registry.create(deviceInput(body, identity))
      return applyTwin('*')
    case 'createorupdate':
    case 'createorupdateifmatchetag':
      if (registry.get(identity)) {
        await registry.update({ ...deviceInput(body, identity), etag: mode === 'createorupdate' ? '*' : needEtag(etag, mode) })
      } else {
        await registry.create(deviceInput(body, identity))
      }
      return applyTwin('*')
    case 'update':
    case 'updateifmatchetag':
      await registry.update({ ...deviceInput(body, identity), etag: mode === 'update' ? '*' : needEtag(etag, 'updateIfMatchETag') })
      return applyTwin('*')
    case 'delete':
      return registry.remove(identity, '*')
    case 'deleteifmatchetag':
      return registry.remove(identity, needEtag(etag, 'deleteIfMatchETag'))
    case 'updatetwin':
    case 'updatetwinifmatchetag':
      registry.mustGet(identity)
      return applyTwin(mode === 'updatetwin' ? '*' : needEtag(twinEtag ?? etag, 'updateTwinIfMatchETag'))
  }
}

/** One export line (C.2 devices.txt): keys null when excluded. */
export function exportItem (deps: { registry: Registry; twins: TwinService }, identity: Identity, excludeKeys: boolean): Record<string, JsonValue> {
  const dev = deps.registry.mustGet(identity)
  const twin = deps.twins.get(identity)
  const auth = structuredClone(dev.authentication)
  if (excludeKeys) auth.symmetricKey = { primaryKey: null, secondaryKey: null }
  const line: Record<string, JsonValue> = {
    id: dev.deviceId,
    eTag: dev.etag,
    status: dev.status,
    statusReason: dev.statusReason,
    authentication: auth as unknown as JsonValue,
    twinETag: twin.etag,
    tags: twin.tags ?? {},
    properties: { desired: twin.properties.desired, reported: twin.properties.reported } as unknown as JsonValue,
    capabilities: dev.capabilities,
    deviceScope: dev.deviceScope,
    parentScopes: dev.parentScopes
  }
  if (identity.moduleId !== undefined) line['moduleId'] = identity.moduleId
  return line
}
