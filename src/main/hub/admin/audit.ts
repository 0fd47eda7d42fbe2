// Changes made through the admin channel (`sitehub device|policy|serial ...`, via the socket
// of a running hub or the data dir) go into the same audit log as the UI's, as user 'cli'.
// Account commands record themselves (accounts/admin.ts) with their before/after.
import type { AuditEntry, JsonValue } from '../../../shared/contract/index.js'
import { authServicesFor } from '../accounts/index.js'
import { redact } from '../api/ui/audit-capture.js'
import type { Hub } from '../services.js'

/** Admin methods that change something (reads are not logged). */
const CHANGES = new Set([
  'registry.create', 'registry.remove', 'registry.setStatus', 'registry.regenerateKey', 'registry.importItems',
  'policies.add', 'policies.remove', 'policies.regenerate', 'serial.add', 'serial.remove', 'serial.update'
])

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

function targetOf (method: string, params: Record<string, unknown>): AuditEntry['target'] {
  const deviceId = str(params['deviceId'])
  if (deviceId !== undefined) {
    const moduleId = str(params['moduleId'])
    return { kind: 'device', id: moduleId === undefined ? deviceId : `${deviceId}/${moduleId}` }
  }
  void method
  return null
}

/** What a result says, without keys: device status, import counts, a policy's rights. */
function summary (result: unknown): JsonValue {
  if (result === null || typeof result !== 'object') return null
  const r = result as Record<string, unknown>
  if (typeof r['deviceId'] === 'string') return { deviceId: r['deviceId'], status: (r['status'] ?? null) as JsonValue }
  if (typeof r['imported'] === 'number') return { imported: r['imported'], errors: Array.isArray(r['errors']) ? r['errors'].length : 0 }
  if (typeof r['keyName'] === 'string') return { keyName: r['keyName'], rights: (r['rights'] ?? null) as JsonValue }
  return null
}

export function isAuditedAdminMethod (method: string): boolean {
  return CHANGES.has(method)
}

/** Runs `run` and records it (durably, before the caller gets the answer). */
export async function auditedAdminCall<T> (hub: Hub, method: string, params: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  const input = method === 'registry.importItems'
    ? { items: Array.isArray(params['items']) ? params['items'].length : 0, mode: (params['mode'] ?? null) as JsonValue }
    : redact(params)
  const base = { user: 'cli', role: null, method: `cli.${method}`, target: targetOf(method, params), input, before: null, address: 'cli' }
  const { audit } = authServicesFor(hub)
  let result: T
  try {
    result = await run()
  } catch (err) {
    const e = err as { code?: number; errorName?: string; message?: string }
    await audit.record({ ...base, outcome: 'error', error: { code: e.code ?? 500001, name: e.errorName ?? 'ServerError', message: e.message ?? String(err) }, after: null })
    throw err
  }
  await audit.record({ ...base, outcome: 'ok', error: null, after: redact(summary(result)) })
  return result
}
