// Twin and direct-method routes (C.3, C.5).
import { argumentInvalid } from '../../errors.js'
import type { Hub } from '../../services.js'
import type { Identity, JsonValue } from '../../types.js'
import { ifMatch, readJson, sendJson } from './http.js'
import { identityOf, type Route, type RouteContext } from './router.js'

export function twinRoutes (hub: Hub): Route[] {
  const get = async ({ res, params }: RouteContext): Promise<void> => sendJson(res, 200, hub.twins.get(identityOf(params)))
  // `by` (rest:{policy}) is the source of the change for sync conflict records (docs/sync.md).
  const by = (policy: string | undefined): { by: string } => ({ by: `rest:${policy ?? ''}` })
  const patch = async ({ req, res, params, policy }: RouteContext): Promise<void> => {
    const body = await readJson(req)
    if (body === undefined) throw argumentInvalid('The twin patch body is empty.')
    sendJson(res, 200, await hub.twins.patch(identityOf(params), body as JsonValue, ifMatch(req), by(policy)))
  }
  const replace = async ({ req, res, params, policy }: RouteContext): Promise<void> => {
    const body = await readJson(req)
    if (body === undefined) throw argumentInvalid('The twin body is empty.')
    sendJson(res, 200, await hub.twins.replace(identityOf(params), body as JsonValue, ifMatch(req), by(policy)))
  }
  const invoke = async ({ req, res, params }: RouteContext): Promise<void> => {
    const body = await readJson(req, 160 * 1024)
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw argumentInvalid('The method body must be a JSON object with methodName.')
    const b = body as Record<string, unknown>
    const opts: Parameters<Hub['methods']['invoke']>[1] = { methodName: b['methodName'] as string, payload: (b['payload'] ?? null) as JsonValue }
    if (b['responseTimeoutInSeconds'] !== undefined) opts.responseTimeoutInSeconds = b['responseTimeoutInSeconds'] as number
    if (b['connectTimeoutInSeconds'] !== undefined) opts.connectTimeoutInSeconds = b['connectTimeoutInSeconds'] as number
    // [C.5] whatever status the device answered, the HTTP status is 200.
    sendJson(res, 200, await hub.methods.invoke(identityOf(params), opts))
  }
  return [
    { method: 'GET', pattern: '/twins/{deviceId}', need: 'ServiceConnect', handle: get },
    { method: 'PATCH', pattern: '/twins/{deviceId}', need: 'ServiceConnect', handle: patch },
    { method: 'PUT', pattern: '/twins/{deviceId}', need: 'ServiceConnect', handle: replace },
    { method: 'GET', pattern: '/twins/{deviceId}/modules/{moduleId}', need: 'ServiceConnect', handle: get },
    { method: 'PATCH', pattern: '/twins/{deviceId}/modules/{moduleId}', need: 'ServiceConnect', handle: patch },
    { method: 'PUT', pattern: '/twins/{deviceId}/modules/{moduleId}', need: 'ServiceConnect', handle: replace },
    { method: 'POST', pattern: '/twins/{deviceId}/methods', need: 'ServiceConnect', handle: invoke },
    { method: 'POST', pattern: '/twins/{deviceId}/modules/{moduleId}/methods', need: 'ServiceConnect', handle: invoke }
  ]
}
