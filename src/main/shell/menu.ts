// The minimal application menu. Reload and devtools only in development builds.
import { app, Menu, shell, type MenuItemConstructorOptions } from 'electron'

export function installMenu (opts: { logsDir: string; dev: boolean }): void {
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open logs folder', click: () => { void shell.openPath(opts.logsDir) } },
      { type: 'separator' },
      { role: 'quit' }
    ]
  }
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }]
  }
  const template: MenuItemConstructorOptions[] = process.platform === 'darwin'
    ? [{ role: 'appMenu' }, file, ...(opts.dev ? [view] : [])]
    : [file, ...(opts.dev ? [view] : [])]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
  app.setAboutPanelOptions({ applicationName: 'Sitehub' })
}
