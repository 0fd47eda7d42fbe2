// The admin channel's wire contract: JSON lines over a local socket.
//   request  {"id":1,"method":"registry.get","params":{"deviceId":"d1"}}
//   response {"id":1,"result":{...}}  or  {"id":1,"error":{"code":404001,"name":"DeviceNotFound","message":"..."}}
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { DeviceCreateInput, HubConfig, TelemetryStats } from '../services.js'
import { ACCOUNT_ADMIN_METHODS, type AccountAdminMethods } from '../accounts/admin.js'
import { SERIAL_ADMIN_METHODS, type SerialAdminMethods } from '../serial/admin.js'
import type { DeviceDocument, JsonObject, Permission, SharedAccessPolicy } from '../types.js'

export interface IdentityParams {
  deviceId: string
  moduleId?: string
}

/** Most items per registry.importItems call, and the page size cap of registry.exportItems. */
export const MAX_IMPORT_BATCH = 500
export const MAX_EXPORT_PAGE = 1000
/** registry.exportItems stops a page early once its items pass this many bytes (reply lines are capped). */
export const EXPORT_PAGE_BYTES = 256 * 1024

export interface ImportItemsParams {
  /** ExportImportDevice items (C.2), applied in order. */
  items: unknown[]
  /** importMode for items without one (any case): create, createOrUpdate, update, delete... Default createOrUpdate. */
  mode?: string
}

export interface ImportItemError {
  /** Position of the item in `items`. */
  index: number
  code: number
  name: string
  message: string
}

export interface ImportItemsResult {
  imported: number
  errors: ImportItemError[]
}

export interface ExportItemsParams {
  /** Cursor: the `next` of the previous page; omitted for the first page. */
  after?: string
  /** Items per page, at most MAX_EXPORT_PAGE (default 500). */
  limit?: number
  /** Null the symmetric keys (excludeKeysInExport). */
  excludeKeys?: boolean
}

export interface ExportItemsResult {
  /** devices.txt lines (C.2), devices and modules, in identity order (a device before its modules). */
  items: JsonObject[]
  /** Pass as `after` for the next page; null at the end. */
  next: string | null
}

export interface HubStatus {
  hostName: string
  bind: string
  role: HubConfig['role']
  dataDir: string
  ports: { mqtts: number; https: number; mqtt: number | null }
  pid: number
  startedAt: string
  uptimeSeconds: number
  devices: { total: number; enabled: number; disabled: number }
  connections: number
  telemetry: TelemetryStats
}

/** Every admin method: its params and its result. */
export interface AdminMethods extends SerialAdminMethods, AccountAdminMethods {
  'registry.create': { params: DeviceCreateInput; result: DeviceDocument }
  'registry.get': { params: IdentityParams; result: DeviceDocument }
  'registry.list': { params: { top?: number; withModules?: boolean }; result: DeviceDocument[] }
  'registry.remove': { params: IdentityParams & { etag?: string }; result: null }
  'registry.setStatus': { params: IdentityParams & { status: 'enabled' | 'disabled'; statusReason?: string | null }; result: DeviceDocument }
  'registry.regenerateKey': { params: IdentityParams & { which: 'primary' | 'secondary' | 'both' }; result: DeviceDocument }
  'registry.deviceConnectionString': { params: IdentityParams & { which?: 'primary' | 'secondary' }; result: string }
  'policies.list': { params: Record<string, never>; result: SharedAccessPolicy[] }
  'policies.connectionString': { params: { name: string; which?: 'primary' | 'secondary' }; result: string }
  'policies.add': { params: { name: string; rights: Permission[] }; result: SharedAccessPolicy }
  'policies.remove': { params: { name: string }; result: null }
  'policies.regenerate': { params: { name: string; which: 'primary' | 'secondary' | 'both' }; result: SharedAccessPolicy }
  'registry.importItems': { params: ImportItemsParams; result: ImportItemsResult }
  'registry.exportItems': { params: ExportItemsParams; result: ExportItemsResult }
  'hub.status': { params: Record<string, never>; result: HubStatus }
}

export type AdminMethodName = keyof AdminMethods
export type AdminParams<M extends AdminMethodName> = AdminMethods[M]['params']
export type AdminResult<M extends AdminMethodName> = AdminMethods[M]['result']

export const ADMIN_METHODS: readonly AdminMethodName[] = [
  'registry.create', 'registry.get', 'registry.list', 'registry.remove', 'registry.setStatus',
  'registry.regenerateKey', 'registry.deviceConnectionString', 'registry.importItems', 'registry.exportItems', 'policies.list',
  'policies.connectionString', 'policies.add', 'policies.remove', 'policies.regenerate', 'hub.status',
  ...SERIAL_ADMIN_METHODS,
  ...ACCOUNT_ADMIN_METHODS
]

export interface AdminRequest {
  id: number | string
  method: string
  params?: unknown
}

export interface AdminErrorBody {
  code: number
  name: string
  message: string
}

export type AdminResponse =
  | { id: number | string | null; result: unknown }
  | { id: number | string | null; error: AdminErrorBody }

/** Longest accepted request line; anything longer is a client bug, not a registry call. */
export const MAX_LINE_BYTES = 1024 * 1024

// Unix socket paths are limited to about 104-108 bytes; a deep data dir falls back to a
// name in the temp dir derived from the data dir path (same rule on both ends).
const MAX_UNIX_PATH = 100

/** Where the admin channel of a data dir listens: DIR/admin.sock, or a named pipe on Windows. */
export function adminSocketPath (dataDir: string, platform: NodeJS.Platform = process.platform): string {
  const dir = resolve(dataDir)
  const hash = createHash('sha256').update(platform === 'win32' ? dir.toLowerCase() : dir).digest('hex').slice(0, 24)
  if (platform === 'win32') return `\\\\.\\pipe\\sitehub-admin-${hash}`
  const path = join(dir, 'admin.sock')
  return Buffer.byteLength(path) <= MAX_UNIX_PATH ? path : join(tmpdir(), `sitehub-admin-${hash}.sock`)
}
