// Creating stored twin records and the keys they live under.
import type { Identity, IdentityKey, TwinRecord } from '../types.js'
import { createMeta } from './metadata.js'

/** `deviceId` or `deviceId/moduleId`, the same key the registry uses for the device record. */
export function twinKey (identity: Identity): IdentityKey {
  return identity.moduleId === undefined ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`
}

/** `{deviceId, moduleId?}` without an undefined moduleId (exactOptionalPropertyTypes), for events and documents. */
export function identityFields (identity: Identity): { deviceId: string; moduleId?: string } {
  return identity.moduleId === undefined ? { deviceId: identity.deviceId } : { deviceId: identity.deviceId, moduleId: identity.moduleId }
}

/**
 * A new, empty twin (B.2): desired and reported at $version 1 with $metadata stamped at
 * creation, twin `version` 2 (as observed on the cloud), etag counter 1.
 */
export function newTwinRecord (identity: Identity, at: string, changeSeq: number): TwinRecord {
  return {
    ...identityFields(identity),
    tags: {},
    desired: {},
    desiredVersion: 1,
    desiredMeta: createMeta({}, at, 1),
    reported: {},
    reportedVersion: 1,
    reportedMeta: createMeta({}, at),
    version: 2,
    etagCounter: 1,
    changeSeq
  }
}
