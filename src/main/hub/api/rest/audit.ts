// Changes made through the service REST API (SDK back ends with a shared access policy) go
// into the same audit log as the UI's and the CLI's: user `policy:{keyName}`, method
// `rest.{VERB} {pattern}`, the route's ids as input, and for devices, twins and configurations
// the state before and after (secrets never stored). Reads, queries and the edge-to-cloud sync
// protocol (/edges/..., recorded by the sync itself: docs/sync.md) are not logged.
import type { AuditEntry, JsonValue } from '../../../../shared/contract/index.js'
import { authServicesFor } from '../../accounts/index.js'
import { HubError } from '../../errors.js'
import type { Hub } from '../../services.js'
import { configurationState, identityState, redact } from '../ui/audit-capture.js'
import { HttpError } from './http.js'
import { identityOf, type Route } from './router.js'

/** POSTs that only read. */
const READS = new Set(['/devices/query', '/configurations/testQueries'])

export function isRestChange (route: Route): boolean {
  return route.method !== 'GET' && route.method !== 'HEAD' && !READS.has(route.pattern) && !route.pattern.startsWith('/edges/')
}

type Snapshot = (hub: Hub, params: Record<string, string>) => JsonValue

function snapshotFor (route: Route): Snapshot | undefined {
  const p = route.pattern
  if (/^\/(devices|twins)\/\{deviceId\}(\/modules\/\{moduleId\})?$/.test(p)) return (hub, params) => identityState(hub, identityOf(params))
  if (p === '/configurations/{id}') return (hub, params) => configurationState(hub, params['id'] as string)
  return undefined
}

function targetOf (params: Record<string, string>): AuditEntry['target'] {
  if (params['deviceId'] !== undefined) return { kind: 'device', id: params['moduleId'] === undefined ? params['deviceId'] : `${params['deviceId']}/${params['moduleId']}` }
  if (params['jobId'] !== undefined) return { kind: 'job', id: params['jobId'] }
  return null
}

/**
 * Runs a changing route and records it. The entry is written once the route has answered
 * (its body is the route's to read, so the input is the route's ids, not the body).
 */
export async function auditedRest (hub: Hub, route: Route, params: Record<string, string>, who: { policy: string; address: string; status: () => number }, run: () => Promise<void>): Promise<void> {
  const snap = snapshotFor(route)
  const before = snap?.(hub, params) ?? null
  const base = {
    user: `policy:${who.policy}`, role: null, method: `rest.${route.method} ${route.pattern}`,
    target: targetOf(params), input: redact(params), before, address: who.address
  }
  const { audit } = authServicesFor(hub)
  try {
    await run()
  } catch (err) {
    const e = err instanceof HubError
      ? { code: err.code, name: err.errorName, message: err.message }
      : err instanceof HttpError ? { code: err.status, name: err.errorName, message: err.message } : { code: 500001, name: 'ServerError', message: String(err) }
    await audit.record({ ...base, outcome: 'error', error: e, after: null }).catch(() => {})
    throw err
  }
  const status = who.status()
  // the answer is out: a failed audit write can only be logged
  await audit.record({
    ...base,
    outcome: status < 400 ? 'ok' : 'error',
    error: status < 400 ? null : { code: status, name: 'HttpError', message: `answered ${status}` },
    after: snap?.(hub, params) ?? null
  }).catch((err: unknown) => { hub.logger.error('audit log write failed', { method: base.method, error: String(err) }) })
}
