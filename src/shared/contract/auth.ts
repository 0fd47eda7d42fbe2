// Accounts, roles, sessions and the audit log as the UI sees them (issue 6). Pure TS: the hub
// core, the UI server, IPC and the renderer share these shapes and the role rules.
import type { JsonValue } from './model.js'

export type Role = 'technician' | 'supervisor' | 'admin'
export const ROLES: readonly Role[] = ['technician', 'supervisor', 'admin']

/**
 * What a contract method needs. 'public' is for signing in (no session yet); every other level
 * needs a session whose role grants it: technician = read + operate, supervisor = read +
 * approve, admin = everything.
 */
export type Access = 'public' | 'read' | 'operate' | 'approve' | 'admin'

const GRANTS: Record<Role, readonly Access[]> = {
  technician: ['public', 'read', 'operate'],
  supervisor: ['public', 'read', 'approve'],
  admin: ['public', 'read', 'operate', 'approve', 'admin']
}

export function roleAllows (role: Role, access: Access): boolean {
  return GRANTS[role].includes(access)
}

/** Plain words for a role, for the header and the accounts screen. */
export const ROLE_LABELS: Record<Role, string> = {
  technician: 'Technician',
  supervisor: 'Supervisor',
  admin: 'Admin'
}

/** Why a role cannot do something of this access level, in plain words (for disabled controls). */
export function accessReason (access: Access): string {
  switch (access) {
    case 'operate': return 'Needs a technician or admin account'
    case 'approve': return 'Needs a supervisor or admin account'
    case 'admin': return 'Needs an admin account'
    default: return 'Needs a signed-in account'
  }
}

/** Account names: letters, digits and . _ - @ (1-64). Case-insensitive: stored lower-case. */
export const ACCOUNT_NAME = /^[A-Za-z0-9._@-]{1,64}$/
export const MIN_PASSWORD = 8

export interface AccountView {
  name: string
  role: Role
  createdAt: string
  passwordChangedAt: string
  lastSignInAt: string | null
}

/** A signed-in session. The token goes with every call (WebSocket frame or IPC argument). */
export interface SessionInfo {
  token: string
  name: string
  role: Role
  /** Sliding: every call moves it forward, up to the session's absolute limit. */
  expiresAt: string
}

export interface AuthStatus {
  /** No account exists yet: the first admin must be created (auth.setup). */
  setupNeeded: boolean
  /** This connection may run the first-run setup (loopback or the desktop app). */
  setupAllowed: boolean
  /** The caller's session, when the token it sent is valid. */
  session: Omit<SessionInfo, 'token'> | null
}

export type AuditOutcome = 'ok' | 'error'

export interface AuditEntry {
  /** Increasing; newest entries have the highest. */
  seq: number
  at: string
  /** Account name; for a failed sign-in, the name that was tried. */
  user: string
  role: Role | null
  method: string
  /** What the call was about: a device, job, configuration or account. */
  target: { kind: 'device' | 'job' | 'configuration' | 'account'; id: string } | null
  outcome: AuditOutcome
  /** The IoT Hub code and name of a refused or failed call. */
  error: { code: number; name: string; message: string } | null
  /** The call's input, secrets redacted. */
  input: JsonValue
  /** The relevant state before and after the call (secrets never stored); null when none. */
  before: JsonValue
  after: JsonValue
  /** Where the call came from: an IP address, or 'desktop'. */
  address: string
}

export interface AuditPage {
  items: AuditEntry[]
  /** Entries matching the filters. */
  total: number
  /** Pass as `beforeSeq` to get the next (older) page; null at the end. */
  next: number | null
}
