// Registry import/export job routes (C.2): POST /jobs/create, GET /jobs, GET/DELETE /jobs/{id}.
import type { Hub } from '../../services.js'
import { readJson, sendJson } from './http.js'
import type { Route } from './router.js'

export function ioJobRoutes (hub: Hub): Route[] {
  return [
    { method: 'POST', pattern: '/jobs/create', need: 'RegistryWrite', handle: async ({ req, res }) => sendJson(res, 200, await hub.ioJobs.create(await readJson(req))) },
    { method: 'GET', pattern: '/jobs', need: 'RegistryRead', handle: async ({ res }) => sendJson(res, 200, hub.ioJobs.list()) },
    { method: 'GET', pattern: '/jobs/{jobId}', need: 'RegistryRead', handle: async ({ res, params }) => sendJson(res, 200, hub.ioJobs.get(params['jobId'] as string)) },
    { method: 'DELETE', pattern: '/jobs/{jobId}', need: 'RegistryWrite', handle: async ({ res, params }) => sendJson(res, 200, await hub.ioJobs.cancel(params['jobId'] as string)) }
  ]
}
