// The browser transport of the contract: HubApi over the hub's UI WebSocket (/ui/ws).
// Calls wait for the socket; a dropped socket fails its calls with a plain-words error
// result, reconnects with backoff, re-authenticates with the last session token it carried
// (so event batches resume) and tells subscribers to resync.
import { fail, type HubApi, type Result, type UiEvent, type WsServerFrame } from '../../../shared/contract/index'

export type ConnectionListener = (state: 'connecting' | 'open' | 'closed') => void

export interface WsHub extends HubApi {
  onConnection(listener: ConnectionListener): () => void
  /** A session token sent with every call that names none (tests, scripts). */
  setToken(token: string | undefined): void
  close(): void
}

/** `WebSocketImpl` is injectable for tests (Node has a global WebSocket from v22 only). */
export function createWsHub (url: string, WebSocketImpl: typeof WebSocket = WebSocket): WsHub {
  const pending = new Map<number, (r: Result<unknown>) => void>()
  const listeners = new Set<(events: UiEvent[]) => void>()
  const connListeners = new Set<ConnectionListener>()
  const queue: string[] = []
  let nextId = 1
  let ws: WebSocket | undefined
  let open = false
  let closed = false
  let backoff = 250
  let everOpened = false
  let defaultToken: string | undefined
  /** The last token a call carried: a new socket presents it at once to get events again. */
  let lastToken: string | undefined

  const setState = (s: 'connecting' | 'open' | 'closed'): void => { for (const l of connListeners) l(s) }

  function connect (): void {
    setState('connecting')
    const sock = new WebSocketImpl(url)
    ws = sock
    sock.onopen = () => {
      open = true
      backoff = 250
      if (everOpened && lastToken !== undefined) sock.send(JSON.stringify({ id: nextId++, method: 'auth.status', token: lastToken }))
      for (const f of queue.splice(0)) sock.send(f)
      setState('open')
      // after a reconnect, whatever happened meanwhile is unknown: reload
      if (everOpened) for (const l of listeners) l([{ type: 'resync', reason: 'reconnected to the hub' }])
      everOpened = true
    }
    sock.onmessage = (ev: MessageEvent) => {
      const frame = JSON.parse(String(ev.data)) as WsServerFrame
      if ('id' in frame) {
        const resolve = pending.get(frame.id)
        pending.delete(frame.id)
        resolve?.(frame.result)
      } else if ('events' in frame) {
        for (const l of listeners) l(frame.events)
      }
    }
    // A refused (re)connect also ends in onclose, which schedules the next try.
    sock.onerror = () => {}
    sock.onclose = () => {
      open = false
      for (const [id, resolve] of pending) { pending.delete(id); resolve(fail(503001, 'ServiceUnavailable', 'Lost the connection to the hub; retrying')) }
      setState('closed')
      if (!closed) { setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 5000) }
    }
  }
  connect()

  return {
    call (method, input, token) {
      const id = nextId++
      const t = token ?? defaultToken
      if (method === 'auth.signOut') lastToken = undefined
      else if (t !== undefined) lastToken = t
      const frame = JSON.stringify(t === undefined ? { id, method, input } : { id, method, input, token: t })
      return new Promise(resolve => {
        const done = resolve as (r: Result<unknown>) => void
        // A new session (sign-in, first-run setup) is the token to present after a reconnect.
        pending.set(id, method === 'auth.signIn' || method === 'auth.setup'
          ? (r) => { if (r.ok) lastToken = (r.value as { token: string }).token; done(r) }
          : done)
        if (open && ws !== undefined) ws.send(frame)
        else queue.push(frame)
      })
    },
    subscribe (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    onConnection (listener) {
      connListeners.add(listener)
      return () => { connListeners.delete(listener) }
    },
    setToken (token) { defaultToken = token; lastToken = token },
    close () { closed = true; ws?.close() }
  }
}
