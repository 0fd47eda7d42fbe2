// Delegation to edges, a Sitehub REST extension (docs/sync.md, docs/rest-api.md): an edge hub
// takes over its devices' part of jobs v2 and queued commands, runs them at its site (also
// offline) and reports the outcomes. Azure IoT Hub has no such routes (404): an edge then lets
// the cloud's own engines drive its devices through method forwarding.
import { CommandError } from '../../commands/service.js'
import { COMMAND_STATUSES, TERMINAL_STATUSES, type CommandStatus, type EdgeCommandResult } from '../../commands/types.js'
import { argumentInvalid } from '../../errors.js'
import type { EdgeOutcome } from '../../jobs/types.js'
import type { Hub } from '../../services.js'
import type { JsonValue } from '../../types.js'
import { HttpError, readJson, sendJson, sendNoContent } from './http.js'
import type { Route } from './router.js'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const MAX_ITEMS = 10_000

function stringList (body: unknown, field: string): string[] {
  const v = isObject(body) ? body[field] : undefined
  if (!Array.isArray(v) || v.length > MAX_ITEMS || !v.every((x) => typeof x === 'string' && x !== '')) throw argumentInvalid(`The body must be {"${field}": [...]} with at most ${MAX_ITEMS} non-empty strings.`)
  return v as string[]
}

function objectList (body: unknown, field: string): Array<Record<string, unknown>> {
  const v = isObject(body) ? body[field] : undefined
  if (!Array.isArray(v) || v.length > MAX_ITEMS || !v.every(isObject)) throw argumentInvalid(`The body must be {"${field}": [{...}, ...]} with at most ${MAX_ITEMS} objects.`)
  return v as Array<Record<string, unknown>>
}

const optString = (o: Record<string, unknown>, k: string, where: string): string | undefined => {
  const v = o[k]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw argumentInvalid(`${where}.${k} must be a string.`)
  return v
}

function errorOf (o: Record<string, unknown>, where: string, text: 'description' | 'message'): { code: string; description: string } | { code: string; message: string } | undefined {
  const e = o['error']
  if (e === undefined || e === null) return undefined
  if (!isObject(e) || typeof e['code'] !== 'string' || typeof e[text] !== 'string') throw argumentInvalid(`${where}.error must be {"code": "...", "${text}": "..."}.`)
  return text === 'description' ? { code: e['code'], description: e['description'] as string } : { code: e['code'], message: e['message'] as string }
}

function parseOutcome (o: Record<string, unknown>, i: number): EdgeOutcome {
  const where = `outcomes[${i}]`
  const deviceId = o['deviceId']
  if (typeof deviceId !== 'string' || deviceId === '') throw argumentInvalid(`${where}.deviceId is required.`)
  const status = o['status']
  if (status !== 'running' && status !== 'completed' && status !== 'failed' && status !== 'canceled') throw argumentInvalid(`${where}.status must be running (progress) or completed, failed or canceled (a final device job status).`)
  const out: EdgeOutcome = { deviceId, status }
  const st = optString(o, 'startTimeUtc', where); if (st !== undefined) out.startTimeUtc = st
  const et = optString(o, 'endTimeUtc', where); if (et !== undefined) out.endTimeUtc = et
  const err = errorOf(o, where, 'description') as EdgeOutcome['error']
  if (err !== undefined) out.error = err
  const oc = o['outcome']
  if (oc !== undefined && oc !== null) {
    const r = isObject(oc) ? oc['deviceMethodResponse'] : undefined
    if (!isObject(oc) || (r !== null && r !== undefined && !(isObject(r) && typeof r['status'] === 'number'))) throw argumentInvalid(`${where}.outcome must be {"deviceMethodResponse": {"status": 200, "payload": ...} | null}.`)
    out.outcome = { deviceMethodResponse: r === null || r === undefined ? null : { status: r['status'] as number, payload: (r['payload'] ?? null) as JsonValue } }
  }
  return out
}

