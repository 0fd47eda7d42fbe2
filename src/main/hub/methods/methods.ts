// Direct methods (protocol C.5, A.8): correlation by request id, connect and response timeouts.
import { HubError, argumentInvalid } from '../errors.js'
import type { HubEventBus } from '../events.js'
import type { ConnectionManager, InvokeOptions, MethodService } from '../services.js'
import type { Identity, JsonValue } from '../types.js'
import { identityKey } from '../registry/ids.js'

// [C.5] printable US-ASCII without $ ( ) < > @ , ; : \ " / [ ] ? = { } SP HT
const METHOD_NAME_RE = /^[!#%&'*+\-.0-9A-Z^_`a-z|~]{1,128}$/
const MAX_PAYLOAD = 128 * 1024

interface Pending {
  key: string
  resolve: (r: { status: number; payload: JsonValue }) => void
  timer: NodeJS.Timeout
}

export interface MethodDeps {
  connections: ConnectionManager
  events: HubEventBus
  exists: (identity: Identity) => boolean
}

function seconds (value: unknown, name: string, def: number, min: number, max: number): number {
  if (value === undefined || value === null) return def
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw argumentInvalid(`${name} must be an integer from ${min} to ${max} seconds.`)
  }
  return value
}

export function createMethodService (deps: MethodDeps): MethodService {
  const pending = new Map<string, Pending>()
  let counter = 0

  return {
    async invoke (identity: Identity, opts: InvokeOptions) {
      const started = Date.now()
      if (typeof opts.methodName !== 'string' || !METHOD_NAME_RE.test(opts.methodName)) {
        throw argumentInvalid(`'${String(opts.methodName)}' is not a valid method name: use printable ASCII without spaces or $ ( ) < > @ , ; : \\ " / [ ] ? = { }.`)
      }
      const responseTimeout = seconds(opts.responseTimeoutInSeconds, 'responseTimeoutInSeconds', 30, 5, 300)
      const connectTimeout = seconds(opts.connectTimeoutInSeconds, 'connectTimeoutInSeconds', 0, 0, 300)
      // [A.8] a null or absent payload travels as the 4 bytes `null`.
      const payloadJson = JSON.stringify(opts.payload ?? null)
      if (Buffer.byteLength(payloadJson) > MAX_PAYLOAD) throw new HubError('MessageTooLarge', 'The method payload is larger than 128 KB.')
      if (!deps.exists(identity)) {
        throw identity.moduleId === undefined
          ? new HubError('DeviceNotFound', `Device ${identity.deviceId} not registered.`)
          : new HubError('ModuleNotFound', `Module ${identity.moduleId} on device ${identity.deviceId} not registered.`)
      }
      const report = (status: number | null, error?: string): void => {
        const ev = { ...identity, methodName: opts.methodName, status, durationMs: Date.now() - started }
        deps.events.emit('method.invoked', error === undefined ? ev : { ...ev, error })
      }
      const online = await deps.connections.waitFor(identity, 'methods', connectTimeout * 1000)
      const conn = deps.connections.get(identity)
      if (!online || !conn) {
        report(null, 'DeviceNotOnline')
        throw new HubError('DeviceNotOnline', connectTimeout > 0 ? 'Timed out waiting for device to connect.' : 'The device is not online or has not subscribed to direct methods.')
      }
      const requestId = (++counter).toString(16)
      const result = await new Promise<{ status: number; payload: JsonValue } | null>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(requestId)
          resolve(null)
        }, responseTimeout * 1000)
        pending.set(requestId, { key: identityKey(identity), resolve, timer })
        conn.sendMethodRequest({ methodName: opts.methodName, requestId, payloadJson })
      })
      if (result === null) {
        report(null, 'GatewayTimeout')
        throw new HubError('GatewayTimeout', `Timed out waiting for the response from device ${identity.deviceId}.`)
      }
      report(result.status)
      return result
    },

    handleResponse (identity, requestId, status, payload) {
      const p = pending.get(requestId)
      // A device can only answer its own requests.
      if (!p || p.key !== identityKey(identity)) return false
      pending.delete(requestId)
      clearTimeout(p.timer)
      p.resolve({ status, payload })
      return true
    },

    pendingCount: () => pending.size
  }
}
