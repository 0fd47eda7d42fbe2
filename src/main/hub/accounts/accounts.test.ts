// Accounts, passwords, sessions, sign-in limits and the audit log's retention, over the memory
// store (the durable store's own tests prove durability; the UI tests prove it end to end).
import { describe, expect, it } from 'vitest'
import { ACCESS, METHOD_NAMES, ROLES, isAudited, roleAllows, type Access } from '../../../shared/contract/index.js'
import { createMemoryStore } from '../store/memory-store.js'
import { createAccountService } from './accounts.js'
import { createAuditLog } from './audit.js'
import { hashPassword, verifyPassword } from './passwords.js'
import { createSignInLimiter } from './rate-limit.js'
import { createSessionManager } from './sessions.js'

const clockAt = (start = Date.parse('2026-01-01T00:00:00Z')): { now: () => number; advance: (ms: number) => void } => {
  let t = start
  return { now: () => t, advance: (ms) => { t += ms } }
}

describe('password hashing', () => {
  it('salts every hash, verifies the right password only, and keeps its parameters', async () => {
    const a = await hashPassword('correct horse battery')
    const b = await hashPassword('correct horse battery')
    expect(a.salt).not.toBe(b.salt)
    expect(a.hash).not.toBe(b.hash)
    expect(a).toMatchObject({ alg: 'scrypt', N: 32768, r: 8, p: 1 })
    expect(Buffer.from(a.salt, 'base64')).toHaveLength(16)
    expect(await verifyPassword('correct horse battery', a)).toBe(true)
    expect(await verifyPassword('correct horse batterY', a)).toBe(false)
    expect(await verifyPassword('', a)).toBe(false)
    // Cheaper parameters stored with a hash are honoured on verification (raising them later keeps old accounts working).
    const cheap = await hashPassword('pw-1234567', { N: 1024, r: 8, p: 1 })
    expect(await verifyPassword('pw-1234567', cheap)).toBe(true)
  })
})

describe('accounts', () => {
  it('creates case-insensitive names, never stores the password, and keeps the last admin', async () => {
    const store = createMemoryStore()
    const accounts = createAccountService(store, clockAt())
    await accounts.create('Alice', 'admin', 'alice password')
    expect(accounts.get('ALICE')).toMatchObject({ name: 'alice', role: 'admin', lastSignInAt: null })
    expect(JSON.stringify(store.get('accounts', 'alice'))).not.toContain('alice password')
    await expect(accounts.create('alice', 'technician', 'another one')).rejects.toMatchObject({ errorName: 'AccountAlreadyExists', code: 409201 })
    await expect(accounts.create('bob', 'technician', 'short')).rejects.toMatchObject({ errorName: 'ArgumentInvalid' })
    await expect(accounts.create('has space', 'technician', 'long enough')).rejects.toMatchObject({ errorName: 'ArgumentInvalid' })
    await expect(accounts.remove('alice')).rejects.toMatchObject({ errorName: 'Forbidden', message: expect.stringContaining('last admin') })
    await expect(accounts.setRole('alice', 'supervisor')).rejects.toMatchObject({ errorName: 'Forbidden' })
    await accounts.create('bob', 'admin', 'bob password')
    await accounts.setRole('alice', 'supervisor')
    expect(accounts.list().map(a => [a.name, a.role])).toEqual([['alice', 'supervisor'], ['bob', 'admin']])
    expect(await accounts.verify('alice', 'alice password')).toMatchObject({ name: 'alice' })
    expect(await accounts.verify('alice', 'bob password')).toBeUndefined()
    expect(await accounts.verify('nobody', 'alice password')).toBeUndefined()
    await accounts.setPassword('alice', 'a new password')
    expect(await accounts.verify('alice', 'alice password')).toBeUndefined()
    expect(await accounts.verify('Alice', 'a new password')).toMatchObject({ name: 'alice' })
    await accounts.remove('alice')
    await expect(accounts.remove('alice')).rejects.toMatchObject({ errorName: 'AccountNotFound', code: 404201 })
  })
})

describe('sessions', () => {
  it('are random, slide with use up to an absolute limit, follow role changes and end with the account', async () => {
    const clock = clockAt()
    const accounts = createAccountService(createMemoryStore(), clock)
    await accounts.create('root', 'admin', 'root password')
    await accounts.create('tech', 'technician', 'tech password')
    const sessions = createSessionManager(accounts, clock, { idleMs: 60_000, maxMs: 150_000 })
    const s1 = sessions.create('tech')
    const s2 = sessions.create('tech')
    expect(s1.token).not.toBe(s2.token)
    expect(s1.token.length).toBeGreaterThanOrEqual(43)
    expect(sessions.resolve(s1.token)).toMatchObject({ name: 'tech', role: 'technician' })
    expect(sessions.resolve('not-a-token-of-this-hub-at-all')).toBeUndefined()
    expect(sessions.resolve(undefined)).toBeUndefined()
    // sliding: used every 50 s it lives past the idle limit, but not past the absolute one
    for (let i = 0; i < 2; i++) { clock.advance(50_000); expect(sessions.resolve(s1.token)).toBeDefined() }
    clock.advance(50_000)
    expect(sessions.resolve(s1.token)).toBeUndefined()
    // s2 was not used: idle out
    expect(sessions.resolve(s2.token)).toBeUndefined()
    const s3 = sessions.create('tech')
    await accounts.setRole('tech', 'supervisor')
    expect(sessions.resolve(s3.token)?.role).toBe('supervisor')
    expect(sessions.revoke(s3.token)).toBe(true)
    expect(sessions.resolve(s3.token)).toBeUndefined()
    const s4 = sessions.create('tech')
    const s5 = sessions.create('tech')
    expect(sessions.revokeUser('tech', s5.token)).toBe(1)
    expect(sessions.resolve(s4.token)).toBeUndefined()
    expect(sessions.resolve(s5.token)).toBeDefined()
    await accounts.remove('tech')
    expect(sessions.resolve(s5.token)).toBeUndefined()
  })
})

