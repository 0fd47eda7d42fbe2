// Main side of the contract over IPC: the same UI API the headless UI server uses
// (hub/api/ui), answering only our own window, with Result envelopes (a throwing handler
// would reach the renderer as a bare message). The renderer signs in like a browser does and
// sends its session token with every call; the window counts as a local caller (it may run
// the first-run setup). Events go out as coalesced batches.
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron'
import { fail, IPC, type HubStatus, type Result } from '../../shared/contract/index.js'
import { createEventCoalescer } from '../hub/api/ui/events.js'
import { serialStatusViews } from '../hub/api/ui/site-handlers.js'
import type { Hub } from '../hub/services.js'
import { createCallHandler } from './ipc-calls.js'

export { createCallHandler }

export interface IpcDeps {
  isTrustedSender: (e: IpcMainInvokeEvent) => boolean
  status: () => HubStatus
  /** The running hub, once it is running. */
  hub: () => Hub | undefined
}

export function registerIpc (deps: IpcDeps): void {
  const call = createCallHandler(deps)
  ipcMain.handle(IPC.call, async (event, method: unknown, input: unknown, token: unknown): Promise<Result<unknown>> => {
    if (!deps.isTrustedSender(event)) return fail(401003, 'IotHubUnauthorized', 'This window is not the Sitehub window')
    return call(method, input, token)
  })
}

/** Streams the hub's coalesced events to a window until the returned function is called. */
export function forwardEvents (hub: Hub, target: () => WebContents | undefined): () => void {
  const c = createEventCoalescer({
    events: hub.events,
    clock: hub.clock,
    sync: hub,
    serialStatus: () => serialStatusViews(hub),
    onBatch: (events) => {
      const wc = target()
      if (wc !== undefined && !wc.isDestroyed()) wc.send(IPC.events, events)
    }
  })
  return () => c.close()
}
