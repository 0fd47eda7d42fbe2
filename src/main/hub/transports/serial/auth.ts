// How a line-protocol device proves its identity (docs/serial-protocol.md "Identify"):
// a SAS token in `hello` (checked like an MQTT password), or a challenge-response over the
// device's symmetric key: sig = base64(HMAC-SHA256(base64decode(key), deviceId + "\n" + nonce)).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { AuthResult, Registry } from '../../services.js'

export const newNonce = (): string => randomBytes(18).toString('base64')

export function proofSignature (key: string, deviceId: string, nonce: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(`${deviceId}\n${nonce}`).digest('base64')
}

function matches (given: string, key: string | null, deviceId: string, nonce: string): boolean {
  if (key === null || key === '') return false
  const a = Buffer.from(given, 'base64')
  const b = Buffer.from(proofSignature(key, deviceId, nonce), 'base64')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Checks a challenge-response proof against the device's primary and secondary keys. */
export function checkProof (registry: Registry, deviceId: string, nonce: string, sig: string): AuthResult {
  const rec = registry.record({ deviceId })
  if (rec === undefined) return { ok: false, reason: `device '${deviceId}' is not registered` }
  if (rec.status !== 'enabled') return { ok: false, reason: `device '${deviceId}' is disabled` }
  if (rec.authentication.type !== 'sas') return { ok: false, reason: `device '${deviceId}' does not use symmetric keys; present a SAS token instead` }
  const { primaryKey, secondaryKey } = rec.authentication.symmetricKey
  if (matches(sig, primaryKey, deviceId, nonce) || matches(sig, secondaryKey, deviceId, nonce)) return { ok: true }
  return { ok: false, reason: `proof does not match device '${deviceId}''s keys` }
}
