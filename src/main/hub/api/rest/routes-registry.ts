// Identity registry routes (C.2): devices, modules, statistics.
import { argumentInvalid } from '../../errors.js'
import { deviceInput } from '../../registry/import-item.js'
import type { Hub } from '../../services.js'
import type { Identity } from '../../types.js'
import { ifMatch, readJson, sendJson, sendNoContent } from './http.js'
import { identityOf, type Route, type RouteContext } from './router.js'

export function registryRoutes (hub: Hub): Route[] {
  const put = async ({ req, res, params }: RouteContext): Promise<void> => {
    const identity = identityOf(params)
    const input = deviceInput(await readJson(req), identity)
    const etag = ifMatch(req)
    // [C.2] create sends no If-Match; update sends one ("*" when forced).
    const doc = etag === undefined
      ? await hub.registry.create(input)
      : await hub.registry.update({ ...input, etag })
    sendJson(res, 200, doc)
  }
  const get = async ({ res, params }: RouteContext): Promise<void> => sendJson(res, 200, hub.registry.mustGet(identityOf(params)))
  const del = async ({ req, res, params }: RouteContext): Promise<void> => {
    await hub.registry.remove(identityOf(params), ifMatch(req))
    sendNoContent(res)
  }
  return [
    { method: 'GET', pattern: '/devices', need: 'RegistryRead', handle: async ({ req, res, query }) => {
      const raw = query.get('top')
      let top: number | undefined
      if (raw !== null) {
        top = Number(raw)
        if (!Number.isInteger(top) || top < 1 || top > 1000) throw argumentInvalid('top must be an integer from 1 to 1000.')
      }
      const cont = req.headers['x-ms-continuation']
      if (top === undefined || (cont === undefined && hub.registry.count().total <= top)) {
        sendJson(res, 200, hub.registry.list(top === undefined ? {} : { top }))
        return
      }
      // Sitehub extension: pages in deviceId order; the x-ms-continuation response header (the
      // last id of the page, opaque to clients) asks for the next page, as the query API does.
      let after = ''
      if (typeof cont === 'string' && cont !== '') {
        try { after = Buffer.from(cont, 'base64url').toString('utf8') } catch { throw argumentInvalid('Invalid x-ms-continuation.') }
      }
      const sorted = hub.registry.list().filter((d) => d.deviceId > after).sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0))
      const page = sorted.slice(0, top)
      const last = page[page.length - 1]
      sendJson(res, 200, page, sorted.length > top && last !== undefined ? { 'x-ms-continuation': Buffer.from(last.deviceId, 'utf8').toString('base64url') } : {})
    } },
    { method: 'PUT', pattern: '/devices/{deviceId}', need: 'RegistryWrite', handle: put },
    { method: 'GET', pattern: '/devices/{deviceId}', need: 'RegistryRead', handle: get },
    { method: 'DELETE', pattern: '/devices/{deviceId}', need: 'RegistryWrite', handle: del },
    { method: 'GET', pattern: '/devices/{deviceId}/modules', need: 'RegistryRead', handle: async ({ res, params }) => sendJson(res, 200, hub.registry.listModules(params['deviceId'] as string)) },
    { method: 'PUT', pattern: '/devices/{deviceId}/modules/{moduleId}', need: 'RegistryWrite', handle: put },
    { method: 'GET', pattern: '/devices/{deviceId}/modules/{moduleId}', need: 'RegistryRead', handle: get },
    { method: 'DELETE', pattern: '/devices/{deviceId}/modules/{moduleId}', need: 'RegistryWrite', handle: del },
    { method: 'GET', pattern: '/statistics/devices', need: 'RegistryRead', handle: async ({ res }) => {
      const c = hub.registry.count()
      sendJson(res, 200, { totalDeviceCount: c.total, enabledDeviceCount: c.enabled, disabledDeviceCount: c.disabled })
    } },
    { method: 'GET', pattern: '/statistics/service', need: 'ServiceConnect', handle: async ({ res }) => {
      sendJson(res, 200, { connectedDeviceCount: hub.connections.list().filter((c) => c.moduleId === undefined).length })
    } }
  ]
}
