// Admin methods mapped onto the hub's service API. Used by the admin socket server, and by
// the CLI directly when no hub is running (same behaviour either way).
import { argumentInvalid, isHubError } from '../errors.js'
import { applyImportItem, exportItem, IMPORT_MODES, type ImportMode } from '../registry/import-item.js'
import type { DeviceCreateInput, Hub } from '../services.js'
import { accountAdminHandlers } from '../accounts/admin.js'
import { auditedAdminCall, isAuditedAdminMethod } from './audit.js'
import { serialAdminHandlers } from '../serial/admin.js'
import type { JsonObject, Permission } from '../types.js'
import { asParams, identity, oneOf, optInt, optBool, optStr, str, type Params } from './params.js'
import {
  EXPORT_PAGE_BYTES, MAX_EXPORT_PAGE, MAX_IMPORT_BATCH,
  type AdminMethodName, type AdminMethods, type ExportItemsResult, type HubStatus, type ImportItemsResult
} from './protocol.js'

export type AdminHandlers = { [M in AdminMethodName]: (params: Params) => Promise<AdminMethods[M]['result']> }

export interface AdminDispatcher {
  handlers: AdminHandlers
  /** Runs one method; throws HubError ArgumentInvalid for an unknown method or bad params. */
  dispatch(method: string, params: unknown): Promise<unknown>
}

const PERMISSIONS: readonly Permission[] = ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect']
const STATUSES = ['enabled', 'disabled'] as const
const WHICH = ['primary', 'secondary', 'both'] as const
const KEY = ['primary', 'secondary'] as const

/** registry.create params: the DeviceCreateInput shape, checked field by field where it matters here. */
function createInput (p: Params): DeviceCreateInput {
  const input = { ...p } as unknown as DeviceCreateInput
  str(p, 'deviceId')
  if (p['status'] !== undefined) oneOf(p, 'status', STATUSES)
  if (p['authentication'] !== undefined && (typeof p['authentication'] !== 'object' || p['authentication'] === null)) {
    throw argumentInvalid('authentication must be an object')
  }
  return input
}

function rights (p: Params): Permission[] {
  const v = p['rights']
  if (!Array.isArray(v) || v.some((r) => !PERMISSIONS.includes(r as Permission))) {
    throw argumentInvalid(`rights must be a list of ${PERMISSIONS.join(', ')}`)
  }
  return v as Permission[]
}

/** registry.importItems: applies each item in order; a HubError fails that item only, anything else the call. */
async function importItems (hub: Hub, p: Params): Promise<ImportItemsResult> {
  const items = p['items']
  if (!Array.isArray(items)) throw argumentInvalid('items must be a list of ExportImportDevice objects')
  if (items.length > MAX_IMPORT_BATCH) throw argumentInvalid(`items holds ${items.length} entries; send at most ${MAX_IMPORT_BATCH} per call`)
  const mode = (optStr(p, 'mode') ?? 'createOrUpdate').toLowerCase() as ImportMode
  if (!IMPORT_MODES.includes(mode)) throw argumentInvalid(`mode must be one of ${IMPORT_MODES.join(', ')} (any case)`)
  const result: ImportItemsResult = { imported: 0, errors: [] }
  for (let index = 0; index < items.length; index++) {
    try {
      await applyImportItem(hub, items[index], mode)
      result.imported++
    } catch (err) {
      if (!isHubError(err)) throw err
      result.errors.push({ index, code: err.code, name: err.errorName, message: err.message })
    }
  }
  return result
}

/** Sort key of an identity: a device sorts before its modules ('/' cannot appear in ids). */
const keyOf = (d: { deviceId: string; moduleId?: string }): string => d.moduleId === undefined ? d.deviceId : `${d.deviceId}/${d.moduleId}`

