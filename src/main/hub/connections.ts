// Live device connections and the hub's own record of each identity's subscriptions.
// The record persists (store 'sessions') so that a clean=false MQTT session keeps its twin
// subscriptions across a hub restart: the SDK re-subscribes only methods and C2D (A.1).
import type { HubEventBus } from './events.js'
import type { ConnectionManager } from './services.js'
import type { HubStore } from './store/types.js'
import type { Clock, DeviceConnection, Identity, Logger, SessionSubscriptions } from './types.js'
import { identityKey } from './registry/ids.js'

const EMPTY: SessionSubscriptions = { methods: false, desired: false, twinResponses: false, c2d: false, inputs: false }

export function createConnectionManager (deps: { store: HubStore; events: HubEventBus; clock: Clock; logger: Logger; onSubscribed?: (identity: Identity, feature: keyof SessionSubscriptions) => void }): ConnectionManager & { closeAll(reason: string): void } {
  const { store, events } = deps
  const live = new Map<string, DeviceConnection>()
  const waiters = new Map<string, Set<() => void>>()

  const subsOf = (key: string): SessionSubscriptions => store.get('sessions', key) ?? EMPTY

  function wake (key: string): void {
    const set = waiters.get(key)
    if (set) for (const w of [...set]) w()
  }

  function persist (key: string, subs: SessionSubscriptions | null): void {
    const p = subs === null ? (store.has('sessions', key) ? store.del('sessions', key) : null) : store.put('sessions', key, subs)
    p?.catch((err: Error) => deps.logger.error('could not persist session', { key, error: err.message }))
  }

  return {
    attach (conn, { cleanSession }) {
      const key = conn.key
      const prev = live.get(key)
      live.set(key, conn)
      // [A.1] one live connection per identity: the newer one wins (400027).
      if (prev && prev !== conn) prev.close('ConnectionForcefullyClosedOnNewConnection (400027)')
      if (cleanSession) persist(key, null)
      events.emit('device.connected', { ...conn.identity, transport: conn.transport, remote: conn.remote, at: conn.connectedAt })
      wake(key)
    },
    detach (conn, reason) {
      if (live.get(conn.key) !== conn) return
      live.delete(conn.key)
      events.emit('device.disconnected', { ...conn.identity, reason, at: new Date(deps.clock.now()).toISOString() })
    },
    subscribe (conn, feature, on) {
      const cur = subsOf(conn.key)
      if (cur[feature] !== on) persist(conn.key, { ...cur, [feature]: on })
      wake(conn.key)
      if (on) deps.onSubscribed?.(conn.identity, feature)
    },
    get: (identity) => live.get(identityKey(identity)),
    subscriptions: (identity) => ({ ...subsOf(identityKey(identity)) }),
    isConnected: (identity) => live.has(identityKey(identity)),
    list: () => [...live.values()].map((c) => ({
      key: c.key,
      ...c.identity,
      transport: c.transport,
      remote: c.remote,
      connectedAt: c.connectedAt,
      subscriptions: { ...subsOf(c.key) },
      ...(c.details === undefined ? {} : { details: c.details() })
    })),
    count: () => live.size,
    waitFor (identity, feature, timeoutMs) {
      const key = identityKey(identity)
      const ready = (): boolean => live.has(key) && subsOf(key)[feature]
      if (ready()) return Promise.resolve(true)
      if (timeoutMs <= 0) return Promise.resolve(false)
      return new Promise((resolve) => {
        let set = waiters.get(key)
        if (!set) waiters.set(key, set = new Set())
        const done = (ok: boolean): void => {
          clearTimeout(timer)
          set.delete(check)
          if (set.size === 0) waiters.delete(key)
          resolve(ok)
        }
        const check = (): void => { if (ready()) done(true) }
        const timer = setTimeout(() => done(false), timeoutMs)
        set.add(check)
      })
    },
    closeAll (reason) {
      for (const c of [...live.values()]) c.close(reason)
    }
  }
}