function parseResult (o: Record<string, unknown>, i: number): EdgeCommandResult {
  const where = `results[${i}]`
  const commandId = o['commandId']
  if (typeof commandId !== 'string' || commandId === '') throw argumentInvalid(`${where}.commandId is required.`)
  const status = o['status']
  if (typeof status !== 'string' || !COMMAND_STATUSES.includes(status as CommandStatus) || !TERMINAL_STATUSES.has(status as CommandStatus)) {
    throw argumentInvalid(`${where}.status must be a final command state (${[...TERMINAL_STATUSES].join(', ')}).`)
  }
  const attempts = o['attempts'] ?? 0
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0) throw argumentInvalid(`${where}.attempts must be a non-negative integer.`)
  const out: EdgeCommandResult = { commandId, status: status as CommandStatus, attempts }
  const sr = optString(o, 'statusReason', where); if (sr !== undefined) out.statusReason = sr
  const st = optString(o, 'startTimeUtc', where); if (st !== undefined) out.startTimeUtc = st
  const et = optString(o, 'endTimeUtc', where); if (et !== undefined) out.endTimeUtc = et
  const err = errorOf(o, where, 'message') as EdgeCommandResult['error']
  if (err !== undefined) out.error = err
  const r = o['response']
  if (r !== undefined && r !== null) {
    if (!isObject(r) || typeof r['status'] !== 'number') throw argumentInvalid(`${where}.response must be {"status": 200, "payload": ...}.`)
    out.response = { status: r['status'], payload: (r['payload'] ?? null) as JsonValue }
  }
  return out
}

async function wrap<T> (fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof CommandError) throw new HttpError(err.httpStatus, err.errorName, err.message)
    throw err
  }
}

export function edgeRoutes (hub: Hub): Route[] {
  const edge = (params: Record<string, string>): string => hub.delegation.mustGetEdge(params['edgeId'] as string).edgeId
  return [
    {
      method: 'PUT', pattern: '/edges/{edgeId}/delegation', need: 'RegistryWrite',
      handle: async ({ req, res, params }) => { req.resume(); sendJson(res, 200, { ...await hub.delegation.register(params['edgeId'] as string), jobs: true, commands: true }) }
    },
    {
      method: 'DELETE', pattern: '/edges/{edgeId}/delegation', need: 'RegistryWrite',
      handle: async ({ req, res, params }) => { req.resume(); await hub.delegation.unregister(params['edgeId'] as string); sendNoContent(res) }
    },
    {
      method: 'GET', pattern: '/edges/{edgeId}/jobs', need: 'RegistryRead',
      handle: async ({ req, res, params }) => { req.resume(); sendJson(res, 200, hub.jobs.edgeJobs(edge(params))) }
    },
    {
      method: 'POST', pattern: '/edges/{edgeId}/jobs/{jobId}/claim', need: 'RegistryWrite',
      handle: async ({ req, res, params }) => {
        const ids = stringList(await readJson(req, 1024 * 1024), 'deviceIds')
        sendJson(res, 200, await hub.jobs.claimForEdge(params['jobId'] as string, edge(params), ids))
      }
    },
    {
      method: 'POST', pattern: '/edges/{edgeId}/jobs/{jobId}/results', need: 'RegistryWrite',
      handle: async ({ req, res, params }) => {
        const outcomes = objectList(await readJson(req, 8 * 1024 * 1024), 'outcomes').map(parseOutcome)
        sendJson(res, 200, await hub.jobs.recordEdgeOutcomes(params['jobId'] as string, edge(params), outcomes))
      }
    },
    {
      method: 'GET', pattern: '/edges/{edgeId}/commands', need: 'ServiceConnect',
      handle: async ({ req, res, params }) => { req.resume(); sendJson(res, 200, hub.commands.edgeCommands(edge(params))) }
    },
    {
      method: 'POST', pattern: '/edges/{edgeId}/commands/claim', need: 'ServiceConnect',
      handle: async ({ req, res, params }) => {
        const ids = stringList(await readJson(req, 1024 * 1024), 'commandIds')
        sendJson(res, 200, { claimed: await wrap(() => hub.commands.claimForEdge(edge(params), ids)) })
      }
    },
    {
      method: 'POST', pattern: '/edges/{edgeId}/commands/results', need: 'ServiceConnect',
      handle: async ({ req, res, params }) => {
        const results = objectList(await readJson(req, 8 * 1024 * 1024), 'results').map(parseResult)
        sendJson(res, 200, await wrap(() => hub.commands.recordEdgeResults(edge(params), results)))
      }
    }
  ]
}
