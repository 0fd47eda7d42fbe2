// Commands reach a hub through its admin socket when it runs, and otherwise open the data
// dir directly (createHub, no listeners) and run the same admin methods in process.
import { existsSync } from 'node:fs'
import { createAdminClient, HubNotRunningError } from '../hub/admin/client.js'
import type { AdminMethodName, AdminParams, AdminResult } from '../hub/admin/protocol.js'
import { CliError } from './errors.js'
import { readServeSettings } from './serve-config.js'

export interface HubAccess {
  /** 'running': through the admin socket of a running hub; 'offline': the data dir opened in this process. */
  readonly mode: 'running' | 'offline'
  call<M extends AdminMethodName>(method: M, params: AdminParams<M>): Promise<AdminResult<M>>
  close(): Promise<void>
}

export async function openHubAccess (dataDir: string): Promise<HubAccess> {
  try {
    const client = await createAdminClient(dataDir)
    return { mode: 'running', call: client.call, close: client.close }
  } catch (err) {
    if (!(err instanceof HubNotRunningError)) throw err
  }
  if (!existsSync(dataDir)) {
    throw new CliError(`there is no Sitehub data directory at ${dataDir}; start a hub there first ` +
      `('sitehub serve --data-dir ${dataDir}'), or create the folder to set up devices before the first start`)
  }
  // Loaded only here: the hub core is the slow part of starting the CLI.
  const [{ createHub }, { createAdminDispatcher }, { createLogger }] = await Promise.all([
    import('../hub/index.js'), import('../hub/admin/handlers.js'), import('../hub/logger.js')
  ])
  const logger = createLogger({ level: 'warn' })
  const hub = await createHub({ config: { dataDir, ...await readServeSettings(dataDir) }, logger })
  const { dispatch } = createAdminDispatcher(hub)
  return {
    mode: 'offline',
    call: async (method, params) => await dispatch(method, params) as never,
    close: async () => { await hub.close(); logger.close() }
  }
}

/** Opens the hub, runs `fn`, always closes. */
export async function withHub<T> (dataDir: string, fn: (hub: HubAccess) => Promise<T>): Promise<T> {
  const hub = await openHubAccess(dataDir)
  try {
    return await fn(hub)
  } finally {
    await hub.close()
  }
}
