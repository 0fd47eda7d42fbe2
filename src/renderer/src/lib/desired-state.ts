// Whether the device has caught up with one desired leaf. Two ways a device answers desired:
// it reports the same path back (plain twin convention), or it acknowledges the top-level
// property the IoT Plug and Play way, `reported.<name> = {value, ac, av, ad}` (what the
// simulator and PnP devices do: docs/simulator.md). For the second, the value is read inside
// `value` and the ack code decides: 200 applied, 202 (or anything else below 400) pending,
// 400 and above refused (with the device's `ad` description).
import type { JsonObject, JsonValue } from '../../../shared/contract/index'

export type DesiredState = { state: 'applied' | 'pending' } | { state: 'refused'; reason: string }

const isObject = (v: JsonValue | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v)
const same = (a: JsonValue | undefined, b: JsonValue | undefined): boolean => JSON.stringify(a) === JSON.stringify(b)

function at (obj: JsonValue | undefined, parts: string[]): JsonValue | undefined {
  let node = obj
  for (const p of parts) {
    if (!isObject(node)) return undefined
    node = node[p]
  }
  return node
}

/** A PnP writable-property acknowledgement: `{value, ac: number, av: number}`. */
export function isWritableAck (v: JsonValue | undefined): v is JsonObject {
  return isObject(v) && 'value' in v && typeof v['ac'] === 'number' && typeof v['av'] === 'number'
}

/** The state of desired `path` (dot-separated) holding `value`, against the reported document. */
export function desiredState (path: string, value: JsonValue, reported: JsonObject): DesiredState {
  const [head = '', ...rest] = path.split('.')
  const ack = reported[head]
  if (isWritableAck(ack)) {
    const ac = ack['ac'] as number
    const acked = at(ack['value'], rest)
    if (!same(acked, value)) return { state: 'pending' }
    if (ac >= 400) return { state: 'refused', reason: typeof ack['ad'] === 'string' ? ack['ad'] : `refused by the device (code ${ac})` }
    return { state: ac === 200 ? 'applied' : 'pending' }
  }
  return { state: same(at(reported, path.split('.')), value) ? 'applied' : 'pending' }
}
