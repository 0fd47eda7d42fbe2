// POST /devices/query (C.4): paging with x-ms-max-item-count and x-ms-continuation, the latter
// only when more rows follow (an empty header makes the Node SDK loop forever).
import { argumentInvalid } from '../../errors.js'
import type { Hub } from '../../services.js'
import { readJson, sendJson } from './http.js'
import type { Route } from './router.js'

export function queryRoutes (hub: Hub): Route[] {
  return [{
    method: 'POST', pattern: '/devices/query', need: 'ServiceConnect',
    async handle ({ req, res }) {
      const body = await readJson(req, 64 * 1024)
      const text = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['query'] : undefined
      if (typeof text !== 'string') throw argumentInvalid('The body must be {"query": "SELECT ..."}.')
      const rawSize = req.headers['x-ms-max-item-count']
      let pageSize: number | undefined
      if (typeof rawSize === 'string' && rawSize !== '') {
        pageSize = Number(rawSize)
        if (!Number.isInteger(pageSize) || pageSize < 1) throw argumentInvalid('x-ms-max-item-count must be a positive integer.')
      }
      const token = req.headers['x-ms-continuation']
      const options = {
        ...(pageSize === undefined ? {} : { pageSize }),
        ...(typeof token === 'string' && token !== '' ? { continuation: token } : {})
      }
      const page = hub.query.query(text, options)
      const headers: Record<string, string> = { 'x-ms-item-type': hub.query.itemType(text) }
      if (page.continuation !== undefined) headers['x-ms-continuation'] = page.continuation
      sendJson(res, 200, page.items, headers)
    }
  }]
}
