// The renderer's session store (no React) against a fake of the contract: the token goes with
// every call and survives a reload through storage, an ended session sends the window back to
// sign-in, the first-run setup, and the audit diff rows the Audit screen shows.
import { describe, expect, it, vi } from 'vitest'
import { fail, ok, type HubApi, type Result } from '../../src/shared/contract/index.js'
import { can, createSessionStore } from '../../src/renderer/src/state/session.js'
import { diffRows } from '../../src/renderer/src/lib/audit-diff.js'

vi.mock('react', () => { throw new Error('the session store must not import react') })

function memoryStorage () {
  const m = new Map<string, string>()
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => { m.set(k, v) }, removeItem: (k: string) => { m.delete(k) }, map: m }
}

/** A fake hub with one account (ann / pw-ann-123) and token 't1' once signed in. */
function fakeHub (opts: { accounts?: boolean } = {}) {
  let accounts = opts.accounts ?? true
  const live = new Set<string>()
  const calls: Array<{ method: string; token: string | undefined }> = []
  const api: HubApi = {
    call (method, input, token) {
      calls.push({ method, token })
      const r = ((): Result<unknown> => {
        const session = token !== undefined && live.has(token) ? { name: 'ann', role: 'technician' as const, expiresAt: '2030-01-01T00:00:00Z' } : null
        switch (method) {
          case 'auth.status': return ok({ setupNeeded: !accounts, setupAllowed: true, session })
          case 'auth.setup': accounts = true; live.add('t0'); return ok({ token: 't0', name: 'boss', role: 'admin', expiresAt: '2030-01-01T00:00:00Z' })
          case 'auth.signIn': {
            const i = input as { name: string; password: string }
            if (i.password !== 'pw-ann-123') return fail(401202, 'SignInFailed', 'Wrong account name or password')
            live.add('t1')
            return ok({ token: 't1', name: 'ann', role: 'technician', expiresAt: '2030-01-01T00:00:00Z' })
          }
          case 'auth.signOut': return ok({ signedOut: token !== undefined && live.delete(token) })
          default: return session === null ? fail(401201, 'Unauthorized', 'Your session has ended: sign in again') : ok({ state: 'running' })
        }
      })()
      return Promise.resolve(r as never)
    },
    subscribe: () => () => {}
  }
  return { api, calls, live }
}

describe('session store', () => {
  it('signs in, sends the token with every call, keeps it across a reload, and signs out', async () => {
    const hub = fakeHub()
    const storage = memoryStorage()
    const s = createSessionStore(hub.api, storage)
    await s.check()
    expect(s.store.getState().phase).toBe('signIn')
    expect(await s.signIn('ann', 'wrong')).toBe(false)
    expect(s.store.getState()).toMatchObject({ phase: 'signIn', error: { code: 401202 } })
    expect(await s.signIn('ann', 'pw-ann-123')).toBe(true)
    expect(s.store.getState()).toMatchObject({ phase: 'signedIn', session: { name: 'ann', role: 'technician' }, error: undefined })
    expect(storage.map.get('sitehub.session')).toBe('t1')
    expect(await s.api.call('hub.status', undefined)).toMatchObject({ ok: true })
    expect(hub.calls.at(-1)).toEqual({ method: 'hub.status', token: 't1' })
    // a reload: a new store over the same storage is signed in without asking
    const again = createSessionStore(hub.api, storage)
    await again.check()
    expect(again.store.getState()).toMatchObject({ phase: 'signedIn', session: { name: 'ann' } })
    await again.signOut()
    expect(again.store.getState().phase).toBe('signIn')
    expect(storage.map.has('sitehub.session')).toBe(false)
    expect(hub.live.size).toBe(0)
  })

  it('goes back to sign-in when the hub says the session ended', async () => {
    const hub = fakeHub()
    const s = createSessionStore(hub.api, memoryStorage())
    await s.check()
    await s.signIn('ann', 'pw-ann-123')
    hub.live.clear() // e.g. an admin reset the password
    const r = await s.api.call('devices.list', {})
    expect(r).toMatchObject({ ok: false, error: { name: 'Unauthorized' } })
    expect(s.store.getState()).toMatchObject({ phase: 'signIn', session: null, error: { code: 401201 } })
  })

  it('offers the first-run setup, and is signed in as the new admin after it', async () => {
    const hub = fakeHub({ accounts: false })
    const s = createSessionStore(hub.api, memoryStorage())
    await s.check()
    expect(s.store.getState()).toMatchObject({ phase: 'setup', setupAllowed: true })
    expect(await s.setup('boss', 'boss password')).toBe(true)
    expect(s.store.getState()).toMatchObject({ phase: 'signedIn', session: { name: 'boss', role: 'admin' } })
  })

  it('says what a role may not do', () => {
    expect(can('technician', 'twins.patchDesired')).toEqual({ ok: true, reason: '' })
    expect(can('supervisor', 'twins.patchDesired')).toEqual({ ok: false, reason: 'Needs a technician or admin account' })
    expect(can('technician', 'accounts.create')).toEqual({ ok: false, reason: 'Needs an admin account' })
    expect(can(undefined, 'devices.list').ok).toBe(false)
  })
})

describe('audit diff rows', () => {
  it('lists every leaf of before and after, marking changed, added, removed and same', () => {
    expect(diffRows({ desired: { interval: null, mode: { eco: true } }, version: 1 }, { desired: { interval: 15, mode: { eco: true } }, version: 2 })).toEqual([
      { path: 'desired.interval', before: 'null', after: '15', change: 'changed' },
      { path: 'desired.mode.eco', before: 'true', after: 'true', change: 'same' },
      { path: 'version', before: '1', after: '2', change: 'changed' }
    ])
    expect(diffRows(null, { status: 'enabled', tags: {} })).toEqual([
      { path: 'status', before: undefined, after: '"enabled"', change: 'added' },
      { path: 'tags', before: undefined, after: '{}', change: 'added' }
    ])
    expect(diffRows({ role: 'admin' }, null)).toEqual([{ path: 'role', before: '"admin"', after: undefined, change: 'removed' }])
    expect(diffRows(null, null)).toEqual([])
  })
})
