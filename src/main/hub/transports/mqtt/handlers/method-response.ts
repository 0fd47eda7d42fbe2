// Direct method responses from the device (protocol A.8).
import type { JsonValue } from '../../../types.js'
import type { DeviceSession, HandlerDeps } from './types.js'

export function createMethodResponseHandler (deps: HandlerDeps) {
  const { hub, log, stats } = deps
  return function handleMethodResponse (s: DeviceSession, rid: string, status: number, payload: Buffer): void {
    stats.methodResponses++
    // [A.8] the body is JSON; empty means null
    const text = payload.toString('utf8')
    let value: JsonValue = null
    if (text.trim() !== '') {
      try {
        value = JSON.parse(text) as JsonValue
      } catch {
        log.warn('method response body is not JSON; passing it on as a string', { key: s.key, rid })
        value = text
      }
    }
    if (!hub.methods.handleResponse(s.identity, rid, status, value)) {
      log.debug('method response for an unknown request', { key: s.key, rid })
    }
  }
}
