// The desktop app's lifecycle (src/main/index.ts) end to end, with the real hub inside.
//
// MOCK, and why: the Electron binary cannot be downloaded on these machines, so `electron`
// is replaced by a stand-in that records what the shell asks of it (app, Menu, Tray,
// BrowserWindow, session, ipcMain, shell, screen). Everything else is real: argument parsing,
// the hub started in-process on the --data-dir, its logs folder and log file, the window-state
// file, the IPC call path. Launching the real window stays a test for a machine with the
// binary (Playwright `_electron`).
import { existsSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { IPC } from '../../src/shared/contract/index.js'
import { waitFor } from '../helpers/hub.js'

type Listener = (...args: unknown[]) => unknown
interface MenuItem { label?: string; role?: string; enabled?: boolean; submenu?: MenuItem[]; click?: () => void }

const fake = vi.hoisted(() => {
  const listeners = new Map<string, Listener[]>()
  const state = {
    lock: true,
    userData: '',
    listeners,
    calls: [] as string[],
    openedPaths: [] as string[],
    menu: [] as MenuItem[],
    trays: [] as Array<{ tooltip: string; menu: MenuItem[]; destroyed: boolean; emit: (e: string) => void }>,
    windows: [] as Array<{ options: Record<string, unknown>; emit: (e: string, ...a: unknown[]) => void; bounds: { x: number; y: number; width: number; height: number }; url: string }>,
    ipc: new Map<string, Listener>(),
    reset () {
      state.lock = true
      listeners.clear()
      state.calls = []
      state.openedPaths = []
      state.menu = []
      state.trays = []
      state.windows = []
      state.ipc.clear()
    },
    emit (event: string, ...args: unknown[]) { for (const fn of listeners.get(event) ?? []) fn(...args) }
  }
  return state
})

vi.mock('electron', () => {
  const on = (target: Map<string, Listener[]>) => (event: string, fn: Listener) => {
    target.set(event, [...(target.get(event) ?? []), fn])
  }
  const app = {
    isPackaged: false,
    requestSingleInstanceLock: () => fake.lock,
    on: on(fake.listeners),
    whenReady: async () => { fake.calls.push('whenReady') },
    getPath: (name: string) => { if (name !== 'userData') throw new Error(name); return fake.userData },
    quit: () => { fake.calls.push('quit') },
    exit: (code: number) => { fake.calls.push(`exit ${code}`) },
    setAboutPanelOptions: () => {}
  }
  class Tray {
    tooltip = ''
    menu: MenuItem[] = []
    destroyed = false
    private readonly handlers = new Map<string, Listener[]>()
    constructor () { fake.trays.push(this) }
    setToolTip (t: string): void { this.tooltip = t }
    setImage (): void {}
    setContextMenu (m: { template: MenuItem[] }): void { this.menu = m.template }
    on (e: string, fn: Listener): void { on(this.handlers)(e, fn) }
    emit (e: string): void { for (const fn of this.handlers.get(e) ?? []) fn() }
    destroy (): void { this.destroyed = true }
  }
  class BrowserWindow {
    bounds = { x: 0, y: 0, width: 1280, height: 800 }
    url = ''
    private readonly handlers = new Map<string, Listener[]>()
    readonly webContents = {
      id: 7,
      isDestroyed: () => false,
      send: () => {},
      on: () => {},
      setWindowOpenHandler: () => {}
    }

    constructor (readonly options: Record<string, unknown>) {
      fake.windows.push(this)
      for (const k of ['x', 'y', 'width', 'height'] as const) {
        if (typeof options[k] === 'number') this.bounds[k] = options[k]
      }
    }

    on (e: string, fn: Listener): void { on(this.handlers)(e, fn) }
    once (e: string, fn: Listener): void { on(this.handlers)(e, fn) }
    emit (e: string, ...a: unknown[]): void { for (const fn of this.handlers.get(e) ?? []) fn(...a) }
    async loadURL (url: string): Promise<void> { this.url = url }
    isDestroyed (): boolean { return false }
    isMinimized (): boolean { return false }
    isMaximized (): boolean { return false }
    getNormalBounds (): typeof this.bounds { return { ...this.bounds } }
    show (): void { fake.calls.push('win.show') }
    focus (): void { fake.calls.push('win.focus') }
    restore (): void { fake.calls.push('win.restore') }
    maximize (): void { fake.calls.push('win.maximize') }
  }
  return {
    app,
    Tray,
    BrowserWindow,
    Menu: {
      buildFromTemplate: (template: MenuItem[]) => ({ template }),
      setApplicationMenu: (m: { template: MenuItem[] }) => { fake.menu = m.template }
    },
    nativeImage: { createFromDataURL: (url: string) => ({ url }) },
    shell: {
      openPath: async (p: string) => { fake.openedPaths.push(p); return '' },
      openExternal: async () => {}
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: () => {} },
        setPermissionRequestHandler: () => {},
        setPermissionCheckHandler: () => {}
      }
    },
    ipcMain: { handle: (channel: string, fn: Listener) => { fake.ipc.set(channel, fn) } }
  }
})

