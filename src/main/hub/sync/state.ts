// Per-device sync state and identity fingerprints, shared by the engine and the conflict code.
import { createHash } from 'node:crypto'
import type { DeviceDocument, JsonObject, JsonValue } from '../types.js'

export interface Fingerprint { pk: string; sk: string; status: string; [k: string]: JsonValue }

export interface DeviceState {
  regBase?: Fingerprint
  reportedShadow?: JsonObject
  reportedVersion?: number
  cloudDesiredVersion?: number
  baseDesired?: JsonObject
  baseTags?: JsonObject
}

/** A twin section without $metadata / $version. */
export const stripMeta = (o: JsonObject | undefined): JsonObject => {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(o ?? {})) if (k !== '$metadata' && k !== '$version') out[k] = v
  return out
}

/**
 * Credential fingerprints (SHA-256, 16 hex digits) and status: the base never stores secrets.
 * SAS devices: their keys; X.509 devices (no keys): their thumbprints, prefixed so the two never match.
 */
export const fp = (d: Pick<DeviceDocument, 'authentication' | 'status'>): Fingerprint => {
  const h = (k: string | null | undefined): string => (k ? createHash('sha256').update(k).digest('hex').slice(0, 16) : '')
  const a = d.authentication
  const sas = a?.symmetricKey?.primaryKey ?? null
  if (sas === null && (a?.x509Thumbprint?.primaryThumbprint ?? null) !== null) {
    return { pk: `x509:${h(a?.x509Thumbprint?.primaryThumbprint)}`, sk: `x509:${h(a?.x509Thumbprint?.secondaryThumbprint)}`, status: d.status }
  }
  return { pk: h(sas), sk: h(a?.symmetricKey?.secondaryKey), status: d.status }
}

/** The credentials part of a device document, for writing it on the other side. */
export const authOf = (d: Pick<DeviceDocument, 'authentication'>): { type: DeviceDocument['authentication']['type']; symmetricKey: { primaryKey: string | null; secondaryKey: string | null }; x509Thumbprint: { primaryThumbprint: string | null; secondaryThumbprint: string | null } } => ({
  type: d.authentication.type,
  symmetricKey: { primaryKey: d.authentication.symmetricKey?.primaryKey ?? null, secondaryKey: d.authentication.symmetricKey?.secondaryKey ?? null },
  x509Thumbprint: { primaryThumbprint: d.authentication.x509Thumbprint?.primaryThumbprint ?? null, secondaryThumbprint: d.authentication.x509Thumbprint?.secondaryThumbprint ?? null }
})
export const sameFp = (a: Fingerprint | undefined, b: Fingerprint | undefined): boolean => a !== undefined && b !== undefined && a.pk === b.pk && a.sk === b.sk && a.status === b.status