/** registry.exportItems: one page of devices.txt lines after the `after` cursor, in key order. */
function exportItems (hub: Hub, p: Params): ExportItemsResult {
  const after = optStr(p, 'after')
  const limit = optInt(p, 'limit') ?? 500
  if (limit < 1 || limit > MAX_EXPORT_PAGE) throw argumentInvalid(`limit must be from 1 to ${MAX_EXPORT_PAGE}`)
  const excludeKeys = optBool(p, 'excludeKeys') ?? false
  const identities = hub.registry.list({ withModules: true })
    .map((d) => d.moduleId === undefined ? { deviceId: d.deviceId } : { deviceId: d.deviceId, moduleId: d.moduleId })
    .map((id) => ({ id, key: keyOf(id) }))
    .filter((e) => after === undefined || e.key > after)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const items: JsonObject[] = []
  let bytes = 0
  for (const { id } of identities) {
    if (items.length >= limit || (items.length > 0 && bytes >= EXPORT_PAGE_BYTES)) {
      return { items, next: keyOf(identities[items.length - 1]?.id ?? id) }
    }
    const item = exportItem(hub, id, excludeKeys)
    bytes += JSON.stringify(item).length
    items.push(item)
  }
  return { items, next: null }
}

export function createAdminDispatcher (hub: Hub, opts: { startedAt?: number } = {}): AdminDispatcher {
  const startedAt = opts.startedAt ?? Date.now()
  const { registry } = hub
  const policies = registry.policies
  const handlers: AdminHandlers = {
    ...serialAdminHandlers(hub),
    ...accountAdminHandlers(hub),
    'registry.create': async (p) => await registry.create(createInput(p)),
    'registry.get': async (p) => registry.mustGet(identity(p)),
    'registry.list': async (p) => {
      const top = optInt(p, 'top')
      const withModules = optBool(p, 'withModules')
      return registry.list({ ...(top === undefined ? {} : { top }), ...(withModules === undefined ? {} : { withModules }) })
    },
    'registry.remove': async (p) => {
      await registry.remove(identity(p), optStr(p, 'etag'))
      return null
    },
    'registry.setStatus': async (p) => {
      const reason = p['statusReason']
      if (reason !== undefined && reason !== null && typeof reason !== 'string') throw argumentInvalid('statusReason must be a string or null')
      return await registry.setStatus(identity(p), oneOf(p, 'status', STATUSES), reason)
    },
    'registry.regenerateKey': async (p) => await registry.regenerateKey(identity(p), oneOf(p, 'which', WHICH)),
    'registry.deviceConnectionString': async (p) => registry.deviceConnectionString(identity(p), oneOf(p, 'which', KEY, 'primary')),
    'registry.importItems': async (p) => await importItems(hub, p),
    'registry.exportItems': async (p) => exportItems(hub, p),
    'policies.list': async () => policies.list(),
    'policies.connectionString': async (p) => {
      const name = str(p, 'name')
      if (oneOf(p, 'which', KEY, 'primary') === 'primary') return policies.connectionString(name)
      const policy = policies.get(name)
      if (policy === undefined) throw argumentInvalid(`There is no shared access policy named '${name}'.`)
      return `HostName=${hub.config.hostName};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.secondaryKey}`
    },
    'policies.add': async (p) => await policies.add(str(p, 'name'), rights(p)),
    'policies.remove': async (p) => {
      await policies.remove(str(p, 'name'))
      return null
    },
    'policies.regenerate': async (p) => await policies.regenerate(str(p, 'name'), oneOf(p, 'which', WHICH)),
    'hub.status': async (): Promise<HubStatus> => {
      const { config } = hub
      return {
        hostName: config.hostName,
        bind: config.bind,
        role: config.role,
        dataDir: config.dataDir,
        ports: { mqtts: config.mqttsPort, https: config.httpsPort, mqtt: config.mqttPort },
        pid: process.pid,
        startedAt: new Date(startedAt).toISOString(),
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        devices: registry.count(),
        connections: hub.connections.count(),
        telemetry: hub.telemetry.stats()
      }
    }
  }
  return {
    handlers,
    async dispatch (method, params) {
      if (!Object.hasOwn(handlers, method)) throw argumentInvalid(`unknown admin method '${method}'`)
      const p = asParams(params)
      const run = (): Promise<unknown> => handlers[method as AdminMethodName](p)
      return isAuditedAdminMethod(method) ? await auditedAdminCall(hub, method, p, run) : await run()
    }
  }
}
