// Local accounts of the technician UI, durable in the hub store (collection `accounts`).
// Names are case-insensitive (stored lower-case). There is always at least one admin once
// setup is done: the last admin cannot be removed or demoted.
import { ACCOUNT_NAME, MIN_PASSWORD, ROLES, type AccountView, type Role } from '../../../shared/contract/auth.js'
import { HubError } from '../errors.js'
import type { HubStore } from '../store/types.js'
import type { Clock } from '../types.js'
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.js'
import type { AccountRecord } from './types.js'

export interface AccountService {
  count(): number
  list(): AccountView[]
  get(name: string): AccountView | undefined
  /** Throws AccountAlreadyExists, ArgumentInvalid. */
  create(name: string, role: Role, password: string): Promise<AccountView>
  remove(name: string): Promise<void>
  setRole(name: string, role: Role): Promise<AccountView>
  setPassword(name: string, password: string): Promise<AccountView>
  /** The account when the password is right, else undefined (same time either way). */
  verify(name: string, password: string): Promise<AccountView | undefined>
  touchSignIn(name: string): Promise<void>
  /** Called after remove/setRole/setPassword with the account name (sessions follow). */
  onChange(listener: (name: string, change: 'removed' | 'role' | 'password') => void): () => void
}

export const normalizeName = (name: string): string => name.trim().toLowerCase()

export function viewOf (a: AccountRecord): AccountView {
  return { name: a.name, role: a.role, createdAt: a.createdAt, passwordChangedAt: a.passwordChangedAt, lastSignInAt: a.lastSignInAt }
}

export function checkPassword (password: string): void {
  if (password.length < MIN_PASSWORD) throw new HubError('ArgumentInvalid', `A password needs at least ${MIN_PASSWORD} characters`)
  if (password.length > 256) throw new HubError('ArgumentInvalid', 'A password can have at most 256 characters')
}

export function createAccountService (store: HubStore, clock: Clock): AccountService {
  const listeners = new Set<(name: string, change: 'removed' | 'role' | 'password') => void>()
  const now = (): string => new Date(clock.now()).toISOString()
  const emit = (name: string, change: 'removed' | 'role' | 'password'): void => { for (const l of listeners) l(name, change) }

  function mustGet (name: string): AccountRecord {
    const a = store.get('accounts', normalizeName(name))
    if (a === undefined) throw new HubError('AccountNotFound', `There is no account '${name}'`)
    return a
  }
  const admins = (): number => [...store.entries('accounts')].filter(([, a]) => a.role === 'admin').length

  return {
    count: () => store.size('accounts'),
    list: () => [...store.entries('accounts')].map(([, a]) => viewOf(a)).sort((a, b) => (a.name < b.name ? -1 : 1)),
    get (name) {
      const a = store.get('accounts', normalizeName(name))
      return a === undefined ? undefined : viewOf(a)
    },
    async create (name, role, password) {
      const key = normalizeName(name)
      if (!ACCOUNT_NAME.test(key)) throw new HubError('ArgumentInvalid', 'An account name must be 1-64 letters, digits or . _ - @')
      if (!ROLES.includes(role)) throw new HubError('ArgumentInvalid', `role must be one of ${ROLES.join(', ')}`)
      checkPassword(password)
      if (store.has('accounts', key)) throw new HubError('AccountAlreadyExists', `An account '${key}' already exists`)
      const hash = await hashPassword(password)
      // Re-check after the (slow) hash: two creates of one name must not both win.
      if (store.has('accounts', key)) throw new HubError('AccountAlreadyExists', `An account '${key}' already exists`)
      const at = now()
      const rec: AccountRecord = { name: key, role, password: hash, createdAt: at, passwordChangedAt: at, lastSignInAt: null }
      await store.put('accounts', key, rec)
      return viewOf(rec)
    },
    async remove (name) {
      const a = mustGet(name)
      if (a.role === 'admin' && admins() <= 1) throw new HubError('Forbidden', `'${a.name}' is the last admin account: make another admin first`)
      await store.del('accounts', a.name)
      emit(a.name, 'removed')
    },
    async setRole (name, role) {
      const a = mustGet(name)
      if (!ROLES.includes(role)) throw new HubError('ArgumentInvalid', `role must be one of ${ROLES.join(', ')}`)
      if (a.role === 'admin' && role !== 'admin' && admins() <= 1) throw new HubError('Forbidden', `'${a.name}' is the last admin account: make another admin first`)
      const rec = { ...a, role }
      await store.put('accounts', a.name, rec)
      emit(a.name, 'role')
      return viewOf(rec)
    },
    async setPassword (name, password) {
      checkPassword(password)
      const a = mustGet(name)
      const rec = { ...a, password: await hashPassword(password), passwordChangedAt: now() }
      await store.put('accounts', a.name, { ...(store.get('accounts', a.name) ?? a), password: rec.password, passwordChangedAt: rec.passwordChangedAt })
      emit(a.name, 'password')
      return viewOf(rec)
    },
    async verify (name, password) {
      const a = store.get('accounts', normalizeName(name))
      if (a === undefined) return await burnPasswordCheck(password) ? undefined : undefined
      return await verifyPassword(password, a.password) ? viewOf(a) : undefined
    },
    async touchSignIn (name) {
      const a = store.get('accounts', normalizeName(name))
      if (a !== undefined) await store.put('accounts', a.name, { ...a, lastSignInAt: now() })
    },
    onChange (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}
