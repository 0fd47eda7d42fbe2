// aedes persistence that keeps no session state. The hub owns sessions (its connection manager
// persists subscriptions; its C2D queue redelivers), so aedes must never queue, retain or
// redeliver anything by itself [A.1]: a second copy of a C2D message after a reconnect, or a
// retained message, would break IoT Hub semantics.
//
// The one thing kept is each client's in-flight QoS 1 packet by MQTT packet id, so that the
// broker's 'ack' event carries the original packet (see connection.ts: PUBACK completes a C2D
// message [A.6]). aedes only calls outgoingUpdate for clean=false clients, which is why
// hooks.ts presents every session to aedes as clean=false.
import { Readable } from 'node:stream'
import type { AedesPublishPacket, Client } from 'aedes'

type Packet = AedesPublishPacket

const empty = (): Readable => Readable.from([])
const done = (): Promise<void> => Promise.resolve()

export function createHubPersistence (): Record<string, unknown> {
  const inflight = new WeakMap<Client, Map<number, Packet>>()
  return {
    // aedes checks that setup is a native async function
    async setup (): Promise<void> {},
    storeRetained: done, // [A.9] retain is cleared before publishing anyway
    createRetainedStream: empty,
    createRetainedStreamCombi: empty,
    addSubscriptions: (client: Client) => Promise.resolve(client),
    removeSubscriptions: (client: Client) => Promise.resolve(client),
    cleanSubscriptions: (client: Client) => Promise.resolve(client),
    subscriptionsByClient: () => Promise.resolve([]), // no aedes-side session: sessionPresent is 0
    subscriptionsByTopic: () => Promise.resolve([]), // nothing is ever queued for offline clients
    countOffline: () => Promise.resolve({ subsCount: 0, clientsCount: 0 }),
    outgoingEnqueue: done,
    outgoingEnqueueCombi: done,
    outgoingUpdate (client: Client, packet: Packet): Promise<void> {
      if (packet.cmd === 'publish' && packet.messageId !== undefined) {
        let m = inflight.get(client)
        if (m === undefined) inflight.set(client, m = new Map())
        m.set(packet.messageId, packet)
      }
      return done()
    },
    outgoingClearMessageId (client: Client, packet: { messageId?: number }): Promise<Packet | undefined> {
      const m = inflight.get(client)
      if (m === undefined || packet.messageId === undefined) return Promise.resolve(undefined)
      const orig = m.get(packet.messageId)
      m.delete(packet.messageId)
      return Promise.resolve(orig)
    },
    outgoingStream: empty, // nothing is redelivered on reconnect: the hub's C2D queue does that
    // QoS 2 PUBLISH is refused before it gets here [A.9]
    incomingStorePacket: done,
    incomingGetPacket: () => Promise.reject(new Error('no stored packet')),
    incomingDelPacket: done,
    cleanIncoming: done,
    putWill: (client: Client) => Promise.resolve(client), // the will lives on the client object
    getWill: () => Promise.resolve(undefined),
    delWill: () => Promise.resolve(undefined),
    streamWill: empty,
    getClientList: empty,
    destroy: done
  }
}
