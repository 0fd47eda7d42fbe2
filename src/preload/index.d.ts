import type { HubApi } from '../shared/contract/index.js'

declare global {
  interface Window {
    /** Present in the desktop app (set by the preload); absent when the UI runs in a browser. */
    hub?: HubApi
  }
}

export {}
