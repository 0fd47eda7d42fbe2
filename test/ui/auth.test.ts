// Accounts, roles and the audit log end to end over the UI WebSocket, against a real hub:
// first-run setup (local only, once), sign-in with limits, every access level enforced at the
// boundary, sessions that follow account changes, and audit entries with before/after that
// never hold a secret — and that survive kill -9 of `sitehub serve` once answered.
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import type { AuditEntry, UiEvent } from '../../src/shared/contract/index.js'
import { createUiApi } from '../../src/main/hub/api/ui/handlers.js'
import { startUiServer } from '../../src/main/hub/api/ui/server.js'
import { createWsHub } from '../../src/renderer/src/lib/ws-hub.js'
import { startHubProcess, waitFor } from '../helpers/hub.js'
import { accountName, startUiHub, TEST_PASSWORD } from './support.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }
const status = () => ({ state: 'running' as const, endpoints: [], devices: 0, connected: 0 })

describe('accounts and roles over the UI WebSocket', () => {
  it('runs the first-run setup once, only from a local connection, then requires sign-in with limits', async () => {
    const env = await startUiHub(defer, { accounts: false })
    const api = env.client(null)
    expect(await api.call('auth.status', undefined)).toEqual({ ok: true, value: { setupNeeded: true, setupAllowed: true, session: null } })
    expect(await api.call('devices.list', {})).toMatchObject({ ok: false, error: { code: 401203, name: 'SetupRequired' } })
    expect(await api.call('auth.signIn', { name: 'admin', password: 'whatever1' })).toMatchObject({ ok: false, error: { code: 401203 } })
    // The same API seen from a LAN address (as the UI server passes it): no setup from there.
    const lan = createUiApi({ hub: env.hub.hub, status })
    defer(() => { lan.close() })
    expect(await lan.handle('auth.status', undefined, { address: '192.168.7.20', local: false })).toMatchObject({ ok: true, value: { setupNeeded: true, setupAllowed: false } })
    expect(await lan.handle('auth.setup', { name: 'mallory', password: 'lan password' }, { address: '192.168.7.20', local: false }))
      .toMatchObject({ ok: false, error: { code: 403201, name: 'Forbidden', message: expect.stringContaining('sitehub account add') } })
    expect(await api.call('auth.setup', { name: 'boss', password: 'short' })).toMatchObject({ ok: false, error: { code: 400004 } })
    const setup = await api.call('auth.setup', { name: 'Boss', password: 'boss password' })
    expect(setup).toMatchObject({ ok: true, value: { name: 'boss', role: 'admin' } })
    if (!setup.ok) return
    expect(await api.call('auth.setup', { name: 'second', password: 'second password' })).toMatchObject({ ok: false, error: { code: 403201, message: expect.stringContaining('Setup is done') } })
    expect(await api.call('hub.status', undefined)).toMatchObject({ ok: false, error: { code: 401201, name: 'Unauthorized', message: 'Sign in first' } })
    expect(await api.call('hub.status', undefined, setup.value.token)).toMatchObject({ ok: true })
    expect(await api.call('auth.status', undefined, setup.value.token)).toMatchObject({ ok: true, value: { setupNeeded: false, session: { name: 'boss', role: 'admin' } } })

    expect(await api.call('auth.signIn', { name: 'boss', password: 'wrong password' })).toMatchObject({ ok: false, error: { code: 401202, name: 'SignInFailed' } })
    expect(await api.call('auth.signIn', { name: 'nobody', password: 'boss password' })).toMatchObject({ ok: false, error: { code: 401202 } })
    const good = await api.call('auth.signIn', { name: 'BOSS', password: 'boss password' })
    expect(good).toMatchObject({ ok: true, value: { name: 'boss', role: 'admin' } })
    // Five wrong passwords lock the account: even the right one is refused until the lockout ends.
    for (let i = 0; i < 5; i++) await api.call('auth.signIn', { name: 'boss', password: `guess ${i}` })
    const locked = await api.call('auth.signIn', { name: 'boss', password: 'boss password' })
    expect(locked).toMatchObject({ ok: false, error: { code: 429201, name: 'TooManySignInAttempts', message: expect.stringMatching(/try again in \d+ s/) } })
    // Failed sign-ins are in the audit log with the name that was tried (never the password).
    const audit = await api.call('audit.list', { method: 'auth.signIn', outcome: 'error' }, setup.value.token)
    expect(audit.ok && audit.value.total).toBeGreaterThanOrEqual(7)
    expect(JSON.stringify(audit)).not.toMatch(/wrong password|guess \d|boss password/)
  }, 60_000)

  it('enforces every access level at the boundary, and logs refused attempts of signed-in users', async () => {
    const env = await startUiHub(defer)
    const admin = env.client('admin')
    const tech = env.client('technician')
    const sup = env.client('supervisor')
    const anon = env.client(null)
    expect(await admin.call('devices.create', { deviceId: 'd1' })).toMatchObject({ ok: true })

    // read: every role; nobody without a session; a made-up token is an ended session
    for (const c of [admin, tech, sup]) expect(await c.call('devices.list', {})).toMatchObject({ ok: true, value: { total: 1 } })
    expect(await anon.call('devices.list', {})).toMatchObject({ ok: false, error: { code: 401201, name: 'Unauthorized' } })
    expect(await anon.call('devices.list', {}, 'x'.repeat(43))).toMatchObject({ ok: false, error: { code: 401201, message: 'Your session has ended: sign in again' } })
    // without a session, not even the input is looked at
    expect(await anon.call('devices.create', { deviceId: 'has spaces' })).toMatchObject({ ok: false, error: { code: 401201 } })
    // a role without the level is refused before its input is checked, and the attempt is logged
    expect(await sup.call('devices.create', { deviceId: 'has spaces' })).toMatchObject({ ok: false, error: { code: 403201 } })

    // operate: technician and admin
    expect(await tech.call('twins.patchDesired', { deviceId: 'd1', patch: { interval: 5 } })).toMatchObject({ ok: true })
    expect(await admin.call('twins.patchDesired', { deviceId: 'd1', patch: { interval: 6 } })).toMatchObject({ ok: true })
    const refused = await sup.call('twins.patchDesired', { deviceId: 'd1', patch: { interval: 7 } })
    expect(refused).toMatchObject({ ok: false, error: { code: 403201, name: 'Forbidden', message: expect.stringContaining('Supervisor accounts cannot do this (twins.patchDesired)') } })
    expect(await sup.call('methods.invoke', { deviceId: 'd1', methodName: 'reboot' })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await sup.call('devices.connectionString', { deviceId: 'd1' })).toMatchObject({ ok: false, error: { code: 403201 } })
    const twin = await sup.call('twins.get', { deviceId: 'd1' })
    expect(twin.ok && twin.value.desired).toEqual({ interval: 6 })

    // admin: only admin (registry, configurations, accounts)
    for (const c of [tech, sup]) {
      expect(await c.call('devices.create', { deviceId: 'd2' })).toMatchObject({ ok: false, error: { code: 403201, message: expect.stringContaining('needs an admin account') } })
      expect(await c.call('devices.regenerateKey', { deviceId: 'd1', which: 'primary' })).toMatchObject({ ok: false, error: { code: 403201 } })
      expect(await c.call('configurations.create', { id: 'c1', targetCondition: '*', content: {} })).toMatchObject({ ok: false, error: { code: 403201 } })
      expect(await c.call('accounts.list', undefined)).toMatchObject({ ok: false, error: { code: 403201 } })
      expect(await c.call('accounts.create', { name: 'x', role: 'admin', password: 'promote me please' })).toMatchObject({ ok: false, error: { code: 403201 } })
    }
    expect(env.hub.hub.registry.get({ deviceId: 'd2' })).toBeUndefined()
    expect(await admin.call('accounts.list', undefined)).toMatchObject({ ok: true, value: expect.arrayContaining([expect.objectContaining({ name: accountName('supervisor'), role: 'supervisor' })]) })

    // approve: supervisors and admins acknowledge alerts (a failed method is one); technicians may not
    await admin.call('methods.invoke', { deviceId: 'd1', methodName: 'reboot', connectTimeoutInSeconds: 0 })
    const fleet = await sup.call('fleet.summary', undefined)
    const alert = fleet.ok ? fleet.value.alerts.find(a => a.kind === 'methodFailed' && a.deviceId === 'd1') : undefined
    expect(alert).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{16}$/), acknowledged: null })
    const alertId = alert?.id ?? ''
    expect(await tech.call('alerts.acknowledge', { id: alertId })).toMatchObject({ ok: false, error: { code: 403201, message: expect.stringContaining('needs a supervisor or admin account') } })
    expect(await sup.call('alerts.acknowledge', { id: 'feedfeedfeedfeed' })).toMatchObject({ ok: false, error: { code: 400004 } })
    expect(await sup.call('alerts.acknowledge', { id: alertId })).toMatchObject({ ok: true, value: { id: alertId, acknowledged: { by: accountName('supervisor') } } })
    const acked = await tech.call('fleet.summary', undefined)
    expect(acked.ok && acked.value.alerts.find(a => a.id === alertId)?.acknowledged?.by).toBe(accountName('supervisor'))
    const ackLog = await admin.call('audit.list', { method: 'alerts.acknowledge', outcome: 'ok' })
    expect(ackLog.ok && ackLog.value.items[0]).toMatchObject({ user: accountName('supervisor'), role: 'supervisor', before: { acknowledged: null }, after: { acknowledged: { by: accountName('supervisor') } } })
    expect(await admin.call('alerts.acknowledge', { id: alertId })).toMatchObject({ ok: true })

    // every role may change its own password
    expect(await sup.call('accounts.changeOwnPassword', { current: 'wrong one', password: 'new supervisor pw' })).toMatchObject({ ok: false, error: { code: 401202 } })
    expect(await sup.call('accounts.changeOwnPassword', { current: TEST_PASSWORD, password: 'new supervisor pw' })).toMatchObject({ ok: true, value: { name: accountName('supervisor') } })

    const log = await admin.call('audit.list', { outcome: 'error', user: accountName('supervisor') })
    expect(log.ok && log.value.items.map(e => e.method)).toEqual(expect.arrayContaining(['twins.patchDesired', 'methods.invoke', 'devices.create', 'accounts.create', 'accounts.changeOwnPassword']))
    expect(log.ok && log.value.items.find(e => e.method === 'twins.patchDesired')?.error).toMatchObject({ code: 403201, name: 'Forbidden' })
    // reads are not audited
    const reads = await admin.call('audit.list', { method: 'devices.list' })
    expect(reads.ok && reads.value.total).toBe(0)
  }, 60_000)

  it('records each change with who, what, target, outcome and before/after, and no secret', async () => {
    const env = await startUiHub(defer)
    const admin = env.client('admin')
    const tech = env.client('technician')
    expect(await admin.call('devices.create', { deviceId: 'press-1', tags: { line: 1 } })).toMatchObject({ ok: true })
    await tech.call('twins.patchDesired', { deviceId: 'press-1', patch: { interval: 10, mode: { eco: true } } })
    await tech.call('twins.patchDesired', { deviceId: 'press-1', patch: { interval: 20 } })
    await tech.call('twins.patchTags', { deviceId: 'press-1', patch: { line: 2 } })
    await tech.call('devices.setStatus', { deviceId: 'press-1', status: 'disabled', reason: 'maintenance' })
    const cs = await tech.call('devices.connectionString', { deviceId: 'press-1' })
    const regen = await admin.call('devices.regenerateKey', { deviceId: 'press-1', which: 'primary' })
    expect(await tech.call('methods.invoke', { deviceId: 'press-1', methodName: 'reboot', payload: { delay: 5 }, connectTimeoutInSeconds: 0 })).toMatchObject({ ok: false })
    await tech.call('jobs.create', { jobId: 'job-a', queryCondition: "deviceId = 'press-1'", desired: { a: 1 } })
    await admin.call('configurations.create', { id: 'cfg-1', targetCondition: 'tags.line = 2', priority: 3, content: { 'properties.desired.x': 1 } })
    await admin.call('configurations.remove', { id: 'cfg-1' })
    await admin.call('accounts.create', { name: 'newbie', role: 'technician', password: 'newbie secret pw' })
    await admin.call('accounts.setRole', { name: 'newbie', role: 'supervisor' })
    await admin.call('accounts.resetPassword', { name: 'newbie', password: 'newbie other pw' })
    const exported = await tech.call('devices.export', { format: 'csv', includeKeys: true })
    expect(exported.ok && exported.value.content).toMatch(/press-1/)
    await admin.call('devices.remove', { deviceId: 'press-1' })

    const page = await admin.call('audit.list', { limit: 500 })
    if (!page.ok) throw new Error(page.error.message)
    const byMethod = (m: string, n = 0): AuditEntry => page.value.items.filter(e => e.method === m).reverse()[n] as AuditEntry
    const first = byMethod('twins.patchDesired')
    expect(first).toMatchObject({
      user: accountName('technician'), role: 'technician', target: { kind: 'device', id: 'press-1' }, outcome: 'ok', error: null,
      input: { deviceId: 'press-1', patch: { interval: 10, mode: { eco: true } } },
      before: { desired: { interval: null, mode: null }, version: 1 }, after: { desired: { interval: 10, mode: { eco: true } }, version: 2 }
    })
    expect(first.address).toMatch(/^127\./)
    expect(byMethod('twins.patchDesired', 1)).toMatchObject({ before: { desired: { interval: 10 } }, after: { desired: { interval: 20 } } })
    expect(byMethod('twins.patchTags')).toMatchObject({ before: { tags: { line: 1 } }, after: { tags: { line: 2 } } })
    expect(byMethod('devices.create')).toMatchObject({ user: accountName('admin'), before: null, after: { status: 'enabled', tags: { line: 1 } } })
    expect(byMethod('devices.setStatus')).toMatchObject({ before: { status: 'enabled', statusReason: null }, after: { status: 'disabled', statusReason: 'maintenance' } })
    // Showing a connection string needs 'operate' but changes nothing: not in the log.
    expect(page.value.items.some(e => e.method === 'devices.connectionString')).toBe(false)
    const keys = byMethod('devices.regenerateKey')
    const kb = (keys.before as { keyFingerprints: { primary: string; secondary: string } }).keyFingerprints
    const ka = (keys.after as { keyFingerprints: { primary: string; secondary: string } }).keyFingerprints
    expect(kb.primary).toMatch(/^sha256:[0-9a-f]{12}$/)
    expect(ka.primary).not.toBe(kb.primary)
    expect(ka.secondary).toBe(kb.secondary)
    expect(byMethod('methods.invoke')).toMatchObject({ outcome: 'error', error: { code: 404103, name: 'DeviceNotOnline' }, input: { methodName: 'reboot', payload: { delay: 5 } } })
    expect(byMethod('jobs.create')).toMatchObject({ target: { kind: 'job', id: 'job-a' }, after: { jobId: 'job-a', type: 'scheduleUpdateTwin' } })
    expect(byMethod('configurations.create')).toMatchObject({ target: { kind: 'configuration', id: 'cfg-1' }, before: null, after: { targetCondition: 'tags.line = 2', priority: 3 } })
    expect(byMethod('configurations.remove')).toMatchObject({ before: { priority: 3 }, after: null })
    expect(byMethod('accounts.create')).toMatchObject({ target: { kind: 'account', id: 'newbie' }, before: null, after: { name: 'newbie', role: 'technician' }, input: { password: '(redacted)' } })
    expect(byMethod('accounts.setRole')).toMatchObject({ before: { role: 'technician' }, after: { role: 'supervisor' } })
    expect(byMethod('devices.export')).toMatchObject({ user: accountName('technician'), after: { devices: 1, withKeys: true } })
    expect(byMethod('devices.remove')).toMatchObject({ before: { status: 'disabled', tags: { line: 2 }, desired: { interval: 20, mode: { eco: true } } }, after: null })

    // No key, connection string or password anywhere in the log (nor in the store's audit records).
    const everything = JSON.stringify(page.value) + JSON.stringify([...env.hub.hub.store.entries('audit')])
    const key = cs.ok ? /SharedAccessKey=([^;]+)/.exec(cs.value.connectionString)?.[1] : undefined
    const newKey = regen.ok ? /SharedAccessKey=([^;]+)/.exec(regen.value.connectionString)?.[1] : undefined
    expect(key).toBeDefined()
    for (const secret of [key as string, newKey as string, 'newbie secret pw', 'newbie other pw', TEST_PASSWORD, 'SharedAccessKey']) expect(everything).not.toContain(secret)

    // Filters: by device, by method prefix, by user, paged.
    const dev = await admin.call('audit.list', { deviceId: 'press-1' })
    expect(dev.ok && dev.value.items.every(e => e.target?.id === 'press-1')).toBe(true)
    const twins = await admin.call('audit.list', { method: 'twins.' })
    expect(twins.ok && twins.value.total).toBe(3)
    const p1 = await admin.call('audit.list', { limit: 3 })
    expect(p1.ok && p1.value.items.length).toBe(3)
    const p2 = await admin.call('audit.list', { limit: 3, beforeSeq: p1.ok ? (p1.value.next ?? 0) : 0 })
    expect(p2.ok && p1.ok && p2.value.items[0]?.seq).toBeLessThan(p1.ok ? (p1.value.items[2]?.seq ?? 0) : 0)
  }, 60_000)

  it('ends sessions on sign-out, account removal and password reset; role changes apply at once; events only for signed-in sockets', async () => {
    const env = await startUiHub(defer, { intervalMs: 50 })
    const admin = env.client('admin')
    await env.account('technician')
    const raw = env.client(null)
    const session = await raw.call('auth.signIn', { name: accountName('technician'), password: TEST_PASSWORD })
    if (!session.ok) throw new Error(session.error.message)
    const token = session.value.token
    expect(await raw.call('twins.get', { deviceId: 'nope' }, token)).toMatchObject({ ok: false, error: { name: 'DeviceNotFound' } })
    await admin.call('accounts.setRole', { name: accountName('technician'), role: 'supervisor' })
    expect(await raw.call('devices.setStatus', { deviceId: 'nope', status: 'disabled' }, token)).toMatchObject({ ok: false, error: { code: 403201 } })
    await admin.call('accounts.resetPassword', { name: accountName('technician'), password: 'reset by admin' })
    expect(await raw.call('devices.list', {}, token)).toMatchObject({ ok: false, error: { code: 401201 } })
    const again = await raw.call('auth.signIn', { name: accountName('technician'), password: 'reset by admin' })
    if (!again.ok) throw new Error(again.error.message)
    expect(await raw.call('auth.signOut', undefined, again.value.token)).toEqual({ ok: true, value: { signedOut: true } })
    expect(await raw.call('devices.list', {}, again.value.token)).toMatchObject({ ok: false, error: { code: 401201 } })
    const third = await raw.call('auth.signIn', { name: accountName('technician'), password: 'reset by admin' })
    if (!third.ok) throw new Error(third.error.message)
    await admin.call('accounts.remove', { name: accountName('technician') })
    expect(await raw.call('devices.list', {}, third.value.token)).toMatchObject({ ok: false, error: { code: 401201 } })
    expect(await admin.call('accounts.remove', { name: accountName('admin') })).toMatchObject({ ok: false, error: { code: 403201, message: expect.stringContaining('last admin') } })

    // Events: a signed-in socket gets batches, a socket that never signed in gets none.
    const signed: UiEvent[] = []
    const anon: UiEvent[] = []
    admin.subscribe(ev => { signed.push(...ev) })
    await admin.call('hub.status', undefined)
    const stranger = createWsHub(`${env.ui.url.replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
    defer(() => { stranger.close() })
    stranger.subscribe(ev => { anon.push(...ev) })
    await stranger.call('auth.status', undefined)
    await admin.call('devices.create', { deviceId: 'evt-1' })
    await waitFor(() => signed.some(e => e.type === 'device.registry' && e.deviceId === 'evt-1'), 10_000, 'registry event')
    await admin.call('devices.create', { deviceId: 'evt-2' })
    await waitFor(() => signed.some(e => e.type === 'device.registry' && e.deviceId === 'evt-2'), 10_000, 'second registry event')
    expect(anon).toEqual([])
  }, 60_000)

  it('re-authenticates a reconnected WebSocket with its last session, so events resume without a new sign-in', async () => {
    const env = await startUiHub(defer, { intervalMs: 50 })
    await env.account('technician')
    const api = env.client(null)
    const s = await api.call('auth.signIn', { name: accountName('technician'), password: TEST_PASSWORD })
    if (!s.ok) throw new Error(s.error.message)
    const token = s.value.token
    const seen: UiEvent[] = []
    api.subscribe(ev => { seen.push(...ev) })
    const states: string[] = []
    api.onConnection(st => { states.push(st) })
    // The UI server goes away and comes back on the same port (a restart of the UI side).
    const port = env.ui.port
    await env.ui.close()
    await waitFor(() => states.includes('closed'), 10_000, 'socket closed')
    const again = await startUiServer({ hub: env.hub.hub, bind: env.hub.bind, port, staticDir: '/nonexistent', intervalMs: 50, status })
    defer(() => again.close())
    await waitFor(() => states.at(-1) === 'open', 20_000, 'reconnected')
    // no call made since: the client presented its token on its own; events flow again
    await env.hub.hub.registry.create({ deviceId: 'after-reconnect' })
    await waitFor(() => seen.some(e => e.type === 'device.registry' && e.deviceId === 'after-reconnect'), 10_000, 'event after reconnect')
    expect(await api.call('devices.get', { deviceId: 'after-reconnect' }, token)).toMatchObject({ ok: true })
  }, 60_000)

  it('keeps every answered change in the audit log through kill -9 of sitehub serve', async () => {
    const hub = await startHubProcess({ defer })
    const url = hub.ready.ui
    if (url === undefined) throw new Error('serve started without the UI')
    const connect = (): ReturnType<typeof createWsHub> => {
      const c = createWsHub(`${url.replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
      defer(() => { c.close() })
      return c
    }
    const api = connect()
    const setup = await api.call('auth.setup', { name: 'admin', password: 'durable admin pw' })
    if (!setup.ok) throw new Error(setup.error.message)
    api.setToken(setup.value.token)
    const N = 30
    // Concurrent changes: each answer means its entry is on disk.
    const answers = await Promise.all(Array.from({ length: N }, (_, i) => api.call('devices.create', { deviceId: `k-${i}` })))
    expect(answers.every(a => a.ok)).toBe(true)
    api.close()
    await hub.kill('SIGKILL')
    const ready = await hub.restart()
    const after = createWsHub(`${(ready.ui as string).replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
    defer(() => { after.close() })
    const again = await after.call('auth.signIn', { name: 'admin', password: 'durable admin pw' })
    if (!again.ok) throw new Error(again.error.message)
    const log = await after.call('audit.list', { method: 'devices.create', limit: 500 }, again.value.token)
    expect(log.ok && log.value.items.map(e => e.target?.id).sort()).toEqual(Array.from({ length: N }, (_, i) => `k-${i}`).sort())
    const setupEntry = await after.call('audit.list', { method: 'auth.setup' }, again.value.token)
    expect(setupEntry).toMatchObject({ ok: true, value: { total: 1, items: [{ user: 'admin', role: 'admin', outcome: 'ok' }] } })
  }, 120_000)
})