describe('sign-in limits', () => {
  it('locks an account after repeated failures, doubling the wait, per account and per address', () => {
    const clock = clockAt()
    const l = createSignInLimiter(clock, { perAccount: 3, perAddress: 5, windowMs: 600_000, lockoutMs: 10_000 })
    for (let i = 0; i < 2; i++) { expect(l.wait('bob', '10.0.0.1')).toBe(0); l.failed('bob', '10.0.0.1') }
    expect(l.wait('bob', '10.0.0.1')).toBe(0)
    l.failed('bob', '10.0.0.1')
    expect(l.wait('bob', '10.0.0.1')).toBe(10_000)
    expect(l.wait('BOB', '10.0.0.9')).toBe(10_000) // the account is locked from anywhere
    expect(l.wait('carol', '10.0.0.1')).toBe(0) // the address is not (yet)
    clock.advance(10_000)
    expect(l.wait('bob', '10.0.0.1')).toBe(0)
    l.failed('bob', '10.0.0.1')
    expect(l.wait('bob', '10.0.0.2')).toBe(20_000)
    // five failures from one address lock it for every name
    l.failed('carol', '10.0.0.1')
    expect(l.wait('dave', '10.0.0.1')).toBe(10_000)
    expect(l.wait('dave', '10.0.0.3')).toBe(0)
    clock.advance(20_000)
    l.succeeded('bob', '10.0.0.2')
    expect(l.wait('bob', '10.0.0.2')).toBe(0)
  })
})

describe('the access table', () => {
  it('names every contract method, and roles grant exactly their levels', () => {
    expect(Object.keys(ACCESS).sort()).toEqual([...METHOD_NAMES].sort())
    const grants = (role: (typeof ROLES)[number]): Access[] => (['public', 'read', 'operate', 'approve', 'admin'] as const).filter(a => roleAllows(role, a))
    expect(grants('technician')).toEqual(['public', 'read', 'operate'])
    expect(grants('supervisor')).toEqual(['public', 'read', 'approve'])
    expect(grants('admin')).toEqual(['public', 'read', 'operate', 'approve', 'admin'])
    // changes are audited, reads are not
    expect(isAudited('twins.patchDesired')).toBe(true)
    expect(isAudited('auth.signIn')).toBe(true)
    expect(isAudited('accounts.changeOwnPassword')).toBe(true)
    expect(isAudited('devices.list')).toBe(false)
    expect(isAudited('auth.status')).toBe(false)
    expect(ACCESS['accounts.create']).toBe('admin')
    expect(ACCESS['twins.patchDesired']).toBe('operate')
  })
})

describe('audit log', () => {
  const entry = (user: string, method: string, deviceId?: string) => ({
    user, role: 'admin' as const, method, target: deviceId === undefined ? null : { kind: 'device' as const, id: deviceId }, outcome: 'ok' as const,
    error: null, input: {}, before: null, after: null, address: '127.0.0.1'
  })

  it('filters, pages newest first, keeps the newest N and drops old entries, and reloads from the store', async () => {
    const clock = clockAt()
    const store = createMemoryStore()
    const log = createAuditLog(store, clock, { maxEntries: 5, maxAgeDays: 1 })
    for (let i = 1; i <= 7; i++) { await log.record(entry(i % 2 === 0 ? 'ann' : 'bob', i <= 4 ? 'twins.patchDesired' : 'devices.remove', `d${i}`)); clock.advance(1000) }
    expect(log.size()).toBe(5)
    expect(store.size('audit')).toBe(5)
    const all = log.list()
    expect(all.items.map(e => e.seq)).toEqual([7, 6, 5, 4, 3])
    expect(log.list({ user: 'ANN' }).items.map(e => e.seq)).toEqual([6, 4])
    expect(log.list({ method: 'twins.' }).items.map(e => e.seq)).toEqual([4, 3])
    expect(log.list({ method: 'devices.remove', deviceId: 'd6' }).items.map(e => e.seq)).toEqual([6])
    const p1 = log.list({ limit: 2 })
    expect(p1).toMatchObject({ total: 5, next: 6 })
    const p2 = log.list({ limit: 2, beforeSeq: p1.next ?? 0 })
    expect(p2.items.map(e => e.seq)).toEqual([5, 4])
    expect(log.list({ from: new Date(Date.parse('2026-01-01T00:00:05Z')).toISOString() }).items.map(e => e.seq)).toEqual([7, 6])
    // a new log over the same store continues the sequence
    const again = createAuditLog(store, clock, { maxEntries: 5, maxAgeDays: 1 })
    expect((await again.record(entry('ann', 'jobs.create'))).seq).toBe(8)
    // age: two days later, a new entry pushes every old one out
    clock.advance(2 * 86_400_000)
    await again.record(entry('ann', 'jobs.cancel'))
    expect(again.list().items.map(e => e.seq)).toEqual([9])
    expect(store.size('audit')).toBe(1)
  })
})
