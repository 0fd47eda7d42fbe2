// Helpers for the UI tests: a real in-process hub with its UI server, and the renderer's
// own WebSocket client (lib/ws-hub.ts) driven from Node with the ws package.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { startUiServer, type UiServer } from '../../src/main/hub/api/ui/server.js'
import { describeEndpoints } from '../../src/main/hub/api/ui/status.js'
import { createWsHub, type WsHub } from '../../src/renderer/src/lib/ws-hub.js'
import { startHubInProcess, type Defer, type InProcessHub } from '../helpers/hub.js'

export interface UiHub { hub: InProcessHub; ui: UiServer; client: () => WsHub }

export async function startUiHub (defer: Defer, opts: { staticDir?: string; intervalMs?: number } = {}): Promise<UiHub> {
  const hub = await startHubInProcess({ defer })
  let staticDir = opts.staticDir
  if (staticDir === undefined) {
    staticDir = mkdtempSync(join(tmpdir(), 'sitehub-ui-static-'))
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>fake ui</title>')
    const dir = staticDir
    defer(() => { rmSync(dir, { recursive: true, force: true }) })
  }
  const ui = await startUiServer({
    hub: hub.hub, bind: hub.bind, port: 0, staticDir,
    ...(opts.intervalMs === undefined ? {} : { intervalMs: opts.intervalMs }),
    status: () => ({ state: 'running', endpoints: describeEndpoints(hub.endpoints), devices: hub.hub.registry.count().total, connected: hub.hub.connections.count() })
  })
  defer(() => ui.close())
  return {
    hub,
    ui,
    client () {
      const c = createWsHub(`${ui.url.replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
      defer(() => { c.close() })
      return c
    }
  }
}
