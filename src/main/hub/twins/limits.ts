// Twin validation (protocol B.4). Validators return the error instead of throwing (the
// aedes habit), so callers decide how to report it; messages name the offending path.
// Violations are 400 ArgumentInvalid (400004), B.4 [UNVERIFIED code choice].
import { HubError, argumentInvalid } from '../errors.js'
import type { JsonObject, JsonValue } from '../types.js'
import { isJsonObject } from './json.js'

export type TwinSection = 'tags' | 'desired' | 'reported'

export const TWIN_LIMITS = {
  keyBytes: 1024,
  stringBytes: 4096,
  /** Nested containers (objects and arrays) below the section root. */
  depth: 10,
  minInteger: -4503599627370496,
  maxInteger: 4503599627370495,
  sizeBytes: { tags: 8 * 1024, desired: 32 * 1024, reported: 32 * 1024 } as Record<TwinSection, number>
} as const

const SECTION_PATH: Record<TwinSection, string> = {
  tags: 'tags',
  desired: 'properties.desired',
  reported: 'properties.reported'
}
const SYSTEM_KEYS = new Set(['$version', '$metadata'])
// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g

/** Checks a patch or a whole section: a JSON object whose keys and values respect B.4. */
export function checkSection (section: TwinSection, value: unknown): HubError | undefined {
  const path = SECTION_PATH[section]
  if (!isJsonObject(value)) return argumentInvalid(`${path} must be a JSON object, got ${describe(value)}`)
  return checkNode(value, path, 0)
}

/** Checks the size of a section after a write (B.4: excluding $version and $metadata). */
export function checkSize (section: TwinSection, value: JsonObject): HubError | undefined {
  const size = jsonSize(value)
  const max = TWIN_LIMITS.sizeBytes[section]
  if (size <= max) return undefined
  return argumentInvalid(`${SECTION_PATH[section]} would be ${size} bytes, the maximum is ${max}`)
}

/**
 * B.4 size rule: sum of key lengths and value sizes; strings count their UTF-8 bytes
 * without control characters, numbers 8, booleans 4, containers the sum of their parts.
 */
export function jsonSize (v: JsonValue): number {
  if (typeof v === 'string') return utf8(v.replace(CONTROL_ALL, ''))
  if (typeof v === 'number') return 8
  if (typeof v === 'boolean') return 4
  if (v === null) return 0
  if (Array.isArray(v)) return v.reduce<number>((n, x) => n + jsonSize(x), 0)
  let n = 0
  for (const [k, x] of Object.entries(v)) n += utf8(k) + jsonSize(x)
  return n
}

/** Why a key is not acceptable, or undefined. */
export function keyProblem (key: string): string | undefined {
  if (SYSTEM_KEYS.has(key)) return 'is a system property and cannot be set'
  if (key === '') return 'is empty'
  if (CONTROL.test(key)) return 'contains a control character'
  for (const c of ['.', '$', ' ']) if (key.includes(c)) return `contains '${c}'`
  if (utf8(key) > TWIN_LIMITS.keyBytes) return `is longer than ${TWIN_LIMITS.keyBytes} bytes`
  return undefined
}

function checkNode (v: unknown, path: string, depth: number): HubError | undefined {
  switch (typeof v) {
    case 'boolean': return undefined
    case 'string': {
      const n = utf8(v)
      return n <= TWIN_LIMITS.stringBytes ? undefined : argumentInvalid(`${path}: string is ${n} bytes, the maximum is ${TWIN_LIMITS.stringBytes}`)
    }
    case 'number':
      if (!Number.isFinite(v)) return argumentInvalid(`${path}: ${v} is not a JSON number`)
      if (Number.isInteger(v) && (v < TWIN_LIMITS.minInteger || v > TWIN_LIMITS.maxInteger)) {
        return argumentInvalid(`${path}: integer ${v} is outside ${TWIN_LIMITS.minInteger}..${TWIN_LIMITS.maxInteger}`)
      }
      return undefined
    case 'object': {
      if (v === null) return undefined
      if (depth > TWIN_LIMITS.depth) return argumentInvalid(`${path}: nesting depth exceeds the maximum of ${TWIN_LIMITS.depth}`)
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const err = checkNode(v[i], `${path}[${i}]`, depth + 1)
          if (err) return err
        }
        return undefined
      }
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
        return argumentInvalid(`${path}: ${describe(v)} is not a JSON value`)
      }
      for (const [k, x] of Object.entries(v)) {
        const problem = keyProblem(k)
        if (problem) return argumentInvalid(`${path}: key ${JSON.stringify(k)} ${problem}`)
        const err = checkNode(x, `${path}.${k}`, depth + 1)
        if (err) return err
      }
      return undefined
    }
    default: return argumentInvalid(`${path}: ${describe(v)} is not a JSON value`)
  }
}

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object'
  return typeof v
}

function utf8 (s: string): number {
  return Buffer.byteLength(s, 'utf8')
}
