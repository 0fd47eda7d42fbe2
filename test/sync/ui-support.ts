// Two hubs for the sync UI tests: a cloud-role hub behind a pausable proxy, an edge hub with
// its UI server (the real WebSocket API and, when given, the built renderer) and test
// accounts (test/ui/support.ts conventions: `client(role)` is signed in, `signIn(page, env)`
// works). Sync is not configured: the tests do that through the UI.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import iothub from 'azure-iothub'
import WebSocket from 'ws'
import { authServicesFor } from '../../src/main/hub/accounts/index.js'
import { startUiServer, type UiServer } from '../../src/main/hub/api/ui/server.js'
import { createWsHub, type WsHub } from '../../src/renderer/src/lib/ws-hub.js'
import type { Role } from '../../src/shared/contract/index.js'
import type { Defer } from '../helpers/hub.js'
import { accountName, TEST_PASSWORD } from '../ui/support.js'
import { FAST_SYNC, startCloudBehindProxy, startTestHub, testCa, type Proxy, type TestHub } from './harness.js'

const { Registry } = iothub
export type Reg = InstanceType<typeof Registry>

export interface SyncUiEnv {
  cloud: TestHub
  edge: TestHub
  proxy: Proxy
  ui: UiServer
  ca: string
  /** The edge's upstream: the cloud's owner policy, addressed through the proxy. */
  upstreamCs: string
  /** A back end at the cloud (azure-iothub), reaching it directly, never through the proxy. */
  cloudReg: Reg
  cloudCs: string
  /** A WebSocket client signed in as the test account of `role` (default admin). */
  client(role?: Role): Promise<WsHub>
  /** Name and password of the test account for `role` (created on first use). */
  account(role?: Role): Promise<{ name: string; password: string }>
}

export async function startSyncUi (defer: Defer, opts: { staticDir?: string } = {}): Promise<SyncUiEnv> {
  const { cloud, proxy, cloudCs } = await startCloudBehindProxy(defer)
  const edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
  defer(() => edge.close())
  let staticDir = opts.staticDir
  if (staticDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-ui-static-'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>fake ui</title>')
    defer(() => { rmSync(dir, { recursive: true, force: true }) })
    staticDir = dir
  }
  const hub = edge.running.hub
  const ui = await startUiServer({
    hub, bind: edge.ip, port: 0, staticDir,
    status: () => ({ state: 'running', endpoints: [], devices: hub.registry.count().total, connected: hub.connections.count() })
  })
  defer(() => ui.close())
  const auth = authServicesFor(hub)
  async function account (role: Role = 'admin'): Promise<{ name: string; password: string }> {
    const name = accountName(role)
    if (auth.accounts.get(name) === undefined) await auth.accounts.create(name, role, TEST_PASSWORD)
    return { name, password: TEST_PASSWORD }
  }
  return {
    cloud, edge, proxy, ui, ca: testCa(), cloudCs, account,
    upstreamCs: cloud.running.hub.registry.policies.connectionString('iothubowner'),
    cloudReg: Registry.fromConnectionString(cloudCs),
    async client (role: Role = 'admin') {
      const { name } = await account(role)
      const c = createWsHub(`${ui.url.replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
      defer(() => { c.close() })
      c.setToken(auth.sessions.create(name).token)
      return c
    }
  }
}

export { FAST_SYNC }
