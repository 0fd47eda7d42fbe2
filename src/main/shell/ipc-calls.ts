// One IPC call from the desktop window to the hub, without Electron (so it is testable in
// plain Node): the same UI API as the browser's WebSocket, with the window as a local caller
// (it may run the first-run setup) and the session token the renderer sends as the third argument.
import { fail, ok, type HubStatus, type Result } from '../../shared/contract/index.js'
import { desktopCaller } from '../hub/api/ui/caller.js'
import { createUiApi, type UiApi } from '../hub/api/ui/handlers.js'
import type { Hub } from '../hub/services.js'

export interface CallDeps {
  status: () => HubStatus
  /** The running hub, once it is running. */
  hub: () => Hub | undefined
}

/** Handles one call. */
export function createCallHandler (deps: CallDeps): (method: unknown, input: unknown, token?: unknown) => Promise<Result<unknown>> {
  let api: { hub: Hub; api: UiApi } | undefined
  return async (method, input, token) => {
    const hub = deps.hub()
    // Before the hub runs there is nothing to protect, and the window shows why it waits.
    if (hub === undefined && method === 'hub.status') return ok(deps.status())
    if (hub === undefined) return fail(503001, 'ServiceUnavailable', 'The hub is not running yet (see its status)')
    if (api?.hub !== hub) api = { hub, api: createUiApi({ hub, status: deps.status }) }
    return api.api.handle(method, input, desktopCaller(typeof token === 'string' ? token : undefined))
  }
}

