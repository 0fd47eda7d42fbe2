// The main window: hardened options, the app page, and remembered bounds.
import { BrowserWindow, screen } from 'electron'
import { guardNavigation } from './security.js'
import { windowOptions } from './window-options.js'
import { isVisibleOn, loadBounds, saveBounds, type WindowBounds } from './window-state.js'

export interface MainWindowOptions {
  preloadPath: string
  /** http(s) URL of the dev server, or file:// URL of the built index.html. Loading starts on return. */
  appUrl: string
  boundsFile: string
  onError: (msg: string, data?: Record<string, unknown>) => void
}

export async function createMainWindow (opts: MainWindowOptions): Promise<BrowserWindow> {
  const saved = await loadBounds(opts.boundsFile)
  const displays = screen.getAllDisplays().map(d => d.workArea)
  const bounds = saved !== undefined && isVisibleOn(saved, displays) ? saved : undefined
  const win = new BrowserWindow(windowOptions(opts.preloadPath, bounds && {
    x: bounds.x, y: bounds.y, width: bounds.width, height: bounds.height
  }))
  guardNavigation(win.webContents, opts.appUrl)
  win.once('ready-to-show', () => {
    if (bounds?.maximized === true) win.maximize()
    win.show()
  })

  // Save on move/resize (debounced) and on close, so a crash loses at most half a second.
  let timer: NodeJS.Timeout | undefined
  const persist = (): void => {
    if (win.isDestroyed() || win.isMinimized()) return
    const b = win.getNormalBounds()
    const state: WindowBounds = { ...b, maximized: win.isMaximized() }
    saveBounds(opts.boundsFile, state).catch((err: unknown) => {
      opts.onError('could not save window bounds', { error: String(err) })
    })
  }
  const schedule = (): void => {
    clearTimeout(timer)
    timer = setTimeout(persist, 500)
  }
  win.on('resize', schedule)
  win.on('move', schedule)
  win.on('close', () => {
    clearTimeout(timer)
    persist()
  })

  // Not awaited: the caller must know the window (to trust its IPC) before the page runs.
  win.loadURL(opts.appUrl).catch((err: unknown) => {
    opts.onError('could not load the app page', { url: opts.appUrl, error: String(err) })
  })
  return win
}
