// Stored shapes of the accounts module (collections `accounts` and `audit` of the hub store).
import type { AuditEntry, Role } from '../../../shared/contract/auth.js'

/** An scrypt hash with its parameters, so they can be raised later without breaking old accounts. */
export interface PasswordHash {
  alg: 'scrypt'
  /** base64 */
  salt: string
  /** base64 */
  hash: string
  N: number
  r: number
  p: number
}

export interface AccountRecord {
  /** Lower-case; the store key. */
  name: string
  role: Role
  password: PasswordHash
  createdAt: string
  passwordChangedAt: string
  lastSignInAt: string | null
}

/** Audit entries are stored as the contract shows them, keyed by zero-padded seq. */
export type AuditRecord = AuditEntry
