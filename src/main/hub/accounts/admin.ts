// Admin-channel methods for UI accounts (`sitehub account ...`): the recovery path when no
// admin can sign in. Whoever can reach the admin socket or the data dir is trusted with this
// (the same trust as the device commands). Every change goes into the audit log as 'cli'.
import type { AccountView, Role } from '../../../shared/contract/auth.js'
import { ROLES } from '../../../shared/contract/auth.js'
import { argumentInvalid } from '../errors.js'
import type { Hub } from '../services.js'
import { authServicesFor } from './index.js'

export interface AccountAdminMethods {
  'accounts.list': { params: Record<string, never>; result: AccountView[] }
  'accounts.add': { params: { name: string; role: Role; password: string }; result: AccountView }
  'accounts.remove': { params: { name: string }; result: null }
  'accounts.passwd': { params: { name: string; password: string }; result: AccountView }
  'accounts.setRole': { params: { name: string; role: Role }; result: AccountView }
}

export const ACCOUNT_ADMIN_METHODS: ReadonlyArray<keyof AccountAdminMethods> = ['accounts.list', 'accounts.add', 'accounts.remove', 'accounts.passwd', 'accounts.setRole']

type Params = Record<string, unknown>
const text = (p: Params, k: string): string => {
  const v = p[k]
  if (typeof v !== 'string' || v === '') throw argumentInvalid(`${k} must be a non-empty string`)
  return v
}
const role = (p: Params): Role => {
  const r = p['role']
  if (typeof r !== 'string' || !ROLES.includes(r as Role)) throw argumentInvalid(`role must be one of ${ROLES.join(', ')}`)
  return r as Role
}

export function accountAdminHandlers (hub: Hub): { [M in keyof AccountAdminMethods]: (p: Params) => Promise<AccountAdminMethods[M]['result']> } {
  const auth = (): ReturnType<typeof authServicesFor> => authServicesFor(hub)
  const view = (v: AccountView | undefined): Record<string, string> | null => (v === undefined ? null : { name: v.name, role: v.role, passwordChangedAt: v.passwordChangedAt })
  /** Runs a change and records it (outcome, before/after of the account; never the password). */
  async function audited<T> (method: string, name: string, input: Record<string, string>, run: () => Promise<T>): Promise<T> {
    const { accounts, audit } = auth()
    const before = view(accounts.get(name))
    let result: T
    try {
      result = await run()
    } catch (err) {
      const e = err as { code?: number; errorName?: string; message?: string }
      await audit.record({
        user: 'cli', role: null, method: `cli.${method}`, target: { kind: 'account', id: name.toLowerCase() }, outcome: 'error',
        error: { code: e.code ?? 500001, name: e.errorName ?? 'ServerError', message: e.message ?? String(err) }, input, before, after: before, address: 'cli'
      })
      throw err
    }
    await audit.record({
      user: 'cli', role: null, method: `cli.${method}`, target: { kind: 'account', id: name.toLowerCase() }, outcome: 'ok',
      error: null, input, before, after: view(accounts.get(name)), address: 'cli'
    })
    return result
  }

  return {
    'accounts.list': async () => auth().accounts.list(),
    'accounts.add': async (p) => {
      const name = text(p, 'name')
      const r = role(p)
      return await audited('account.add', name, { name, role: r, password: '(redacted)' }, () => auth().accounts.create(name, r, text(p, 'password')))
    },
    'accounts.remove': async (p) => {
      const name = text(p, 'name')
      await audited('account.remove', name, { name }, () => auth().accounts.remove(name))
      return null
    },
    'accounts.passwd': async (p) => {
      const name = text(p, 'name')
      return await audited('account.passwd', name, { name, password: '(redacted)' }, async () => {
        const v = await auth().accounts.setPassword(name, text(p, 'password'))
        auth().sessions.revokeUser(v.name)
        return v
      })
    },
    'accounts.setRole': async (p) => {
      const name = text(p, 'name')
      const r = role(p)
      return await audited('account.role', name, { name, role: r }, () => auth().accounts.setRole(name, r))
    }
  }
}
