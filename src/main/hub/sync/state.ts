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

/** Key fingerprints (SHA-256, 16 hex digits) and status: the base never stores secrets. */
export const fp = (d: Pick<DeviceDocument, 'authentication' | 'status'>): Fingerprint => {
  const h = (k: string | null | undefined): string => (k ? createHash('sha256').update(k).digest('hex').slice(0, 16) : '')
  return { pk: h(d.authentication?.symmetricKey?.primaryKey), sk: h(d.authentication?.symmetricKey?.secondaryKey), status: d.status }
}
export const sameFp = (a: Fingerprint | undefined, b: Fingerprint | undefined): boolean => a !== undefined && b !== undefined && a.pk === b.pk && a.sk === b.sk && a.status === b.status
