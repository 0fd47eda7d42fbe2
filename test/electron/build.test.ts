// `electron-vite build` produces what the desktop app loads: an ESM main, a sandbox-ready
// CJS preload that requires only 'electron', and a renderer page under a strict CSP.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

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

  it('preload exposes only window.hub, whose status() invokes hub.status', async () => {
    const exposed: Record<string, unknown> = {}
    const invoked: unknown[][] = []
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => { exposed[key] = api } },
      ipcRenderer: { invoke: (...args: unknown[]) => { invoked.push(args); return Promise.resolve({ state: 'starting' }) } }
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
    expect(Object.keys(hub)).toEqual(['status'])
    await expect((hub['status'] as () => Promise<unknown>)()).resolves.toEqual({ state: 'starting' })
    expect(invoked).toEqual([['hub.status']])
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
