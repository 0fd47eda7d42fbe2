// The only module that touches window.hub. In the desktop app the preload provides it;
// in a browser it is absent until the WebSocket client arrives (a later issue).
import type { HubApi } from '../../../shared/contract'

export function desktopHub (): HubApi | undefined {
  return typeof window !== 'undefined' ? window.hub : undefined
}
