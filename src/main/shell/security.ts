// Session hardening: the CSP header, no permissions, no new windows, no navigation away.
import { session, shell, type WebContents } from 'electron'
import { contentSecurityPolicy } from '../../shared/csp.js'

export function hardenSession (dev: boolean): void {
  const csp = contentSecurityPolicy({ dev })
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } })
  })
  // A plant-floor dashboard needs no camera, geolocation, notifications...
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => { callback(false) })
  session.defaultSession.setPermissionCheckHandler(() => false)
}

/** Keeps the window on the app's own page; http(s) links open in the system browser. */
export function guardNavigation (contents: WebContents, appUrl: string): void {
  const page = (url: string): string => url.split('#')[0] ?? url
  const openExternal = (url: string): void => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
  }
  contents.setWindowOpenHandler(({ url }) => {
    openExternal(url)
    return { action: 'deny' }
  })
  contents.on('will-navigate', (event, url) => {
    if (page(url) === page(appUrl)) return
    event.preventDefault()
    openExternal(url)
  })
  contents.on('will-attach-webview', event => { event.preventDefault() })
}
