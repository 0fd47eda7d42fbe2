// Hand-written runtime validators (zod is not installed). A validator checks an unknown value
// and returns it typed, or says in plain words what is wrong and where. Inputs are the
// contract's trust boundary: the hub never sees a payload that did not pass one of these.
import type { JsonValue } from './model.js'

export type Check<T> = { ok: true; value: T } | { ok: false; message: string }
export type Validator<T> = (value: unknown, path?: string) => Check<T>
export type Infer<V> = V extends Validator<infer T> ? T : never

const bad = (path: string, what: string): { ok: false; message: string } => ({ ok: false, message: `${path || 'input'} ${what}` })
const good = <T>(value: T): { ok: true; value: T } => ({ ok: true, value })

export const none: Validator<undefined> = (v, p = '') => v === undefined || v === null ? good(undefined) : bad(p, 'must be empty')

export function str (opts: { min?: number; max?: number; pattern?: RegExp; patternHint?: string } = {}): Validator<string> {
  return (v, p = '') => {
    if (typeof v !== 'string') return bad(p, 'must be text')
    if (opts.min !== undefined && v.length < opts.min) return bad(p, opts.min === 1 ? 'must not be empty' : `must be at least ${opts.min} characters`)
    if (opts.max !== undefined && v.length > opts.max) return bad(p, `must be at most ${opts.max} characters`)
    if (opts.pattern !== undefined && !opts.pattern.test(v)) return bad(p, opts.patternHint ?? 'has an invalid format')
    return good(v)
  }
}

export function int (opts: { min?: number; max?: number } = {}): Validator<number> {
  return (v, p = '') => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return bad(p, 'must be a whole number')
    if (opts.min !== undefined && v < opts.min) return bad(p, `must be at least ${opts.min}`)
    if (opts.max !== undefined && v > opts.max) return bad(p, `must be at most ${opts.max}`)
    return good(v)
  }
}

/** Any finite number; `above` is an exclusive lower bound (e.g. a rate must be above 0). */
export function num (opts: { min?: number; above?: number; max?: number } = {}): Validator<number> {
  return (v, p = '') => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return bad(p, 'must be a number')
    if (opts.above !== undefined && !(v > opts.above)) return bad(p, `must be above ${opts.above}`)
    if (opts.min !== undefined && v < opts.min) return bad(p, `must be at least ${opts.min}`)
    if (opts.max !== undefined && v > opts.max) return bad(p, `must be at most ${opts.max}`)
    return good(v)
  }
}

/** An object used as a map: names (checked by `key`) to values passing `value`. */
export function record<T> (value: Validator<T>, opts: { key?: RegExp; keyHint?: string; max?: number } = {}): Validator<Record<string, T>> {
  return (v, p = '') => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) return bad(p, 'must be an object')
    const entries = Object.entries(v as Record<string, unknown>)
    if (opts.max !== undefined && entries.length > opts.max) return bad(p, `must have at most ${opts.max} entries`)
    const out: Record<string, T> = {}
    for (const [k, x] of entries) {
      const path = p ? `${p}.${k}` : k
      if (opts.key !== undefined && !opts.key.test(k)) return bad(path, opts.keyHint ?? 'is not a valid name')
      const r = value(x, path)
      if (!r.ok) return r
      out[k] = r.value
    }
    return good(out)
  }
}

export const bool: Validator<boolean> = (v, p = '') => typeof v === 'boolean' ? good(v) : bad(p, 'must be true or false')

export function oneOf<const T extends readonly string[]> (values: T): Validator<T[number]> {
  return (v, p = '') => typeof v === 'string' && values.includes(v) ? good(v as T[number]) : bad(p, `must be one of ${values.join(', ')}`)
}

function isJson (v: unknown, depth: number): boolean {
  if (depth > 20) return false
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true
  if (typeof v === 'number') return Number.isFinite(v)
  if (Array.isArray(v)) return v.every(x => isJson(x, depth + 1))
  if (typeof v === 'object') return Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(x => isJson(x, depth + 1))
  return false
}

export const json: Validator<JsonValue> = (v, p = '') => isJson(v, 0) ? good(v as JsonValue) : bad(p, 'must be JSON (objects, arrays, text, numbers, true/false, null; at most 20 levels deep)')

export const jsonObject: Validator<{ [k: string]: JsonValue }> = (v, p = '') =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && isJson(v, 0) ? good(v as { [k: string]: JsonValue }) : bad(p, 'must be a JSON object')

type Shape = Record<string, Validator<unknown>>
type Optional<V> = V & { readonly optional: true }
type OptKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S]
type ReqKeys<S extends Shape> = Exclude<keyof S, OptKeys<S>>
export type ObjectOf<S extends Shape> = { [K in ReqKeys<S>]: Infer<S[K]> } & { [K in OptKeys<S>]?: Infer<S[K]> }

/** An optional field: absent (or undefined) passes; present must pass `v`. */
export function optional<T> (v: Validator<T>): Optional<Validator<T | undefined>> {
  const f: Validator<T | undefined> = (x, p) => (x === undefined ? good(undefined) : v(x, p))
  return Object.assign(f, { optional: true as const })
}

/** A plain object with exactly these fields; unknown fields are refused (they are typos, not data). */
export function object<S extends Shape> (shape: S): Validator<ObjectOf<S>> {
  return (v, p = '') => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad(p, 'must be an object')
    const rec = v as Record<string, unknown>
    for (const k of Object.keys(rec)) if (!(k in shape)) return bad(p ? `${p}.${k}` : k, 'is not a known field')
    const out: Record<string, unknown> = {}
    for (const [k, check] of Object.entries(shape)) {
      const x = rec[k]
      const path = p ? `${p}.${k}` : k
      if (x === undefined) {
        if ((check as { optional?: boolean }).optional === true) continue
        return bad(path, 'is required')
      }
      const r = check(x, path)
      if (!r.ok) return r
      out[k] = r.value
    }
    return good(out as ObjectOf<S>)
  }
}

/** An array of `min`..`max` items, each passing `item` (the message names the index: `deviceIds[3] ...`). */
export function arrayOf<T> (item: Validator<T>, opts: { min?: number; max?: number } = {}): Validator<T[]> {
  return (v, p = '') => {
    if (!Array.isArray(v)) return bad(p, 'must be a list')
    if (opts.min !== undefined && v.length < opts.min) return bad(p, opts.min === 1 ? 'must not be empty' : `must have at least ${opts.min} items`)
    if (opts.max !== undefined && v.length > opts.max) return bad(p, `must have at most ${opts.max} items`)
    const out: T[] = []
    for (const [i, x] of v.entries()) {
      const r = item(x, `${p || 'input'}[${i}]`)
      if (!r.ok) return r
      out.push(r.value)
    }
    return good(out)
  }
}
