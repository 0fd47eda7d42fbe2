// Jobs v2 routes (C.6): PUT/GET /jobs/v2/{id}, POST /jobs/v2/{id}/cancel, GET /jobs/v2/query.
// /jobs/v2/query comes before /jobs/v2/{id} so that it is not read as a job id.
import { argumentInvalid } from '../../errors.js'
import type { Hub } from '../../services.js'
import { readJson, sendJson } from './http.js'
import type { Route } from './router.js'

function pageSizeOf (headers: Record<string, string | string[] | undefined>, query: URLSearchParams): number | undefined {
  const raw = headers['x-ms-max-item-count'] ?? query.get('pageSize') ?? undefined
  if (typeof raw !== 'string' || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw argumentInvalid('x-ms-max-item-count (pageSize) must be a positive integer.')
  return n
}

export function jobV2Routes (hub: Hub): Route[] {
  return [
    {
      method: 'GET', pattern: '/jobs/v2/query', need: 'RegistryRead',
      async handle ({ req, res, query }) {
        req.resume()
        const token = req.headers['x-ms-continuation'] ?? query.get('continuationToken') ?? undefined
        const jobType = query.get('jobType') ?? undefined
        const jobStatus = query.get('jobStatus') ?? undefined
        const pageSize = pageSizeOf(req.headers, query)
        const page = hub.jobs.query({
          ...(jobType === undefined || jobType === '' ? {} : { jobType }),
          ...(jobStatus === undefined || jobStatus === '' ? {} : { jobStatus }),
          ...(pageSize === undefined ? {} : { pageSize }),
          ...(typeof token === 'string' && token !== '' ? { continuation: token } : {})
        })
        // [C.4/C.6] a bare array; x-ms-continuation only when more pages follow (an empty one loops the SDK).
        const headers: Record<string, string> = { 'x-ms-item-type': 'jobResponse' }
        if (page.continuation !== undefined) headers['x-ms-continuation'] = page.continuation
        sendJson(res, 200, page.items, headers)
      }
    },
    {
      method: 'PUT', pattern: '/jobs/v2/{jobId}', need: 'RegistryWrite',
      handle: async ({ req, res, params }) => sendJson(res, 200, await hub.jobs.create(params['jobId'] as string, await readJson(req)))
    },
    {
      method: 'GET', pattern: '/jobs/v2/{jobId}', need: 'RegistryRead',
      handle: async ({ req, res, params }) => { req.resume(); sendJson(res, 200, hub.jobs.get(params['jobId'] as string)) }
    },
    {
      method: 'POST', pattern: '/jobs/v2/{jobId}/cancel', need: 'RegistryWrite',
      handle: async ({ req, res, params }) => { req.resume(); sendJson(res, 200, await hub.jobs.cancel(params['jobId'] as string)) }
    }
  ]
}
