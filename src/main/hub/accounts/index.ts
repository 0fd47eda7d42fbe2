// Accounts, sessions, sign-in limits and the audit log of one hub, shared by everything that
// serves its UI (the UI server, Electron IPC) and by the CLI's account commands.
import type { Hub } from '../services.js'
import { createAccountService, type AccountService } from './accounts.js'
import { createAuditLog, type AuditLog, type AuditRetention } from './audit.js'
import { createSignInLimiter, type SignInLimiter, type SignInLimits } from './rate-limit.js'
import { createSessionManager, type SessionLimits, type SessionManager } from './sessions.js'

export interface AuthServices {
  accounts: AccountService
  sessions: SessionManager
  limiter: SignInLimiter
  audit: AuditLog
}

export interface AuthOptions {
  sessions?: Partial<SessionLimits>
  signIn?: Partial<SignInLimits>
  audit?: Partial<AuditRetention>
}

const byHub = new WeakMap<Hub, AuthServices>()

/** One set per hub; options apply on the first call (later calls may only change audit retention). */
export function authServicesFor (hub: Hub, opts: AuthOptions = {}): AuthServices {
  let s = byHub.get(hub)
  if (s === undefined) {
    const accounts = createAccountService(hub.store, hub.clock)
    s = {
      accounts,
      sessions: createSessionManager(accounts, hub.clock, opts.sessions),
      limiter: createSignInLimiter(hub.clock, opts.signIn),
      audit: createAuditLog(hub.store, hub.clock, opts.audit)
    }
    byHub.set(hub, s)
  } else if (opts.audit !== undefined) {
    s.audit.setRetention(opts.audit)
  }
  return s
}

export { createAccountService, normalizeName, type AccountService } from './accounts.js'
export { createAuditLog, type AuditLog, type AuditQuery, type AuditRetention } from './audit.js'
export { hashPassword, verifyPassword } from './passwords.js'
export { createSignInLimiter, type SignInLimiter } from './rate-limit.js'
export { createSessionManager, type Session, type SessionManager } from './sessions.js'
