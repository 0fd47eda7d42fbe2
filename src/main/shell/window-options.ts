// BrowserWindow options as a pure function, so a plain-Node test can check the security
// switches without an Electron binary (the import below is type-only and erased).
import type { BrowserWindowConstructorOptions, Rectangle } from 'electron'

export function windowOptions (preloadPath: string, bounds?: Partial<Rectangle>): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    ...bounds,
    minWidth: 800,
    minHeight: 560,
    title: 'Sitehub',
    show: false,
    backgroundColor: '#11161c',
    autoHideMenuBar: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false
    }
  }
}
