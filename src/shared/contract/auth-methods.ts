// Contract methods for accounts, sessions and the audit log (spread into methods.ts).
import { ACCOUNT_NAME, MIN_PASSWORD, ROLES, type AccountView, type AuditPage, type AuthStatus, type SessionInfo } from './auth.js'
import { int, none, object, oneOf, optional, str, type Validator } from './validate.js'

const name = str({ pattern: ACCOUNT_NAME, patternHint: 'must be 1-64 letters, digits or . _ - @' })
/** The password being set; sign-in takes any text (old rules may have allowed other passwords). */
const newPassword = str({ min: MIN_PASSWORD, max: 256 })
const password = str({ min: 1, max: 256 })
const role = oneOf(ROLES as readonly ['technician', 'supervisor', 'admin'])

export const authMethodInputs = {
  /** Whether setup is needed, and who the caller is (when its token is valid). */
  'auth.status': none,
  /** First run: creates the first admin and signs in. Only when no account exists, from loopback or the desktop app. */
  'auth.setup': object({ name, password: newPassword }),
  'auth.signIn': object({ name: str({ min: 1, max: 64 }), password }),
  'auth.signOut': none,
  'accounts.list': none,
  'accounts.create': object({ name, role, password: newPassword }),
  'accounts.remove': object({ name }),
  'accounts.setRole': object({ name, role }),
  'accounts.resetPassword': object({ name, password: newPassword }),
  'accounts.changeOwnPassword': object({ current: password, password: newPassword }),
  /** Newest first. `method` is a method name or a prefix ending in '.' (e.g. 'twins.'). */
  'audit.list': optional(object({
    user: optional(str({ max: 64 })),
    method: optional(str({ max: 64 })),
    deviceId: optional(str({ max: 128 })),
    outcome: optional(oneOf(['ok', 'error'] as const)),
    /** ISO times, inclusive. */
    from: optional(str({ max: 64 })),
    to: optional(str({ max: 64 })),
    beforeSeq: optional(int({ min: 1 })),
    limit: optional(int({ min: 1, max: 500 }))
  }))
} as const satisfies Record<string, Validator<unknown>>

export interface AuthMethodOutputs {
  'auth.status': AuthStatus
  'auth.setup': SessionInfo
  'auth.signIn': SessionInfo
  'auth.signOut': { signedOut: boolean }
  'accounts.list': AccountView[]
  'accounts.create': AccountView
  'accounts.remove': { name: string }
  'accounts.setRole': AccountView
  'accounts.resetPassword': AccountView
  'accounts.changeOwnPassword': AccountView
  'audit.list': AuditPage
}
