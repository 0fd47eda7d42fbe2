// Failed sign-ins, counted per account name and per address in a sliding window. Past the
// allowance, sign-ins are refused (even with the right password) until the lockout ends;
// each further failure doubles the lockout, up to the window.
import type { Clock } from '../types.js'

export interface SignInLimits {
  /** Failures allowed per account name in the window before locking it. Default 5. */
  perAccount: number
  /** Failures allowed per address in the window. Default 20. */
  perAddress: number
  /** Default 15 minutes. */
  windowMs: number
  /** First lockout; doubles per further failure. Default 30 s. */
  lockoutMs: number
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { perAccount: 5, perAddress: 20, windowMs: 15 * 60_000, lockoutMs: 30_000 }

interface Counter { failures: number[]; lockedUntil: number }

export interface SignInLimiter {
  /** Milliseconds until `name` may try again from `address`; 0 = may try now. */
  wait(name: string, address: string): number
  failed(name: string, address: string): void
  succeeded(name: string, address: string): void
}

export function createSignInLimiter (clock: Clock, limits: Partial<SignInLimits> = {}): SignInLimiter {
  const l = { ...DEFAULT_SIGN_IN_LIMITS, ...limits }
  const counters = new Map<string, Counter>()
  const MAX_TRACKED = 10_000

  function counter (key: string): Counter {
    let c = counters.get(key)
    if (c === undefined) {
      if (counters.size >= MAX_TRACKED) prune()
      c = { failures: [], lockedUntil: 0 }
      counters.set(key, c)
    }
    return c
  }
  function prune (): void {
    const cutoff = clock.now() - l.windowMs
    for (const [k, c] of counters) if (c.lockedUntil < clock.now() && (c.failures.at(-1) ?? 0) < cutoff) counters.delete(k)
  }
  function fail (key: string, allowance: number): void {
    const now = clock.now()
    const c = counter(key)
    c.failures = c.failures.filter(t => t > now - l.windowMs)
    c.failures.push(now)
    const over = c.failures.length - allowance
    if (over >= 0) c.lockedUntil = now + Math.min(l.windowMs, l.lockoutMs * 2 ** over)
  }
  const keys = (name: string, address: string): [string, string] => [`n:${name.toLowerCase()}`, `a:${address}`]

  return {
    wait (name, address) {
      const now = clock.now()
      return Math.max(0, ...keys(name, address).map(k => (counters.get(k)?.lockedUntil ?? 0) - now))
    },
    failed (name, address) {
      const [n, a] = keys(name, address)
      fail(n, l.perAccount)
      fail(a, l.perAddress)
    },
    succeeded (name) {
      counters.delete(keys(name, '')[0])
    }
  }
}
