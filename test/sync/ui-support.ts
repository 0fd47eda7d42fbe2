// Two hubs for the sync UI tests: a cloud-role hub behind a pausable proxy, an edge hub with
// its UI server (the real WebSocket API and, when given, the built renderer). Sync is not
// configured: the tests do that through the UI.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import iothub from 'azure-iothub'
import WebSocket from 'ws'
import { startUiServer, type UiServer } from '../../src/main/hub/api/ui/server.js'
import { createWsHub, type WsHub } from '../../src/renderer/src/lib/ws-hub.js'
import type { Defer } from '../helpers/hub.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, type Proxy, type TestHub } from './harness.js'

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
  client(): WsHub
}

export async function startSyncUi (defer: Defer, opts: { staticDir?: string } = {}): Promise<SyncUiEnv> {
  const cloudIp = randomLoopbackIp()
  const proxyIp = randomLoopbackIp()
  const cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
  defer(() => cloud.close())
  const proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
  defer(() => proxy.close())
  const key = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string
  const cloudCs = `HostName=${cloudIp};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`
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
  return {
    cloud, edge, proxy, ui, ca: testCa(), cloudCs,
    upstreamCs: cloud.running.hub.registry.policies.connectionString('iothubowner'),
    cloudReg: Registry.fromConnectionString(cloudCs),
    client () {
      const c = createWsHub(`${ui.url.replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
      defer(() => { c.close() })
      return c
    }
  }
}

export { FAST_SYNC }
