// Ready-made device management queries over REST (a Sitehub extension, docs/firmware.md):
//   GET /reports          the catalogue (name, title, description, kind, query)
//   GET /reports/{name}   run one: {name, title, kind, query, generatedAt, rows}
import { ReportNotFoundError } from '../../reports/index.js'
import type { Hub } from '../../services.js'
import { HttpError, sendJson } from './http.js'
import type { Route } from './router.js'

export function reportRoutes (hub: Hub): Route[] {
  return [
    {
      method: 'GET', pattern: '/reports', need: 'ServiceConnect',
      async handle ({ res }) { sendJson(res, 200, hub.reports.list()) }
    },
    {
      method: 'GET', pattern: '/reports/{name}', need: 'ServiceConnect',
      async handle ({ res, params }) {
        try {
          sendJson(res, 200, hub.reports.run(params['name'] ?? ''))
        } catch (err) {
          if (err instanceof ReportNotFoundError) throw new HttpError(404, err.errorName, err.message)
          throw err
        }
      }
    }
  ]
}
