// Helpers for the UI tests: a real in-process hub with its UI server, and the renderer's
// own WebSocket client (lib/ws-hub.ts) driven from Node with the ws package.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { startUiServer, type UiServer } from '../../src/main/hub/api/ui/server.js'
import { describeEndpoints } from '../../src/main/hub/api/ui/status.js'
import { createWsHub, type WsHub } from '../../src/renderer/src/lib/ws-hub.js'
import { REPO_ROOT, startHubInProcess, type Defer, type InProcessHub } from '../helpers/hub.js'

/** Builds the app into a private dir (never racing a developer's out/); returns the renderer dir. */
export function buildRenderer (defer: Defer): string {
  const out = mkdtempSync(join(tmpdir(), 'sitehub-ui-build-'))
  defer(() => { rmSync(out, { recursive: true, force: true }) })
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', out], {
    cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }
  })
  if (r.status !== 0) throw new Error(`electron-vite build failed:\n${r.stdout}\n${r.stderr}`)
  return join(out, 'renderer')
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic']

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
