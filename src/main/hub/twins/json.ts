// Small JSON helpers shared by the twin modules. Twin values are plain JSON (no Dates,
// no undefined), so structural equality and cloning stay simple.
import type { JsonObject, JsonValue } from '../types.js'

/** A JSON object: not null, not an array. */
export function isJsonObject (v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function jsonEqual (a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a)
    if (ka.length !== Object.keys(b).length) return false
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
  }
  return false
}

/**
 * Deep copy of plain JSON. Used on every value that leaves the service so callers cannot
 * corrupt stored state. Hand-written because structuredClone costs several times more on the
 * small objects of the reported-patch hot path, and primitives need no copy at all.
 */
export function cloneJson<T> (v: T): T {
  if (typeof v !== 'object' || v === null) return v
  if (Array.isArray(v)) return v.map(cloneJson) as T
  const out: JsonObject = {}
  for (const k of Object.keys(v)) setOwn(out, k, cloneJson((v as JsonObject)[k] as JsonValue))
  return out as T
}

/** Freezes a stored record in place (recursively) so an accidental mutation throws instead of corrupting state. */
export function deepFreeze<T> (v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const child of Object.values(v)) deepFreeze(child)
  }
  return v
}

/** Own-property lookup: a twin key named like an Object.prototype member must not resolve to it. */
export function own (o: JsonObject, k: string): JsonValue | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined
}

/** Assignment that treats `__proto__` as an ordinary key (JSON.parse creates it as one). */
export function setOwn (o: JsonObject, k: string, v: JsonValue): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  else o[k] = v
}
