// The only module that touches window.hub. The desktop app's preload provides it (IPC); in a
// browser the page talks to the hub that served it, over its UI WebSocket.
import { HubCallError, type HubApi, type MethodInput, type MethodName, type MethodOutput } from '../../../shared/contract/index'
import { createWsHub } from './ws-hub'

export function desktopHub (): HubApi | undefined {
  return typeof window !== 'undefined' ? window.hub : undefined
}

export function createHubClient (): { api: HubApi | undefined; transport: 'ipc' | 'websocket' | 'none' } {
  const desktop = desktopHub()
  if (desktop !== undefined) return { api: desktop, transport: 'ipc' }
  // A page opened from disk (file://) without the desktop preload has no hub to talk to.
  if (!/^https?:$/.test(window.location.protocol)) return { api: undefined, transport: 'none' }
  const url = new URL('/ui/ws', window.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return { api: createWsHub(url.href), transport: 'websocket' }
}

/** Call and unwrap: resolves the value, rejects with a HubCallError carrying the IoT Hub code. */
export async function callOrThrow<M extends MethodName> (api: HubApi, method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  const r = await api.call(method, input)
  if (!r.ok) throw new HubCallError(r.error)
  return r.value
}
