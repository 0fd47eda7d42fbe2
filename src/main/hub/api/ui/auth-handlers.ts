// Handlers of the auth.*, accounts.* and audit.* contract methods. Access is checked before
// these run (handlers.ts); they see the caller and its session.
import type { AccountView, MethodInput, MethodOutput, SessionInfo } from '../../../../shared/contract/index.js'
import { HubError } from '../../errors.js'
import type { AuthServices } from '../../accounts/index.js'
import type { CallContext } from './caller.js'

type AuthMethod = 'auth.status' | 'auth.setup' | 'auth.signIn' | 'auth.signOut' | 'accounts.list' | 'accounts.create' | 'accounts.remove' |
  'accounts.setRole' | 'accounts.resetPassword' | 'accounts.changeOwnPassword' | 'audit.list'
export type AuthHandlers = { [M in AuthMethod]: (input: MethodInput<M>, ctx: CallContext) => Promise<MethodOutput<M>> | MethodOutput<M> }

export function createAuthHandlers (auth: AuthServices): AuthHandlers {
  const { accounts, sessions, limiter, audit } = auth
  let setupRunning: Promise<unknown> | undefined

  /** Checks a password under the sign-in limits (also used for changing one's own password). */
  async function checkPassword (name: string, password: string, address: string): Promise<AccountView> {
    const wait = limiter.wait(name, address)
    if (wait > 0) {
      throw new HubError('TooManySignInAttempts', `Too many failed sign-ins: try again in ${Math.ceil(wait / 1000)} s`)
    }
    const account = await accounts.verify(name, password)
    if (account === undefined) {
      limiter.failed(name, address)
      throw new HubError('SignInFailed', 'Wrong account name or password')
    }
    limiter.succeeded(name, address)
    return account
  }
  const mustSession = (ctx: CallContext): NonNullable<CallContext['session']> => {
    if (ctx.session === undefined) throw new HubError('Unauthorized', 'Sign in first')
    return ctx.session
  }

  return {
    'auth.status': (_input, ctx) => {
      const setupNeeded = accounts.count() === 0
      const s = sessions.peek(ctx.caller.token)
      return { setupNeeded, setupAllowed: setupNeeded && ctx.caller.local, session: s ?? null }
    },
    'auth.setup': async (input, ctx): Promise<SessionInfo> => {
      if (!ctx.caller.local) {
        throw new HubError('Forbidden', 'The first admin account can only be created on the hub machine itself (a loopback address, ' +
          "or the desktop app), or with 'sitehub account add'")
      }
      // One setup at a time: two first admins racing must not both win.
      while (setupRunning !== undefined) await setupRunning.catch(() => {})
      if (accounts.count() > 0) throw new HubError('Forbidden', 'Setup is done: sign in with an existing account')
      const run = accounts.create(input.name, 'admin', input.password)
      setupRunning = run
      try { await run } finally { setupRunning = undefined }
      await accounts.touchSignIn(input.name)
      return sessions.create(input.name)
    },
    'auth.signIn': async (input, ctx) => {
      if (accounts.count() === 0) throw new HubError('SetupRequired', 'No account exists yet: create the first admin account')
      const account = await checkPassword(input.name, input.password, ctx.caller.address)
      await accounts.touchSignIn(account.name)
      return sessions.create(account.name)
    },
    'auth.signOut': (_input, ctx) => ({ signedOut: sessions.revoke(ctx.caller.token) }),
    'accounts.list': () => accounts.list(),
    'accounts.create': (input) => accounts.create(input.name, input.role, input.password),
    'accounts.remove': async (input) => {
      await accounts.remove(input.name)
      return { name: input.name.toLowerCase() }
    },
    'accounts.setRole': (input) => accounts.setRole(input.name, input.role),
    'accounts.resetPassword': async (input, ctx) => {
      const view = await accounts.setPassword(input.name, input.password)
      // Whoever knew the old password is out; the admin doing this keeps their own session.
      sessions.revokeUser(view.name, ctx.caller.token)
      return view
    },
    'accounts.changeOwnPassword': async (input, ctx) => {
      const s = mustSession(ctx)
      await checkPassword(s.name, input.current, ctx.caller.address)
      const view = await accounts.setPassword(s.name, input.password)
      sessions.revokeUser(view.name, ctx.caller.token)
      return view
    },
    'audit.list': (input) => audit.list(input ?? {})
  }
}
