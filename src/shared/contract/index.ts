// The typed contract between the hub and its UI. Pure TS (no node:*, electron or DOM), so
// main, preload, the UI server and the renderer share it. Everything else derives from
// methodInputs/MethodOutputs (methods.ts) and UiEvent (events.ts).
import type { UiEvent } from './events.js'
import type { MethodInput, MethodName, MethodOutput } from './methods.js'
import type { Result } from './result.js'

export * from './access.js'
export * from './auth.js'
export * from './events.js'
export * from './methods.js'
export * from './model.js'
export * from './ops.js'
export * from './model-devices.js'
export * from './result.js'
export * from './sync.js'
export * from './site.js'
export type { Check, Validator } from './validate.js'

/** IPC channel names (Electron). The WebSocket carries the same calls as JSON frames (ws-protocol.ts). */
export const IPC = { call: 'hub.call', events: 'hub.events' } as const

/** What the preload exposes as `window.hub`, and what the browser's WebSocket client implements. */
export interface HubApi {
  /** `token`: the session token (auth.signIn / auth.setup); the renderer's session layer adds it. */
  call<M extends MethodName>(method: M, input: MethodInput<M>, token?: string): Promise<Result<MethodOutput<M>>>
  /** Coalesced event batches; returns an unsubscribe function. */
  subscribe(listener: (events: UiEvent[]) => void): () => void
}

export type { WsClientFrame, WsServerFrame } from './ws-protocol.js'
