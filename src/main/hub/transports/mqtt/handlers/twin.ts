// Twin requests over MQTT (protocol A.7): GET and reported PATCH, answered on $iothub/twin/res.
import { isHubError } from '../../../errors.js'
import type { JsonValue } from '../../../types.js'
import { deliver } from '../deliver.js'
import { twinResponseTopic } from '../topics.js'
import type { DeviceSession, HandlerDeps } from './types.js'

const EMPTY = Buffer.alloc(0)

/** [A.7] Node sees an error only through `errorCode` in the body; the topic status is ignored. */
function errorReply (err: unknown): { status: number; body: string } {
  const status = isHubError(err) ? err.httpStatus : 500
  const errorCode = isHubError(err) ? err.code : 500001
  const message = err instanceof Error ? err.message : String(err)
  return { status, body: JSON.stringify({ errorCode, message }) }
}

export function createTwinHandler (deps: HandlerDeps) {
  const { hub, log, stats } = deps

  /** Twin replies go only to a client subscribed to twin responses per the hub's session record. */
  function reply (s: DeviceSession, status: number, rid: string, body: Buffer | string, version?: number): void {
    if (s.client.closed) return
    if (!hub.connections.subscriptions(s.identity).twinResponses) {
      log.debug('twin response dropped: not subscribed to $iothub/twin/res/#', { key: s.key, rid })
      return
    }
    deliver(s, twinResponseTopic(status, rid, version), body, 0)
  }

  function enqueue (s: DeviceSession, op: () => Promise<void> | void): void {
    s.twinQueue = s.twinQueue.then(op).catch((err: Error) => {
      log.error('twin request failed', { key: s.key, error: err.message })
    })
  }

  return {
    /** [A.7] GET: the body is ignored; always answer with a body (Node reads `.desired`). */
    get (s: DeviceSession, rid: string): void {
      stats.twinGets++
      enqueue(s, () => {
        let status = 200
        let body: string
        try {
          body = JSON.stringify(hub.twins.getForDevice(s.identity))
        } catch (err) {
          ({ status, body } = errorReply(err))
        }
        reply(s, status, rid, body)
      })
    },

    /** [A.7] reported PATCH: 204 with the new $version and an empty body, or an error body. */
    patchReported (s: DeviceSession, rid: string, payload: Buffer): void {
      stats.twinPatches++
      let patch: JsonValue
      try {
        patch = JSON.parse(payload.toString('utf8')) as JsonValue
      } catch {
        enqueue(s, () => {
          reply(s, 400, rid, JSON.stringify({ errorCode: 400004, message: 'The reported properties patch is not valid JSON.' }))
        })
        return
      }
      enqueue(s, async () => {
        try {
          const version = await hub.twins.patchReported(s.identity, patch)
          reply(s, 204, rid, EMPTY, version)
        } catch (err) {
          const { status, body } = errorReply(err)
          reply(s, status, rid, body)
        }
      })
    }
  }
}

export type TwinHandler = ReturnType<typeof createTwinHandler>
