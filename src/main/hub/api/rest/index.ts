// The service REST API (IoT Hub dialect, protocol C) on the HTTPS listener.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Hub } from '../../services.js'
import { auditedRest, isRestChange } from './audit.js'
import { HttpError, sendError } from './http.js'
import { createRouter, type Route } from './router.js'
import { bulkRoutes } from './routes-bulk.js'
import { commandRoutes } from './routes-commands.js'
import { configurationRoutes } from './routes-configurations.js'
import { edgeRoutes } from './routes-edges.js'
import { firmwareRoutes } from './routes-firmware.js'
import { reportRoutes } from './routes-reports.js'
import { ioJobRoutes } from './routes-jobs.js'
import { jobV2Routes } from './routes-jobs-v2.js'
import { queryRoutes } from './routes-query.js'
import { registryRoutes } from './routes-registry.js'
import { syncRoutes } from './routes-sync.js'
import { twinRoutes } from './routes-twins.js'

export function createRestHandler (hub: Hub, extra: Route[] = []): (req: IncomingMessage, res: ServerResponse) => void {
  const router = createRouter([...registryRoutes(hub), ...bulkRoutes(hub), ...queryRoutes(hub), ...twinRoutes(hub), ...commandRoutes(hub), ...configurationRoutes(hub), ...jobV2Routes(hub), ...ioJobRoutes(hub), ...firmwareRoutes(hub), ...reportRoutes(hub), ...edgeRoutes(hub), ...syncRoutes(hub), ...extra])
  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!(err instanceof Error) || !('errorName' in err)) hub.logger.error('REST handler failed', { url: req.url, error: String((err as Error)?.stack ?? err) })
      sendError(res, err)
    })
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'https://hub')
    } catch {
      throw new HttpError(400, 'ArgumentInvalid', 'The request URL is malformed.')
    }
    const found = router.match(req.method ?? 'GET', url.pathname)
    if ('error' in found) {
      req.resume()
      throw found.error === 404
        ? new HttpError(404, 'NotFound', `No such resource: ${req.method} ${url.pathname}.`)
        : new HttpError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${url.pathname}.`)
    }
    // Device-facing routes (firmware download) authenticate the device themselves.
    if (found.route.need === 'DeviceConnect') {
      await found.route.handle({ req, res, params: found.params, query: url.searchParams })
      return
    }
    const auth = req.headers.authorization
    if (auth === undefined || auth === '') {
      req.resume()
      throw new HttpError(401, 'IotHubUnauthorizedAccess', 'Unauthorized: the Authorization header with a SharedAccessSignature is missing.')
    }
    const verdict = hub.registry.authenticateService(auth, found.route.need)
    if (!verdict.ok) {
      req.resume()
      throw new HttpError(401, 'IotHubUnauthorizedAccess', `Unauthorized: ${verdict.reason}.`)
    }
    const ctx = { req, res, params: found.params, query: url.searchParams, policy: verdict.policy.keyName }
    if (!isRestChange(found.route)) {
      await found.route.handle(ctx)
      return
    }
    const who = { policy: verdict.policy.keyName, address: req.socket.remoteAddress ?? '', status: () => res.statusCode }
    await auditedRest(hub, found.route, found.params, who, () => found.route.handle(ctx))
  }
}
