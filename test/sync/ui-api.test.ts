// The sync part of the UI API over its WebSocket, against a real edge hub and a real cloud-role
// hub behind a pausable proxy: settings (write-only connection string, CA, test in plain
// words), status and events, the per-device table, conflicts with their three values, and
// resolution. A device on azure-iot-device-mqtt at the edge, a back end on azure-iothub.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateCa } from '../../src/main/hub/tls/ca.js'
import { tlsPaths } from '../../src/main/hub/tls/files.js'
import type { Result, UiEvent } from '../../src/shared/contract/index.js'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient, type DeviceClient, type Twin } from '../helpers/sdk.js'
import type { WsHub } from '../../src/renderer/src/lib/ws-hub.js'
import { waitFor } from './harness.js'
import { startSyncUi, type SyncUiEnv } from './ui-support.js'

const stack = new CleanupStack()
let env: SyncUiEnv
let api: WsHub
let device: DeviceClient
let twin: Twin
const events: UiEvent[] = []
/** Every frame the UI received, to prove the key never came back. */
const seen: string[] = []

const value = <T>(r: Result<T>): T => {
  seen.push(JSON.stringify(r))
  if (!r.ok) throw new Error(`${r.error.name} ${r.error.code}: ${r.error.message}`)
  return r.value
}
const report = (patch: Record<string, unknown>): Promise<void> => new Promise((resolve, reject) => {
  twin.properties.reported.update(patch, (err?: Error) => { if (err) reject(err); else resolve() })
})

beforeAll(async () => {
  env = await startSyncUi(stack.defer)
  api = await env.client()
  api.subscribe(b => { events.push(...b); seen.push(JSON.stringify(b)) })
  await env.edge.running.hub.registry.create({ deviceId: 'dev1' })
  await env.edge.running.hub.registry.create({ deviceId: 'dev2' })
  device = await openClient(env.edge.running.hub.registry.deviceConnectionString({ deviceId: 'dev1' }), { ca: env.ca, defer: stack.defer })
  twin = await device.getTwin()
}, 60_000)
afterAll(() => stack.run(), 60_000)

