// Cloud-to-device queue (protocol A.6): up to 50 pending per device, delivered in order to a
// connected device subscribed to its devicebound topic; a PUBACK completes the message.
import { randomUUID } from 'node:crypto'
import { HubError, argumentInvalid } from '../errors.js'
import type { HubEventBus } from '../events.js'
import type { C2dService, ConnectionManager } from '../services.js'
import type { HubStore } from '../store/types.js'
import type { C2dMessage, Clock, Identity, Logger } from '../types.js'
import { identityKey } from '../registry/ids.js'

const MAX_PENDING = 50
const MAX_BODY = 64 * 1024

export function createC2dService (deps: { store: HubStore; connections: ConnectionManager; events: HubEventBus; clock: Clock; logger: Logger; exists: (i: Identity) => boolean }): C2dService & { pump(identity: Identity): void } {
  const { store } = deps
  const sending = new Set<string>()

  const queue = (key: string): C2dMessage[] => store.get('c2d', key)?.messages ?? []

  async function drop (key: string, messageId: string): Promise<void> {
    const rest = queue(key).filter((m) => m.messageId !== messageId)
    await (rest.length === 0 ? store.del('c2d', key) : store.put('c2d', key, { messages: rest }))
  }

  /** Deliver pending messages one at a time, oldest first. */
  async function pumpLoop (identity: Identity): Promise<void> {
    const key = identityKey(identity)
    if (sending.has(key)) return
    sending.add(key)
    try {
      for (;;) {
        const msg = queue(key)[0]
        const conn = deps.connections.get(identity)
        if (!msg || !conn || !deps.connections.subscriptions(identity).c2d) return
        if (msg.expiryTimeUtc !== undefined && Date.parse(msg.expiryTimeUtc) < deps.clock.now()) {
          await drop(key, msg.messageId)
          continue
        }
        await conn.sendC2d(msg)
        await drop(key, msg.messageId)
        deps.events.emit('c2d.completed', { deviceId: identity.deviceId, messageId: msg.messageId })
      }
    } catch (err) {
      deps.logger.debug('c2d delivery interrupted', { key, error: (err as Error).message })
    } finally {
      sending.delete(key)
    }
  }

  const pump = (identity: Identity): void => { void pumpLoop(identity) }
  deps.events.on('device.connected', (e) => pump(e.moduleId === undefined ? { deviceId: e.deviceId } : { deviceId: e.deviceId, moduleId: e.moduleId }))

  return {
    pump,
    async send (identity, input) {
      if (!deps.exists(identity)) throw new HubError('DeviceNotFound', `Device ${identity.deviceId} not registered.`)
      const key = identityKey(identity)
      const body = typeof input.body === 'string' ? Buffer.from(input.body) : input.body
      if (body.length > MAX_BODY) throw new HubError('MessageTooLarge', 'A cloud-to-device message body may be at most 64 KB.')
      const pending = queue(key)
      if (pending.length >= MAX_PENDING) throw new HubError('DeviceMaximumQueueDepthExceeded', `Device ${identity.deviceId} already has ${MAX_PENDING} messages waiting.`)
      const messageId = input.messageId ?? randomUUID()
      if (pending.some((m) => m.messageId === messageId)) throw argumentInvalid(`A message with id '${messageId}' is already queued.`)
      const msg: C2dMessage = {
        messageId,
        deviceId: identity.deviceId,
        properties: { ...(input.properties ?? {}) },
        body: body.toString('base64'),
        enqueuedTime: new Date(deps.clock.now()).toISOString(),
        ack: input.ack ?? 'none'
      }
      if (identity.moduleId !== undefined) msg.moduleId = identity.moduleId
      for (const k of ['correlationId', 'contentType', 'contentEncoding', 'expiryTimeUtc'] as const) {
        const v = input[k]
        if (v !== undefined) msg[k] = v
      }
      await store.put('c2d', key, { messages: [...pending, msg] })
      deps.events.emit('c2d.enqueued', { deviceId: identity.deviceId, messageId })
      pump(identity)
      return msg
    },
    pending: (identity) => queue(identityKey(identity)).map((m) => ({ ...m, properties: { ...m.properties } }))
  }
}
