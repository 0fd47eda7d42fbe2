// Sessions of the technician UI: random 256-bit tokens, kept in memory by their SHA-256
// (a hub restart signs everyone out). A session slides forward with use (idle limit) up to an
// absolute limit. The role is read from the account on every call, so a role change applies
// at once; removing an account or resetting its password ends its sessions.
import { createHash, randomBytes } from 'node:crypto'
import type { Role, SessionInfo } from '../../../shared/contract/auth.js'
import type { Clock } from '../types.js'
import type { AccountService } from './accounts.js'

export interface SessionLimits {
  /** Signed out after this long without a call. Default 12 hours (a shift and a half). */
  idleMs: number
  /** Signed out this long after signing in, whatever happens. Default 7 days. */
  maxMs: number
}
export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 12 * 3600_000, maxMs: 7 * 24 * 3600_000 }

export interface Session { name: string; role: Role; expiresAt: string }

export interface SessionManager {
  create(name: string): SessionInfo
  /** The live session for a token (and moves its idle expiry forward), or undefined. */
  resolve(token: string | undefined): Session | undefined
  /** Without sliding the expiry. */
  peek(token: string | undefined): Session | undefined
  revoke(token: string | undefined): boolean
  /** Ends every session of `name`, except `exceptToken`'s. */
  revokeUser(name: string, exceptToken?: string): number
  count(): number
}

interface Live { name: string; createdAt: number; lastUsed: number }

const digest = (token: string): string => createHash('sha256').update(token).digest('base64url')

export function createSessionManager (accounts: AccountService, clock: Clock, limits: Partial<SessionLimits> = {}): SessionManager {
  const l = { ...DEFAULT_SESSION_LIMITS, ...limits }
  const live = new Map<string, Live>()
  const expiry = (s: Live): number => Math.min(s.lastUsed + l.idleMs, s.createdAt + l.maxMs)

  function lookup (token: string | undefined, slide: boolean): Session | undefined {
    if (typeof token !== 'string' || token.length < 16 || token.length > 128) return undefined
    const key = digest(token)
    const s = live.get(key)
    if (s === undefined) return undefined
    const now = clock.now()
    const account = accounts.get(s.name)
    if (expiry(s) <= now || account === undefined) { live.delete(key); return undefined }
    if (slide) s.lastUsed = now
    return { name: s.name, role: account.role, expiresAt: new Date(expiry(s)).toISOString() }
  }

  accounts.onChange((name, change) => {
    if (change === 'removed') for (const [k, s] of live) if (s.name === name) live.delete(k)
  })

  return {
    create (name) {
      const account = accounts.get(name)
      if (account === undefined) throw new Error(`no account ${name}`)
      const token = randomBytes(32).toString('base64url')
      const now = clock.now()
      const s: Live = { name: account.name, createdAt: now, lastUsed: now }
      live.set(digest(token), s)
      // Forget expired sessions now and then, so the map does not grow with abandoned tabs.
      if (live.size % 64 === 0) for (const [k, x] of live) if (expiry(x) <= now) live.delete(k)
      return { token, name: account.name, role: account.role, expiresAt: new Date(expiry(s)).toISOString() }
    },
    resolve: (token) => lookup(token, true),
    peek: (token) => lookup(token, false),
    revoke (token) {
      if (typeof token !== 'string') return false
      return live.delete(digest(token))
    },
    revokeUser (name, exceptToken) {
      const keep = exceptToken === undefined ? undefined : digest(exceptToken)
      let n = 0
      for (const [k, s] of live) if (s.name === name && k !== keep) { live.delete(k); n++ }
      return n
    },
    count: () => live.size
  }
}
