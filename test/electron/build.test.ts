// `electron-vite build` produces what the desktop app loads: an ESM main, a sandbox-ready
// CJS preload that requires only 'electron', and a renderer page under a strict CSP.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runInNewContext } from 'node:vm'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { FleetSummary, HubStatus } from '../../src/shared/contract/index.js'

const repo = join(import.meta.dirname, '../..')
// A private output dir: the build under test never races a developer's `out/`.
const out = mkdtempSync(join(tmpdir(), 'sitehub-build-'))
const read = (p: string): string => readFileSync(join(out, p), 'utf8')

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(repo, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', out], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }
  })
  if (r.status !== 0) throw new Error(`electron-vite build failed (${String(r.status)}):\n${r.stdout}\n${r.stderr}`)
}, 180_000)

afterAll(() => { rmSync(out, { recursive: true, force: true }) })

describe('electron-vite build output', () => {
  it('has the main, preload and renderer entry files', () => {
    for (const f of ['main/index.js', 'preload/index.cjs', 'renderer/index.html']) expect(existsSync(join(out, f)), f).toBe(true)
    expect(existsSync(join(out, 'preload/index.mjs'))).toBe(false)
    const assets = readdirSync(join(out, 'renderer/assets'))
    expect(assets.some(a => a.endsWith('.js'))).toBe(true)
    expect(assets.some(a => a.endsWith('.css'))).toBe(true)
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { main: string }
    expect(pkg.main).toBe('./out/main/index.js')
  })

  it('main is ESM, loads electron from the runtime and points the window at index.cjs', () => {
    const main = read('main/index.js')
    expect(main).toMatch(/^import .* from "electron";$/m)
    expect(main).toContain('../preload/index.cjs')
    expect(main).toContain('../renderer/index.html')
  })

  it('preload is one CommonJS file that requires only electron', () => {
    const preload = read('preload/index.cjs')
    expect(preload).not.toMatch(/^\s*(import|export)\s/m)
    expect(preload).not.toContain('import.meta')
    const required = [...preload.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map(m => m[1])
    expect(required.length).toBeGreaterThan(0)
    expect(new Set(required)).toEqual(new Set(['electron']))
    expect(readdirSync(join(out, 'preload'))).toEqual(['index.cjs'])
  })

  it('preload exposes only window.hub: call() invokes hub.call, subscribe() listens on hub.events', async () => {
    const exposed: Record<string, unknown> = {}
    const invoked: unknown[][] = []
    const listeners: Array<[string, (...a: unknown[]) => void]> = []
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => { exposed[key] = api } },
      ipcRenderer: {
        invoke: (...args: unknown[]) => { invoked.push(args); return Promise.resolve({ ok: true, value: { state: 'starting' } }) },
        on: (ch: string, fn: (...a: unknown[]) => void) => { listeners.push([ch, fn]) },
        off: (ch: string, fn: (...a: unknown[]) => void) => { const i = listeners.findIndex(l => l[0] === ch && l[1] === fn); if (i >= 0) listeners.splice(i, 1) }
      }
    }
    const module = { exports: {} }
    // What a sandboxed preload gets: a require that knows 'electron' (and a few polyfills), no Node.
    const sandboxRequire = (id: string): unknown => {
      if (id === 'electron') return electron
      throw new Error(`sandboxed preload cannot require '${id}'`)
    }
    runInNewContext(read('preload/index.cjs'), { require: sandboxRequire, module, exports: module.exports })
    expect(Object.keys(exposed)).toEqual(['hub'])
    const hub = exposed['hub'] as Record<string, unknown>
    expect(Object.keys(hub)).toEqual(['call', 'subscribe'])
    await expect((hub['call'] as (m: string, i: unknown, t?: string) => Promise<unknown>)('hub.status', undefined, 'session-token')).resolves.toEqual({ ok: true, value: { state: 'starting' } })
    // the session token goes along as the third argument (main checks it like the UI server does)
    expect(invoked).toEqual([['hub.call', 'hub.status', undefined, 'session-token']])
    // the listener gets the batch without the IpcRendererEvent; unsubscribe removes it
    const got: unknown[] = []
    const off = (hub['subscribe'] as (l: (e: unknown) => void) => () => void)(e => { got.push(e) })
    expect(listeners.map(l => l[0])).toEqual(['hub.events'])
    listeners[0]?.[1]({ sender: 'x' }, [{ type: 'resync', reason: 'test' }])
    expect(got).toEqual([[{ type: 'resync', reason: 'test' }]])
    off()
    expect(listeners).toEqual([])
  })

  it('renderer page carries the strict CSP and loads only relative, external assets', () => {
    const html = read('renderer/index.html')
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1]?.replaceAll('&#39;', "'")
    expect(csp).toBeDefined()
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    // Inline scripts would be blocked by the CSP; file:// needs relative URLs.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(m[1]).toMatch(/^\.\/assets\//)
  })
})

