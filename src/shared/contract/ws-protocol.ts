// Frames on the UI WebSocket (JSON text frames). The client numbers its calls; the server
// answers each id once, and pushes event batches whenever it has any.
import type { UiEvent } from './events.js'
import type { Result } from './result.js'

/** `token`: the caller's session (every call carries it; the server keeps no per-socket login). */
export type WsClientFrame = { id: number; method: string; input?: unknown; token?: string }

export type WsServerFrame =
  | { id: number; result: Result<unknown> }
  | { events: UiEvent[] }
  | { hello: { version: 1 } }
