// Helpers for the UI tests: a real in-process hub with its UI server, and the renderer's
// own WebSocket client (lib/ws-hub.ts) driven from Node with the ws package. The hub starts
// with an admin account (unless `accounts: false`): `client()` is signed in as that admin,
// `client(role)` as an account of that role; `signIn(page, env, role?)` signs a browser in.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import WebSocket from 'ws'
import { authServicesFor } from '../../src/main/hub/accounts/index.js'
import type { Role } from '../../src/shared/contract/index.js'
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

export interface UiHub {
  hub: InProcessHub
  ui: UiServer
  /** A WebSocket client signed in as `role` (default admin); `null`: not signed in. */
  client: (role?: Role | null) => WsHub
  /** Name and password of the test account for `role` (created on first use). */
  account: (role?: Role) => Promise<{ name: string; password: string }>
}

/** Test accounts: one per role, named after it. */
export const TEST_PASSWORD = 'correct horse battery'
export const accountName = (role: Role): string => `test-${role}`

export async function startUiHub (defer: Defer, opts: { staticDir?: string; intervalMs?: number; accounts?: boolean } = {}): Promise<UiHub> {
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
  const auth = authServicesFor(hub.hub)
  async function account (role: Role = 'admin'): Promise<{ name: string; password: string }> {
    const name = accountName(role)
    if (auth.accounts.get(name) === undefined) await auth.accounts.create(name, role, TEST_PASSWORD)
    return { name, password: TEST_PASSWORD }
  }
  if (opts.accounts !== false) await account('admin')
  const pending = new Map<Role, Promise<unknown>>()
  return {
    hub,
    ui,
    account,
    client (role: Role | null = 'admin') {
      const c = createWsHub(`${ui.url.replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
      defer(() => { c.close() })
      if (role !== null) {
        const name = accountName(role)
        if (auth.accounts.get(name) !== undefined) c.setToken(auth.sessions.create(name).token)
        else {
          // Accounts are created asynchronously (scrypt): hold calls until the token is set.
          const ready = pending.get(role) ?? account(role)
          pending.set(role, ready)
          const call = c.call.bind(c)
          let signed: Promise<void> | undefined
          c.call = (async (method: never, input: never, token?: string) => {
            signed ??= ready.then(() => { c.setToken(auth.sessions.create(name).token) })
            await signed
            return await call(method, input, token)
          }) as WsHub['call']
        }
      }
      return c
    }
  }
}

/**
 * Signs the page in through the sign-in screen as the test account of `role` (created if
 * needed), then waits for the app to be ready. Returns the account.
 */
export async function signIn (page: Page, env: Pick<UiHub, 'account' | 'ui'>, role: Role = 'admin'): Promise<{ name: string; password: string }> {
  const acc = await env.account(role)
  if (!page.url().startsWith(env.ui.url)) await page.goto(env.ui.url)
  const form = page.getByTestId('signin-form')
  await page.locator('body[data-auth="signIn"], body[data-auth="signedIn"]').first().waitFor({ timeout: 60_000 })
  if (await page.locator('body[data-auth="signedIn"]').count() > 0) {
    // Someone is signed in already: sign out first unless it is the same account.
    if ((await page.getByTestId('signed-in-user').innerText()).includes(acc.name)) return acc
    await page.getByTestId('sign-out').click()
  }
  await form.waitFor()
  await page.getByTestId('signin-name').fill(acc.name)
  await page.getByTestId('signin-password').fill(acc.password)
  await page.getByTestId('signin-submit').click()
  await page.locator('body[data-auth="signedIn"][data-ready="true"]').waitFor({ timeout: 60_000 })
  return acc
}
