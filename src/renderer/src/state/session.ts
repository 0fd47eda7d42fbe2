// The signed-in session of this window (vanilla zustand, no React). Wraps the transport's
// HubApi so every call carries the session token; a call refused with Unauthorized (session
// ended) or SetupRequired sends the window back to the sign-in or setup screen. The token is
// kept in sessionStorage, so a reload stays signed in and a closed tab does not.
import { createStore } from 'zustand/vanilla'
import {
  ACCESS, accessReason, roleAllows,
  type HubApi, type HubErrorInfo, type MethodName, type Role, type SessionInfo
} from '../../../shared/contract/index'

export type AuthPhase = 'checking' | 'waiting' | 'setup' | 'signIn' | 'signedIn'

export interface SessionState {
  phase: AuthPhase
  session: Omit<SessionInfo, 'token'> | null
  /** Setup phase: whether this connection may create the first admin. */
  setupAllowed: boolean
  /** Why the last sign-in / setup failed, or why the session ended. */
  error: HubErrorInfo | undefined
  busy: boolean
}

/** Minimal Storage (sessionStorage in the page, a Map in tests). */
export interface TokenStorage { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void }

const KEY = 'sitehub.session'

export function createSessionStore (base: HubApi, storage: TokenStorage | undefined) {
  const store = createStore<SessionState>()(() => ({ phase: 'checking', session: null, setupAllowed: false, error: undefined, busy: false }))
  let token: string | undefined = storage?.getItem(KEY) ?? undefined
  let retry: ReturnType<typeof setTimeout> | undefined

  function keep (s: SessionInfo): void {
    token = s.token
    storage?.setItem(KEY, s.token)
    const { token: _t, ...rest } = s
    store.setState({ phase: 'signedIn', session: rest, error: undefined, busy: false })
  }
  function drop (phase: 'signIn' | 'setup', error?: HubErrorInfo): void {
    token = undefined
    storage?.removeItem(KEY)
    store.setState({ phase, session: null, busy: false, error })
  }

  /** Asks the hub who we are (on start, and when the hub was not reachable). */
  async function check (): Promise<void> {
    if (retry !== undefined) { clearTimeout(retry); retry = undefined }
    const r = await base.call('auth.status', undefined, token)
    if (!r.ok) {
      // Hub not running yet (desktop) or not reachable: wait and ask again.
      store.setState({ phase: 'waiting', error: r.error })
      retry = setTimeout(() => { void check() }, 1000)
      return
    }
    if (r.value.setupNeeded) { drop('setup'); store.setState({ setupAllowed: r.value.setupAllowed }); return }
    if (r.value.session !== null && token !== undefined) { store.setState({ phase: 'signedIn', session: r.value.session, error: undefined }); return }
    drop('signIn')
  }

  async function signIn (name: string, password: string): Promise<boolean> {
    store.setState({ busy: true, error: undefined })
    const r = await base.call('auth.signIn', { name, password })
    if (!r.ok) {
      if (r.error.name === 'SetupRequired') { await check(); return false }
      store.setState({ busy: false, error: r.error })
      return false
    }
    keep(r.value)
    return true
  }

  async function setup (name: string, password: string): Promise<boolean> {
    store.setState({ busy: true, error: undefined })
    const r = await base.call('auth.setup', { name, password })
    if (!r.ok) { store.setState({ busy: false, error: r.error }); return false }
    keep(r.value)
    return true
  }

  async function signOut (): Promise<void> {
    const t = token
    drop('signIn')
    await base.call('auth.signOut', undefined, t)
  }

  /** The API the screens use: the token goes with every call. */
  const api: HubApi = {
    async call (method, input) {
      const r = await base.call(method, input, token)
      if (!r.ok && store.getState().phase === 'signedIn') {
        if (r.error.name === 'Unauthorized') drop('signIn', r.error)
        else if (r.error.name === 'SetupRequired') drop('setup', r.error)
      }
      return r
    },
    subscribe: (listener) => base.subscribe(listener)
  }

  return { store, api, check, signIn, setup, signOut }
}

export type SessionStore = ReturnType<typeof createSessionStore>

/** Whether `role` may call `method`, and if not, why (for disabled controls). */
export function can (role: Role | undefined, method: MethodName): { ok: boolean; reason: string } {
  const access = ACCESS[method]
  if (role === undefined) return { ok: false, reason: accessReason(access) }
  return roleAllows(role, access) ? { ok: true, reason: '' } : { ok: false, reason: accessReason(access) }
}
