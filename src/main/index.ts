// Electron lifecycle only: one instance, the hub in-process, one hardened window.
// Everything Electron-specific lives in ./shell; the hub core (./hub) never sees Electron.
import { app, type BrowserWindow } from 'electron'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { startServer, type RunningHub } from './hub/server.js'
import { parseDesktopArgs } from './shell/args.js'
import { forwardEvents, registerIpc } from './shell/ipc.js'
import { createFileLogger } from './shell/logger.js'
import { installMenu } from './shell/menu.js'
import { installTray } from './shell/tray.js'
import { hardenSession } from './shell/security.js'
import { hubStatus, type HubSlot } from './shell/status.js'
import { createMainWindow } from './shell/window.js'
import { defaultDataDir } from './cli/paths.js'

const dev = !app.isPackaged
let win: BrowserWindow | undefined
let slot: HubSlot = { state: 'starting' }
let hub: Promise<RunningHub> | undefined
let running: RunningHub | undefined

async function main (): Promise<void> {
  const args = parseDesktopArgs(process.argv.slice(1))
  await app.whenReady()
  // Same default as `sitehub serve`, so the CLI finds the desktop hub's data without --data-dir.
  const dataDir = args.dataDir ?? defaultDataDir()
  const logsDir = join(dataDir, 'logs')
  await mkdir(logsDir, { recursive: true })
  const logger = createFileLogger(logsDir)
  app.on('quit', () => { logger.close() })

  hardenSession(dev)
  installMenu({ logsDir, dev })
  registerIpc({
    isTrustedSender: e => win !== undefined && !win.isDestroyed() && e.sender.id === win.webContents.id,
    status: () => hubStatus(slot),
    hub: () => (slot.state === 'running' ? running?.hub : undefined)
  })

  // The window shows "starting" and then the hub's state; a hub that cannot start (port 443
  // taken or not permitted, say) is reported there rather than killing the app.
  const config = { ...args.hub, dataDir }
  hub = startServer({ config, logger })
  hub.then(s => {
    slot = { state: 'running', server: s }
    running = s
    const stop = forwardEvents(s.hub, () => (win === undefined || win.isDestroyed() ? undefined : win.webContents))
    app.on('before-quit', stop)
    logger.info('hub started', { dataDir, bind: config.bind, mqttsPort: config.mqttsPort, httpsPort: config.httpsPort })
  }, (err: unknown) => {
    slot = { state: 'failed', error: err instanceof Error ? err.message : String(err) }
    logger.error('hub failed to start', { error: slot.error })
  })

  const here = import.meta.dirname
  const devUrl = process.env['ELECTRON_RENDERER_URL']
  win = await createMainWindow({
    preloadPath: join(here, '../preload/index.cjs'),
    appUrl: dev && devUrl !== undefined ? devUrl : pathToFileURL(join(here, '../renderer/index.html')).href,
    boundsFile: join(app.getPath('userData'), 'window-state.json'),
    onError: (msg, data) => { logger.warn(msg, data) }
  })
  const removeTray = installTray({
    status: () => hubStatus(slot),
    logsDir,
    showWindow: () => { if (win !== undefined && !win.isDestroyed()) { if (win.isMinimized()) win.restore(); win.show(); win.focus() } }
  })
  app.on('before-quit', removeTray)
}

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    if (win === undefined || win.isDestroyed()) return
    if (win.isMinimized()) win.restore()
    win.focus()
  })
  app.on('window-all-closed', () => { app.quit() })

  // Close the hub (listeners, store flush) before the process goes away, even if it is
  // still starting.
  app.on('before-quit', event => {
    if (hub === undefined) return
    event.preventDefault()
    const closing = hub.then(s => s.close(), () => undefined)
    hub = undefined
    closing.catch((err: unknown) => { console.error('[sitehub] hub close failed:', err) })
      .finally(() => { app.quit() })
  })
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { app.quit() })

  main().catch((err: unknown) => {
    console.error('[sitehub] desktop start failed:', err)
    app.exit(1)
  })
}