// The built page under its own CSP, in Debian's Chromium (the Electron binary is not
// available here). addInitScript stands in for the preload's contextBridge.
describe('renderer page in Chromium', () => {
  async function openPage (hubStatus?: HubStatus, fleet?: FleetSummary) {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--disable-quic', '--allow-file-access-from-files']
    })
    onTestFinished(() => browser.close())
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', m => { if (m.type() === 'error') problems.push(m.text()) })
    page.on('pageerror', e => { problems.push(e.message) })
    if (hubStatus !== undefined) {
      // Page-side code as strings: this file is type-checked without the DOM lib.
      // Signed in already: a session token in sessionStorage that the fake's auth.status accepts.
      await page.addInitScript({
        content: `window.sessionStorage.setItem('sitehub.session', 'fake-token');
        Object.defineProperty(window, 'hub', { value: {
          call: (m, _i, token) => Promise.resolve(m === 'auth.status' ? { ok: true, value: { setupNeeded: false, setupAllowed: true,
              session: token === 'fake-token' ? { name: 'op', role: 'technician', expiresAt: '2030-01-01T00:00:00.000Z' } : null } }
            : m === 'hub.status' ? { ok: true, value: ${JSON.stringify(hubStatus)} }
            : m === 'fleet.summary' ? { ok: true, value: ${JSON.stringify(fleet ?? null)} }
            : { ok: false, error: { code: 0, name: 'UnknownMethod', message: 'not in this fake' } }),
          subscribe: () => () => {}
        } })`
      })
    }
    await page.goto(pathToFileURL(join(out, 'renderer/index.html')).href)
    return { page, problems }
  }

  it('opened from disk without window.hub, says it needs a hub', async () => {
    const { page, problems } = await openPage()
    await page.getByText('This page needs a Sitehub hub').waitFor()
    expect(problems).toEqual([])
    // The meta CSP is in force: an injected inline script does not run (and is reported).
    const ran = await page.evaluate(`(() => {
      const el = document.createElement('script')
      el.textContent = 'window.inlineRan = true'
      document.head.append(el)
      return window.inlineRan === true
    })()`)
    expect(ran).toBe(false)
    expect(problems.some(p => p.includes('Content Security Policy'))).toBe(true)
  }, 60_000)

  it('with window.hub, shows the fleet counts, firmware chart and endpoints', async () => {
    const { page, problems } = await openPage({
      state: 'running', devices: 12, connected: 7,
      endpoints: [{ name: 'MQTT (TLS)', url: 'mqtts://site-pc:8883' }, { name: 'Service API', url: 'https://site-pc:443' }]
    }, {
      devices: { total: 12, enabled: 11, disabled: 1, connected: 7, disconnected: 5 },
      firmware: [{ version: '1.2.0', devices: 9 }, { version: null, devices: 3 }],
      telemetry: { messages: 0, bytes: 0, dropped: 0 }, alerts: [], devicesWithAlerts: 0, configurations: [], offlineMinutes: 15,
      store: { usedBytes: 1000, parts: { store: 400, telemetry: 500, firmware: 100, other: 0 }, limitBytes: 10000, quotaBytes: null, percent: 10, warnPercent: 80, diskFreeBytes: 9000, diskTotalBytes: 20000, measuredAt: '2026-01-01T00:00:00Z' }
    })
    await page.getByTestId('count-connected').waitFor()
    expect(await page.getByTestId('count-connected').innerText()).toBe('7')
    expect(await page.getByTestId('count-disabled').innerText()).toBe('1')
    expect(await page.getByTestId('hub-state').innerText()).toContain('7/12')
    expect(await page.locator('svg.chart').innerHTML()).toContain('1.2.0')
    expect(await page.getByTestId('endpoints').innerText()).toContain('mqtts://site-pc:8883')
    expect(problems).toEqual([])
  }, 60_000)
})