const item = (items: MenuItem[], label: string): MenuItem => {
  const found = items.flatMap(i => [i, ...(i.submenu ?? [])]).find(i => i.label === label)
  if (found === undefined) throw new Error(`no menu item "${label}" in ${JSON.stringify(items.map(i => i.label))}`)
  return found
}

/** Starts the desktop app (a fresh copy of src/main/index.ts) with these arguments. */
async function launch (args: string[]): Promise<void> {
  vi.resetModules()
  process.argv = [process.argv[0] ?? 'electron', ...args]
  await import('../../src/main/index.js')
}

/** What Electron does on quit: before-quit listeners, and quit again once they let it. */
async function quit (): Promise<void> {
  let prevented = false
  const quits = fake.calls.filter(c => c === 'quit').length
  fake.emit('before-quit', { preventDefault: () => { prevented = true } })
  if (prevented) await waitFor(() => fake.calls.filter(c => c === 'quit').length > quits, 30_000, 'app.quit after the hub closed')
}

let dirs: string[] = []
const argv = process.argv
beforeEach(async () => {
  fake.reset()
  fake.userData = await mkdtemp(join(tmpdir(), 'sitehub-userdata-'))
  dirs = [fake.userData]
})
afterEach(async () => {
  process.argv = argv
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe('desktop app lifecycle (stand-in electron module)', () => {
  it('a second instance hands over to the first and quits without starting a hub', async () => {
    fake.lock = false
    await launch(['--data-dir', join(fake.userData, 'never')])
    expect(fake.calls).toEqual(['quit'])
    expect(fake.windows).toEqual([])
    expect(existsSync(join(fake.userData, 'never'))).toBe(false)
  })

  it('runs the hub on --data-dir, with menu, tray, logs folder, IPC, remembered window and a clean quit', async () => {
    const dataDir = join(fake.userData, 'site data')
    const args = ['--data-dir', dataDir, '--bind', '127.0.0.1', '--https-port', '0', '--mqtts-port', '0', '--no-sandbox']
    await launch(args)
    const logsDir = join(dataDir, 'logs')
    const log = join(logsDir, 'desktop.log')
    await waitFor(async () => existsSync(log) && (await readFile(log, 'utf8')).includes('"hub started"'), 30_000, 'the hub to start and log it')
    expect(existsSync(join(dataDir, 'store'))).toBe(true)

    // the window: hardened, the built page, preload next to it
    expect(fake.windows).toHaveLength(1)
    const win = fake.windows[0]!
    expect(win.options).toMatchObject({ webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false } })
    expect(String((win.options['webPreferences'] as { preload: string }).preload)).toMatch(/preload[/\\]index\.cjs$/)
    expect(win.url).toMatch(/^file:.*renderer\/index\.html$/)
    win.emit('ready-to-show')
    expect(fake.calls).toContain('win.show')

    // the application menu: File > Open logs folder opens <data-dir>/logs; dev builds get View
    item(fake.menu, 'Open logs folder').click?.()
    expect(fake.openedPaths).toEqual([logsDir])
    expect(fake.menu.map(m => m.label)).toEqual(['File', 'View'])

    // the tray: the hub's state in words, and the same shortcuts
    expect(fake.trays).toHaveLength(1)
    const tray = fake.trays[0]!
    await waitFor(() => tray.tooltip.startsWith('Sitehub: running'), 30_000, 'the tray to say running (refreshed every 2 s)')
    expect(tray.tooltip).toBe('Sitehub: running · 0 of 0 devices online')
    item(tray.menu, 'Open logs folder').click?.()
    expect(fake.openedPaths).toEqual([logsDir, logsDir])
    fake.calls = []
    item(tray.menu, 'Open Sitehub').click?.()
    expect(fake.calls).toEqual(['win.show', 'win.focus'])

    // a second launch elsewhere focuses this window
    fake.calls = []
    fake.emit('second-instance')
    expect(fake.calls).toEqual(['win.focus'])

    // IPC answers our window only, through the same API as the browser
    const call = fake.ipc.get(IPC.call)
    expect(call).toBeTypeOf('function')
    expect(await call!({ sender: { id: 99 } }, 'auth.status', undefined)).toMatchObject({ ok: false, error: { code: 401003 } })
    expect(await call!({ sender: { id: 7 } }, 'auth.status', undefined)).toEqual({ ok: true, value: { setupNeeded: true, setupAllowed: true, session: null } })

    // window state: moved and closed, it is written under userData
    win.bounds = { x: 140, y: 90, width: 1366, height: 740 }
    win.emit('close')
    const stateFile = join(fake.userData, 'window-state.json')
    await waitFor(() => existsSync(stateFile), 30_000, 'window-state.json')
    expect(JSON.parse(await readFile(stateFile, 'utf8'))).toMatchObject({ x: 140, y: 90, width: 1366, height: 740, maximized: false })

    // quitting closes the hub first (the data dir's lock is released), then quits
    await quit()
    expect(tray.destroyed).toBe(true)

    // the next start gets the same bounds back and the same data (a hub on the same dir starts again)
    fake.reset()
    await launch(args)
    await waitFor(async () => (await readFile(log, 'utf8')).split('"hub started"').length === 3, 30_000, 'the second start to log "hub started"')
    expect(fake.windows[0]!.options).toMatchObject({ x: 140, y: 90, width: 1366, height: 740 })
    await quit()
  })

  it('a bad option exits with a message before any window', async () => {
    await launch(['--data-dir', join(fake.userData, 'd'), '--https-port', '70000'])
    await waitFor(() => fake.calls.includes('exit 1'), 30_000, 'exit 1 on a bad port')
    expect(fake.windows).toEqual([])
  })

  it('a hub that cannot start (its port taken) is shown as not running; the window and tray stay up', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as AddressInfo).port
    try {
      await launch(['--data-dir', join(fake.userData, 'd'), '--bind', '127.0.0.1', '--https-port', String(port), '--mqtts-port', '0'])
      const tray = await waitFor(() => fake.trays[0], 30_000, 'the tray')
      await waitFor(() => tray.tooltip.startsWith('Sitehub: not running'), 30_000, 'the tray to say not running')
      expect(tray.tooltip).toMatch(/EADDRINUSE/)
      expect(fake.windows).toHaveLength(1)
      expect(fake.calls).not.toContain('exit 1')
      const status = await fake.ipc.get(IPC.call)!({ sender: { id: 7 } }, 'hub.status', undefined)
      expect(status).toMatchObject({ ok: true, value: { state: 'failed' } })
      await quit()
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })
})