describe('sync over the UI API', () => {
  it('tests an upstream in plain words, refuses bad settings, and never sends the key back', async () => {
    expect(value(await api.call('sync.status', undefined))).toMatchObject({ configured: false, state: 'offline' })
    expect(value(await api.call('sync.settings.get', undefined))).toEqual({
      configured: false, upstreamHost: null, policyName: null, edgeDeviceId: null, ca: null, conflictPolicy: { mode: 'cloud-wins', afterMinutes: 1440 }
    })
    // the upstream is the admin's
    const supervisor = await env.client('supervisor')
    expect(await supervisor.call('sync.settings.set', { connectionString: env.upstreamCs })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await supervisor.call('sync.settings.test', {})).toMatchObject({ ok: false, error: { code: 403201 } })
    const key = /SharedAccessKey=([^;]+)/.exec(env.upstreamCs)?.[1] as string

    expect(value(await api.call('sync.settings.test', { connectionString: 'HostName=x' }))).toMatchObject({ ok: false, step: 'settings' })
    // another CA than the one that signed the cloud's certificate: TLS refuses, and says what to do
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-other-ca-'))
    mkdirSync(join(dir, 'tls'))
    stack.defer(() => { rmSync(dir, { recursive: true, force: true }) })
    const other = (await loadOrCreateCa(tlsPaths(dir), 'another-cloud')).ca.certPem
    const noCa = value(await api.call('sync.settings.test', { connectionString: env.upstreamCs, ca: other }))
    expect(noCa).toMatchObject({ ok: false, step: 'tls' })
    expect(noCa.message).toMatch(/not trusted.*add the CA/)
    const wrongKey = env.upstreamCs.replace(key, Buffer.from('not the key at all').toString('base64'))
    expect(value(await api.call('sync.settings.test', { connectionString: wrongKey, ca: env.ca }))).toMatchObject({ ok: false, step: 'auth' })
    const refused = env.upstreamCs.replace(/HostName=[^;]+/, 'HostName=127.0.0.1:1')
    expect(value(await api.call('sync.settings.test', { connectionString: refused, ca: env.ca }))).toMatchObject({ ok: false, step: 'network' })
    const good = value(await api.call('sync.settings.test', { connectionString: env.upstreamCs, ca: env.ca }))
    expect(good).toMatchObject({ ok: true, step: 'done' })
    expect(good.latencyMs).toBeGreaterThanOrEqual(0)

    const bad = await api.call('sync.settings.set', { connectionString: 'HostName=h;SharedAccessKeyName=p' })
    expect(bad).toMatchObject({ ok: false, error: { code: 400004, name: 'ArgumentInvalid' } })
    expect(!bad.ok && bad.error.message).toMatch(/^connectionString: .*SharedAccessKey/)
    const badCa = await api.call('sync.settings.set', { connectionString: env.upstreamCs, ca: 'not a pem' })
    expect(!badCa.ok && badCa.error.message).toMatch(/^ca is not a PEM certificate/)
    expect(await api.call('sync.settings.set', { connectionString: env.upstreamCs, edgeDeviceId: 'bad id' })).toMatchObject({ ok: false, error: { code: 400004 } })
    expect(env.edge.running.hub.sync.settings()).toBeNull() // nothing half-written

    const saved = value(await api.call('sync.settings.set', { connectionString: env.upstreamCs, ca: env.ca, edgeDeviceId: 'site-ui' }))
    expect(saved).toMatchObject({ configured: true, upstreamHost: env.proxy.ip, policyName: 'iothubowner', edgeDeviceId: 'site-ui' })
    expect(saved.ca?.subject).toMatch(/CN=/)
    await waitFor('sync.link online event', () => events.some(e => e.type === 'sync.link' && e.state === 'online'), 20_000)
    // a later save without the string keeps the stored one (the form never has it)
    value(await api.call('sync.settings.set', {}))
    expect(env.edge.running.hub.sync.settings()?.connectionString).toBe(env.upstreamCs)
    expect(seen.some(s => s.includes(key))).toBe(false)
  }, 60_000)

  it('shows the link, per-device states with filters, and queue events while offline and draining', async () => {
    // (the save above restarted the link)
    await waitFor('online, both mirrored', async () => {
      const s = value(await api.call('sync.status', undefined))
      return s.state === 'online' && value(await api.call('sync.devices', {})).counts.inSync === 2
    }, 20_000)
    const st = value(await api.call('sync.status', undefined))
    expect(st).toMatchObject({ configured: true, state: 'online', upstreamHost: env.proxy.ip, policyName: 'iothubowner', edgeDeviceId: 'site-ui' })
    expect(st.devices).toEqual({ inSync: 2, pending: 0, conflict: 0, notMirrored: 0 })
    expect(st.lastSuccessfulSync).not.toBeNull()

    env.proxy.pause()
    await waitFor('sync.link offline event', () => events.some(e => e.type === 'sync.link' && e.state === 'offline'), 15_000)
    for (let n = 1; n <= 4; n++) await report({ n })
    for (let i = 0; i < 30; i++) await device.sendEvent(message(JSON.stringify({ i })))
    const queued = await waitFor('queue event with 30 pending', () => events.findLast(e => e.type === 'sync.queue' && e.queue.telemetryPending === 30 && e.queue.reportedPendingDevices === 1), 15_000)
    expect(queued.type === 'sync.queue' && queued.devices).toEqual({ inSync: 1, pending: 1, conflict: 0, notMirrored: 0 })
    const pending = value(await api.call('sync.devices', { state: 'pending' }))
    expect(pending.items.map(r => [r.deviceId, r.state, r.pendingChanges])).toEqual([['dev1', 'pending', 4]])
    expect(pending.total).toBe(1)
    expect(value(await api.call('sync.devices', { search: 'DEV2' })).items.map(r => r.deviceId)).toEqual(['dev2'])
    expect(value(await api.call('sync.devices', { offset: 1, limit: 1 }))).toMatchObject({ total: 2, offset: 1, items: [{ deviceId: 'dev2' }] })
    const off = value(await api.call('sync.status', undefined))
    expect(['offline', 'connecting']).toContain(off.state) // it keeps trying, with backoff
    await waitFor('reconnect attempts counted', async () => value(await api.call('sync.status', undefined)).reconnectAttempts > 0, 15_000)
    expect(off.lastError).not.toBeNull()
    // the oldest waiting message: received before the check, after the cut
    expect(Date.parse(off.queue.backlogOldest ?? '')).toBeLessThanOrEqual(Date.now())
    expect(off.queue.telemetryPending).toBe(30)

    env.proxy.resume()
    await waitFor('queue drained event', () => events.findLast(e => e.type === 'sync.queue' && e.queue.telemetryPending === 0 && e.queue.sent === 30 && e.devices.inSync === 2), 30_000)
    expect(value(await api.call('sync.devices', {})).items.find(r => r.deviceId === 'dev1')).toMatchObject({ state: 'inSync', pendingChanges: 0, telemetrySent: 30 })
    expect(await api.call('sync.devices', { state: 'bogus' as never })).toMatchObject({ ok: false, error: { code: 400004 } })
  }, 90_000)

  it('lists a desired conflict with its three values and who changed it; resolves it field by field, online, as an approval', async () => {
    await env.cloudReg.updateTwin('dev1', { properties: { desired: { mode: 'normal', limit: 10 } } } as never, '*')
    await waitFor('mode=normal at the edge', () => env.edge.running.hub.twins.get({ deviceId: 'dev1' }).properties.desired['limit'] === 10, 20_000)
    expect(await env.edge.running.hub.sync.waitIdle(20_000)).toBe(true)
    env.proxy.pause()
    await waitFor('offline', () => env.edge.running.hub.sync.status().state === 'offline', 15_000)
    value(await api.call('twins.patchDesired', { deviceId: 'dev1', patch: { mode: 'eco', limit: 20 } }))
    await env.cloudReg.updateTwin('dev1', { properties: { desired: { mode: 'turbo', limit: 30 } } } as never, '*')
    env.proxy.resume()

    await waitFor('sync.conflict opened event', () => events.some(e => e.type === 'sync.conflict' && e.change === 'opened' && e.id === 'dev1|desired'), 30_000)
    const [c] = value(await api.call('sync.conflicts', undefined))
    expect(c).toMatchObject({
      id: 'dev1|desired', kind: 'desired', deviceId: 'dev1', perField: true, resolving: false,
      base: { mode: 'normal', limit: 10 }, local: { mode: 'eco', limit: 20 }, cloud: { mode: 'turbo', limit: 30 }, autoResolution: 'cloud'
    })
    expect([...(c?.fields ?? [])].sort()).toEqual(['limit', 'mode'])
    // who changed it at the site (the signed-in admin, through the UI) and when, on both sides
    expect(c?.changes['mode']?.local.by).toBe('ui:test-admin')
    expect(Date.parse(c?.changes['mode']?.local.at ?? '')).toBeGreaterThan(0)
    expect(c?.changes['mode']?.cloud.by).toBe('cloud')
    expect(Date.parse(c?.changes['mode']?.cloud.at ?? '')).toBeGreaterThan(0)
    expect(Date.parse(c?.autoResolveAt ?? '') - Date.parse(c?.detectedAt ?? '')).toBe(1440 * 60_000)
    expect(value(await api.call('sync.conflicts', { deviceId: 'dev2' }))).toEqual([])
    expect(value(await api.call('sync.devices', { state: 'conflict' })).items).toMatchObject([{ deviceId: 'dev1', conflicts: ['desired'] }])

    const unknown = await api.call('sync.resolve', { id: 'nope|desired', resolution: 'cloud' })
    expect(!unknown.ok && unknown.error.message).toMatch(/no open sync conflict 'nope\|desired'/)
    expect(await api.call('sync.resolve', { id: 'dev1|desired', resolution: { fields: {} } })).toMatchObject({ ok: false, error: { code: 400004 } })
    const partial = await api.call('sync.resolve', { id: 'dev1|desired', resolution: { fields: { mode: 'cloud' } } })
    expect(!partial.ok && partial.error.message).toMatch(/missing: limit/)
    expect(await api.call('sync.resolve', { id: 'dev1|desired', resolution: { fields: { mode: 'cloud', limit: 'cloud', other: 'cloud' } } })).toMatchObject({ ok: false, error: { code: 400004 } })
    // a technician may look, not decide (resolving is an approval)
    const tech = await env.client('technician')
    expect(value(await tech.call('sync.conflicts', undefined))).toHaveLength(1)
    expect(await tech.call('sync.resolve', { id: 'dev1|desired', resolution: 'cloud' })).toMatchObject({ ok: false, error: { code: 403201, name: 'Forbidden' } })

    env.proxy.pause()
    await waitFor('offline', () => env.edge.running.hub.sync.status().state === 'offline', 15_000)
    const supervisor = await env.client('supervisor')
    const offline = await supervisor.call('sync.resolve', { id: 'dev1|desired', resolution: 'local' })
    expect(offline).toMatchObject({ ok: false, error: { code: 503001, name: 'ServiceUnavailable' } })
    expect(!offline.ok && offline.error.message).toMatch(/link to the cloud is (offline|connecting)/)
    env.proxy.resume()
    await waitFor('online', () => env.edge.running.hub.sync.status().state === 'online', 20_000)

    const done = value(await supervisor.call('sync.resolve', { id: 'dev1|desired', resolution: { fields: { mode: 'local', limit: { value: 42 } } } }))
    expect(done).toEqual({ id: 'dev1|desired', by: 'ui:test-supervisor', applied: { mode: 'eco', limit: 42 } })
    await waitFor('sync.conflict cleared event', () => events.some(e => e.type === 'sync.conflict' && e.change === 'cleared' && e.id === 'dev1|desired'), 10_000)
    const ct = (await env.cloudReg.getTwin('dev1')).responseBody.properties.desired
    expect([ct['mode'], ct['limit']]).toEqual(['eco', 42])
    const lt = env.edge.running.hub.twins.get({ deviceId: 'dev1' }).properties.desired
    expect([lt['mode'], lt['limit']]).toEqual(['eco', 42])
    expect(value(await api.call('sync.conflicts', undefined))).toEqual([])
    expect(value(await api.call('sync.conflicts.resolved', { deviceId: 'dev1' }))[0]).toMatchObject({
      id: 'dev1|desired', outcome: 'resolved', by: 'ui:test-supervisor', decision: 'per field', applied: { mode: 'eco', limit: 42 }
    })
  }, 120_000)

  it('sets the default conflict policy without touching the link', async () => {
    const before = value(await api.call('sync.status', undefined))
    const set = value(await api.call('sync.settings.set', { conflictPolicy: { mode: 'manual', afterMinutes: 0 } }))
    expect(set.conflictPolicy).toEqual({ mode: 'manual', afterMinutes: 0 })
    expect(value(await api.call('sync.settings.get', undefined)).conflictPolicy).toEqual({ mode: 'manual', afterMinutes: 0 })
    const after = value(await api.call('sync.status', undefined))
    expect([after.state, after.since]).toEqual([before.state, before.since])
    expect(await api.call('sync.settings.set', { conflictPolicy: { mode: 'sometimes' as never, afterMinutes: 5 } })).toMatchObject({ ok: false, error: { code: 400004 } })
  })

  it('turns sync off from the UI (the hub forgets the upstream)', async () => {
    const off = value(await api.call('sync.settings.set', { enabled: false }))
    expect(off).toMatchObject({ configured: false, upstreamHost: null })
    expect(env.edge.running.hub.sync.settings()).toBeNull()
    expect(value(await api.call('sync.status', undefined)).configured).toBe(false)
    expect(await api.call('sync.settings.set', {})).toMatchObject({ ok: false, error: { code: 400004 } })
  })
})
