// Validation of admin request params: the admin socket is an external input (ARCHITECTURE rules).
import { argumentInvalid } from '../errors.js'
import type { IdentityParams } from './protocol.js'

export type Params = Record<string, unknown>

export function asParams (value: unknown): Params {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw argumentInvalid('params must be a JSON object')
  return value as Params
}

export function str (p: Params, name: string): string {
  const v = p[name]
  if (typeof v !== 'string' || v === '') throw argumentInvalid(`${name} must be a non-empty string`)
  return v
}

export function optStr (p: Params, name: string): string | undefined {
  const v = p[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw argumentInvalid(`${name} must be a string`)
  return v
}

export function optBool (p: Params, name: string): boolean | undefined {
  const v = p[name]
  if (v === undefined) return undefined
  if (typeof v !== 'boolean') throw argumentInvalid(`${name} must be true or false`)
  return v
}

export function optInt (p: Params, name: string): number | undefined {
  const v = p[name]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw argumentInvalid(`${name} must be a whole number`)
  return v
}

export function oneOf<T extends string> (p: Params, name: string, allowed: readonly T[], fallback?: T): T {
  const v = p[name] ?? fallback
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw argumentInvalid(`${name} must be one of ${allowed.join(', ')}`)
  }
  return v as T
}

export function identity (p: Params): IdentityParams {
  const moduleId = optStr(p, 'moduleId')
  return moduleId === undefined ? { deviceId: str(p, 'deviceId') } : { deviceId: str(p, 'deviceId'), moduleId }
}
