// The hub's status in the system tray: a tooltip and a small menu (open the window, open the
// logs folder, quit), refreshed on a timer. Electron-only; the words come from tray-label.ts.
import { app, Menu, nativeImage, shell, Tray } from 'electron'
import type { HubStatus } from '../../shared/contract/index.js'
import { trayLabel } from './tray-label.js'

// 16x16 RGBA PNGs (generated): a green dot (running) and an amber one (starting / failed).
const ICONS = {
  good: 'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAALklEQVR42mOQqjdnoAQz0MqA/zgwQQP+E4lpY8B/EvGoAbQwYODTAVWSMv1zIwAhWUuUQfUupwAAAABJRU5ErkJggg==',
  warn: 'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAALklEQVR42mPY387AQAlmoJUB/3Fgggb8JxLTxoD/JOJRA2hhwMCnA6okZfrnRgD2acGUWud2HwAAAABJRU5ErkJggg=='
}

export function installTray (opts: { status: () => HubStatus; showWindow: () => void; logsDir: string; intervalMs?: number }): () => void {
  const tray = new Tray(nativeImage.createFromDataURL(`data:image/png;base64,${ICONS.warn}`))
  let last = ''
  const refresh = (): void => {
    const label = trayLabel(opts.status())
    const key = `${label.tooltip}|${String(label.healthy)}`
    if (key === last) return
    last = key
    tray.setToolTip(label.tooltip)
    tray.setImage(nativeImage.createFromDataURL(`data:image/png;base64,${label.healthy ? ICONS.good : ICONS.warn}`))
    tray.setContextMenu(Menu.buildFromTemplate([
      { label: label.menuLine, enabled: false },
      { type: 'separator' },
      { label: 'Open Sitehub', click: opts.showWindow },
      { label: 'Open logs folder', click: () => { void shell.openPath(opts.logsDir) } },
      { type: 'separator' },
      { label: 'Quit', click: () => { app.quit() } }
    ]))
  }
  refresh()
  tray.on('click', opts.showWindow)
  const id = setInterval(refresh, opts.intervalMs ?? 2000)
  return () => { clearInterval(id); tray.destroy() }
}
