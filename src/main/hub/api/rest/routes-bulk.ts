// Bulk registry operations: POST /devices with 1-100 ExportImportDevice items (C.2).
// Items are applied one by one, in order; a failing item does not undo the others
// (IoT Hub's partial-success rule is unverified; per-item errors tell the caller exactly what failed).
import { HubError, argumentInvalid } from '../../errors.js'
import { applyImportItem } from '../../registry/import-item.js'
import type { Hub } from '../../services.js'
import { readJson, sendJson } from './http.js'
import type { Route } from './router.js'

export interface BulkError { deviceId: string; errorCode: string; errorStatus: string }

export function bulkRoutes (hub: Hub): Route[] {
  return [{
    method: 'POST', pattern: '/devices', need: 'RegistryWrite',
    async handle ({ req, res }) {
      const body = await readJson(req, 1024 * 1024)
      if (!Array.isArray(body) || body.length === 0 || body.length > 100) throw argumentInvalid('A bulk request is a JSON array of 1 to 100 devices.')
      const errors: BulkError[] = []
      for (const item of body) {
        const id = typeof item === 'object' && item !== null ? String((item as Record<string, unknown>)['id'] ?? '') : ''
        try {
          await applyImportItem(hub, item, 'create')
        } catch (err) {
          if (!(err instanceof HubError)) throw err
          errors.push({ deviceId: id, errorCode: err.errorName, errorStatus: err.message })
        }
      }
      sendJson(res, errors.length === 0 ? 200 : 400, { isSuccessful: errors.length === 0, errors, warnings: [] })
    }
  }]
}
