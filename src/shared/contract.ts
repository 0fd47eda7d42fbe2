// The typed contract between the hub and its UI. Pure TS: no node:*, electron or DOM
// imports, so main, preload and renderer (and later the WebSocket client) share it.
// One channel for now; later issues grow the maps (STYLE 4.3: everything else derives).

/** Where a listener of the hub can be reached, e.g. { name: 'mqtts', url: 'mqtts://0.0.0.0:8883' }. */
export interface HubEndpoint {
  name: string
  url: string
}

export type HubState = 'starting' | 'running' | 'failed'

/** What 'hub.status' answers. Errors travel as data (`state: 'failed'` + `error`), never as a throw. */
export interface HubStatus {
  state: HubState
  endpoints: HubEndpoint[]
  /** Registered identities. */
  devices: number
  /** Identities with a live connection. */
  connected: number
  /** Set when state is 'failed': why the hub did not start. */
  error?: string
}

/** Request/response channels: `{ channel: { input; output } }` (typed-ipc style). */
export interface HubInvokeMap {
  'hub.status': { input: undefined; output: HubStatus }
}

export type HubChannel = keyof HubInvokeMap

export const HUB_CHANNELS = {
  status: 'hub.status'
} as const satisfies Record<string, HubChannel>

/** What the preload exposes as `window.hub` (and what a browser client will implement). */
export interface HubApi {
  status(): Promise<HubInvokeMap['hub.status']['output']>
}
