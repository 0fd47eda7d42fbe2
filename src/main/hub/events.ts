// A typed event emitter over HubEvents (MQTT.js TypedEventEmitter pattern).
import { EventEmitter } from 'node:events'
import type { HubEventName, HubEvents } from './types.js'

export interface HubEventBus {
  on<E extends HubEventName>(event: E, listener: (payload: HubEvents[E]) => void): () => void
  once<E extends HubEventName>(event: E, listener: (payload: HubEvents[E]) => void): () => void
  emit<E extends HubEventName>(event: E, payload: HubEvents[E]): void
  /** Every event, in order: for the UI and the upstream sync. */
  onAny(listener: <E extends HubEventName>(event: E, payload: HubEvents[E]) => void): () => void
}

export function createEventBus (): HubEventBus {
  const ee = new EventEmitter()
  ee.setMaxListeners(0)
  const any = new Set<(event: HubEventName, payload: unknown) => void>()
  return {
    on (event, listener) {
      ee.on(event, listener)
      return () => { ee.off(event, listener) }
    },
    once (event, listener) {
      ee.once(event, listener)
      return () => { ee.off(event, listener) }
    },
    emit (event, payload) {
      ee.emit(event, payload)
      for (const l of any) l(event, payload)
    },
    onAny (listener) {
      const l = listener as (event: HubEventName, payload: unknown) => void
      any.add(l)
      return () => { any.delete(l) }
    }
  }
}
