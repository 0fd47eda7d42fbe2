// Offline command queue, a Sitehub REST extension (docs/commands.md):
// POST/GET /twins/{d}[/modules/{m}]/commands, GET /commands, GET /commands/{id}, POST /commands/{id}/cancel.
import { CommandError } from '../../commands/service.js'
import { COMMAND_STATUSES, type CommandStatus, type EnqueueCommandInput } from '../../commands/types.js'
import { argumentInvalid } from '../../errors.js'
import type { Hub } from '../../services.js'
import type { Identity } from '../../types.js'
import { HttpError, readJson, sendJson } from './http.js'
import { identityOf, type Route, type RouteContext } from './router.js'

/** Domain CommandError -> the REST error envelope (C.1). */
async function wrap<T> (fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof CommandError) throw new HttpError(err.httpStatus, err.errorName, err.message)
    throw err
  }
}

function statusFilter (query: URLSearchParams): CommandStatus[] | undefined {
  const raw = query.getAll('status').flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)
  if (raw.length === 0) return undefined
  for (const s of raw) if (!COMMAND_STATUSES.includes(s as CommandStatus)) throw argumentInvalid(`Unknown command status '${s}'; use ${COMMAND_STATUSES.join(', ')}.`)
  return raw as CommandStatus[]
}

function topOf (query: URLSearchParams): number | undefined {
  const t = query.get('top')
  if (t === null) return undefined
  const n = Number(t)
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw argumentInvalid('top must be an integer from 1 to 1000.')
  return n
}

export function commandRoutes (hub: Hub): Route[] {
  const enqueue = async ({ req, res, params }: RouteContext): Promise<void> => {
    const body = await readJson(req, 160 * 1024)
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw argumentInvalid('The command body must be a JSON object with methodName.')
    sendJson(res, 201, await wrap(() => hub.commands.enqueue(identityOf(params), body as EnqueueCommandInput)))
  }
  const listFor = async ({ res, params, query }: RouteContext): Promise<void> => {
    const identity = identityOf(params)
    hub.registry.mustGet(identity)
    const status = statusFilter(query)
    const top = topOf(query)
    sendJson(res, 200, hub.commands.list({ identity, ...(status ? { status } : {}), ...(top === undefined ? {} : { top }) }))
  }
  return [
    { method: 'POST', pattern: '/twins/{deviceId}/commands', need: 'ServiceConnect', handle: enqueue },
    { method: 'POST', pattern: '/twins/{deviceId}/modules/{moduleId}/commands', need: 'ServiceConnect', handle: enqueue },
    { method: 'GET', pattern: '/twins/{deviceId}/commands', need: 'ServiceConnect', handle: listFor },
    { method: 'GET', pattern: '/twins/{deviceId}/modules/{moduleId}/commands', need: 'ServiceConnect', handle: listFor },
    {
      method: 'GET', pattern: '/commands', need: 'ServiceConnect',
      handle: async ({ res, query }) => {
        const status = statusFilter(query)
        const top = topOf(query)
        const deviceId = query.get('deviceId')
        const moduleId = query.get('moduleId')
        const identity = deviceId === null ? undefined : moduleId === null ? { deviceId } : { deviceId, moduleId }
        sendJson(res, 200, hub.commands.list({ ...(identity ? { identity } : {}), ...(status ? { status } : {}), ...(top === undefined ? {} : { top }) }))
      }
    },
    {
      method: 'GET', pattern: '/commands/{commandId}', need: 'ServiceConnect',
      handle: async ({ res, params }) => {
        const c = hub.commands.get(params['commandId'] as string)
        if (!c) throw new HttpError(404, 'CommandNotFound', `Command ${params['commandId'] as string} not found.`)
        sendJson(res, 200, c)
      }
    },
    {
      method: 'POST', pattern: '/commands/{commandId}/cancel', need: 'ServiceConnect',
      handle: async ({ req, res, params }) => {
        const body = await readJson(req)
        const reason = typeof body === 'object' && body !== null && typeof (body as Record<string, unknown>)['reason'] === 'string'
          ? (body as Record<string, string>)['reason']
          : undefined
        sendJson(res, 200, await wrap(() => hub.commands.cancel(params['commandId'] as string, reason)))
      }
    }
  ]
}
