import { randomBytes } from 'node:crypto'
import { argumentInvalid, type HubError } from '../errors.js'

/** 32 random bytes, base64 (44 chars), as IoT Hub generates (C.2). */
export function generateKey (): string {
  return randomBytes(32).toString('base64')
}

/** A symmetric key must be base64 of 16 to 64 bytes. */
export function validateKey (key: string, which: string): HubError | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) {
    return argumentInvalid(`The ${which} key is not valid base64.`)
  }
  const bytes = Buffer.from(key, 'base64').length
  if (bytes < 16 || bytes > 64) return argumentInvalid(`The ${which} key must decode to 16-64 bytes, not ${bytes}.`)
  return null
}

export const deviceEtag = (counter: number): string => Buffer.from(String(counter)).toString('base64')

export function isoNow (ms: number): string {
  return new Date(ms).toISOString()
}

export const NEVER = '0001-01-01T00:00:00Z'
