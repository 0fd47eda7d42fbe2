// Automatic device configuration routes (C.7): PUT/GET/DELETE /configurations/{id},
// GET /configurations, POST /configurations/testQueries.
import { argumentInvalid } from '../../errors.js'
import type { Hub } from '../../services.js'
import { ifMatch, readJson, sendJson, sendNoContent } from './http.js'
import type { Route } from './router.js'

export function configurationRoutes (hub: Hub): Route[] {
  return [
    {
      method: 'POST', pattern: '/configurations/testQueries', need: 'RegistryRead',
      handle: async ({ req, res }) => sendJson(res, 200, hub.configurations.testQueries(await readJson(req)))
    },
    {
      method: 'PUT', pattern: '/configurations/{id}', need: 'RegistryWrite',
      handle: async ({ req, res, params }) => {
        const body = await readJson(req)
        if (body === undefined) throw argumentInvalid('The configuration body is empty.')
        const { configuration, created } = await hub.configurations.put(params['id'] as string, body, ifMatch(req))
        sendJson(res, created ? 201 : 200, configuration)
      }
    },
    {
      method: 'GET', pattern: '/configurations/{id}', need: 'RegistryRead',
      handle: async ({ res, params }) => sendJson(res, 200, hub.configurations.mustGet(params['id'] as string))
    },
    {
      method: 'GET', pattern: '/configurations', need: 'RegistryRead',
      handle: async ({ res, query }) => {
        const t = query.get('top')
        let top: number | undefined
        if (t !== null) {
          top = Number(t)
          if (!Number.isInteger(top) || top < 1) throw argumentInvalid('top must be a positive integer.')
        }
        sendJson(res, 200, hub.configurations.list(top))
      }
    },
    {
      method: 'DELETE', pattern: '/configurations/{id}', need: 'RegistryWrite',
      handle: async ({ req, res, params }) => {
        await hub.configurations.remove(params['id'] as string, ifMatch(req))
        sendNoContent(res)
      }
    }
  ]
}
