// The Electron-free parts of the desktop shell, checked under plain Node.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parseDesktopArgs } from '../../src/main/shell/args.js'
import { hubStatus } from '../../src/main/shell/status.js'
import { windowOptions } from '../../src/main/shell/window-options.js'
import { isVisibleOn, loadBounds, parseBounds, saveBounds } from '../../src/main/shell/window-state.js'
import { contentSecurityPolicy } from '../../src/shared/csp.js'

describe('windowOptions', () => {
  it('keeps the renderer sandboxed and isolated, without Node', () => {
    const opts = windowOptions('/app/out/preload/index.cjs')
    expect(opts.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false
    })
    expect(opts.show).toBe(false)
  })

  it('applies remembered bounds but never lets them touch webPreferences', () => {
    const opts = windowOptions('/p.cjs', { x: 10, y: 20, width: 900, height: 700 })
    expect(opts).toMatchObject({ x: 10, y: 20, width: 900, height: 700 })
    expect(opts.webPreferences?.sandbox).toBe(true)
  })
})

describe('window bounds', () => {
  it('accepts sane bounds and rejects junk', () => {
    expect(parseBounds({ x: 1, y: 2, width: 800, height: 600, maximized: true }))
      .toEqual({ x: 1, y: 2, width: 800, height: 600, maximized: true })
    expect(parseBounds({ x: 1, y: 2, width: 800 })).toBeUndefined()
    expect(parseBounds({ x: 1.5, y: 2, width: 800, height: 600 })).toBeUndefined()
    expect(parseBounds({ x: 0, y: 0, width: 10, height: 10 })).toBeUndefined()
    expect(parseBounds('nope')).toBeUndefined()
  })

  it('ignores bounds left on a display that is gone', () => {
    const display = { x: 0, y: 0, width: 1920, height: 1080 }
    expect(isVisibleOn({ x: 100, y: 100, width: 800, height: 600, maximized: false }, [display])).toBe(true)
    expect(isVisibleOn({ x: 2500, y: 100, width: 800, height: 600, maximized: false }, [display])).toBe(false)
  })

  it('round-trips through the JSON file and survives a corrupt one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sitehub-bounds-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'window-state.json')
    expect(await loadBounds(file)).toBeUndefined()
    const b = { x: 5, y: 6, width: 1000, height: 700, maximized: false }
    await saveBounds(file, b)
    expect(await loadBounds(file)).toEqual(b)
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(b)
  })
})

describe('desktop arguments', () => {
  it('defaults to what `sitehub serve` uses', () => {
    expect(parseDesktopArgs(['.'])).toEqual({
      dataDir: undefined,
      hub: { hostName: 'localhost', bind: '0.0.0.0', mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'edge' }
    })
  })

  it('reads --data-dir and the listener options, ignoring Chromium switches', () => {
    const a = parseDesktopArgs(['.', '--data-dir', '/d', '--bind', '127.0.0.1', '--mqtts-port', '0', '--https-port=8443', '--mqtt-port', '1883', '--enable-logging'])
    expect(a.dataDir).toBe('/d')
    expect(a.hub).toMatchObject({ bind: '127.0.0.1', mqttsPort: 0, httpsPort: 8443, mqttPort: 1883 })
  })

  it('rejects a bad port with the option name', () => {
    expect(() => parseDesktopArgs(['--https-port', 'abc'])).toThrow(/--https-port/)
  })
})

describe('hub.status', () => {
  it('reports starting, failed and running states as data', () => {
    expect(hubStatus({ state: 'starting' })).toEqual({ state: 'starting', endpoints: [], devices: 0, connected: 0 })
    expect(hubStatus({ state: 'failed', error: 'listen EACCES 0.0.0.0:443' }))
      .toMatchObject({ state: 'failed', error: 'listen EACCES 0.0.0.0:443' })
    const status = hubStatus({
      state: 'running',
      server: {
        hub: { registry: { count: () => ({ total: 12, enabled: 11, disabled: 1 }) }, connections: { count: () => 3 } },
        endpoints: {
          hostName: 'site-pc', bind: '0.0.0.0', mqtts: 'mqtts://site-pc:8883', mqtt: null,
          https: 'https://site-pc:443', websocket: 'wss://site-pc:443/$iothub/websocket',
          dataDir: '/d', caFile: '/d/tls/ca.pem', pid: 1, role: 'edge'
        }
      }
    })
    expect(status).toMatchObject({ state: 'running', devices: 12, connected: 3 })
    expect(status.endpoints.map(e => e.url)).toEqual([
      'mqtts://site-pc:8883', 'wss://site-pc:443/$iothub/websocket', 'https://site-pc:443'
    ])
  })
})

describe('content security policy', () => {
  it('is strict outside dev, and the meta variant drops header-only directives', () => {
    const header = contentSecurityPolicy()
    expect(header).toContain("default-src 'none'")
    expect(header).toContain("script-src 'self'")
    expect(header).toContain("frame-ancestors 'none'")
    expect(header).not.toContain('unsafe')
    expect(contentSecurityPolicy({ meta: true })).not.toContain('frame-ancestors')
    expect(contentSecurityPolicy({ dev: true })).toContain("script-src 'self' 'unsafe-inline'")
  })
})
