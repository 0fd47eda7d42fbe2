// The UI API end to end over its WebSocket, against a real in-process hub: validation before
// the hub, Result envelopes with IoT Hub codes, query error positions, etag conflicts, and
// coalesced events.
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import type { UiEvent } from '../../src/shared/contract/index.js'
import { startUiServer } from '../../src/main/hub/api/ui/server.js'
import { waitFor } from '../helpers/hub.js'
import { startUiHub } from './support.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }

describe('UI API over the WebSocket', () => {
  it('validates input before the hub sees it, and answers in Result envelopes', async () => {
    const { client, hub } = await startUiHub(defer)
    const api = client()
    const status = await api.call('hub.status', undefined)
    expect(status).toMatchObject({ ok: true, value: { state: 'running', devices: 0 } })
    // @ts-expect-error: not a method of the contract
    expect(await api.call('devices.explode', {})).toEqual({ ok: false, error: { code: 0, name: 'UnknownMethod', message: "The hub has no UI method 'devices.explode'" } })
    // a device id the type allows (any string) but the contract's pattern refuses
    expect(await api.call('devices.create', { deviceId: 'has spaces' })).toMatchObject({ ok: false, error: { code: 400004, name: 'ArgumentInvalid' } })
    expect(hub.hub.registry.count().total).toBe(0)
    expect(await api.call('devices.get', { deviceId: 'nope' })).toMatchObject({ ok: false, error: { code: 404001, name: 'DeviceNotFound' } })
  })

  it('creates, lists, searches, queries (with the error position in the user text) and removes devices', async () => {
    const { client } = await startUiHub(defer)
    const api = client()
    for (const id of ['press-1', 'press-2', 'oven-1']) {
      expect(await api.call('devices.create', { deviceId: id, tags: { line: id.startsWith('press') ? 1 : 2 } })).toMatchObject({ ok: true, value: { deviceId: id, status: 'enabled', connectionState: 'Disconnected' } })
    }
    expect(await api.call('devices.create', { deviceId: 'oven-1' })).toMatchObject({ ok: false, error: { code: 409001, name: 'DeviceAlreadyExists' } })
    const all = await api.call('devices.list', {})
    expect(all.ok && all.value.items.map(r => r.deviceId)).toEqual(['oven-1', 'press-1', 'press-2'])
    const search = await api.call('devices.list', { search: 'PRESS' })
    expect(search.ok && search.value.total).toBe(2)
    const cond = await api.call('devices.list', { query: 'tags.line = 2' })
    expect(cond.ok && cond.value.items.map(r => r.deviceId)).toEqual(['oven-1'])
    const full = await api.call('devices.list', { query: 'SELECT * FROM devices WHERE tags.line = 1' })
    expect(full.ok && full.value.total).toBe(2)
    const bad = await api.call('devices.list', { query: 'tags.line = = 2' })
    expect(bad.ok).toBe(false)
    if (!bad.ok) {
      expect(bad.error).toMatchObject({ code: 400004, name: 'ArgumentInvalid' })
      // the position points into "tags.line = = 2", not into the SELECT the hub ran it in
      expect(bad.error.query?.position).toEqual({ offset: 13, line: 1, column: 13 })
    }
    const q = await api.call('query.run', { query: 'SELECT tags.line AS line, COUNT() AS n FROM devices GROUP BY tags.line' })
    expect(q.ok && q.value.total).toBe(2)
    const badQ = await api.call('query.run', { query: 'SELECT * FROM devices WHERE' })
    expect(!badQ.ok && badQ.error.query?.position?.offset).toBe(28)
    expect(await api.call('devices.remove', { deviceId: 'oven-1' })).toEqual({ ok: true, value: { deviceId: 'oven-1' } })
    const after = await api.call('devices.list', {})
    expect(after.ok && after.value.total).toBe(2)
  })

  it('shows and regenerates connection strings, and enables/disables devices', async () => {
    const { client } = await startUiHub(defer)
    const api = client()
    await api.call('devices.create', { deviceId: 'd1' })
    const cs1 = await api.call('devices.connectionString', { deviceId: 'd1' })
    expect(cs1.ok && cs1.value.connectionString).toMatch(/^HostName=.*;DeviceId=d1;SharedAccessKey=.+$/)
    const cs2 = await api.call('devices.regenerateKey', { deviceId: 'd1', which: 'primary' })
    expect(cs2.ok && cs1.ok && cs2.value.connectionString !== cs1.value.connectionString).toBe(true)
    expect(await api.call('devices.setStatus', { deviceId: 'd1', status: 'disabled', reason: 'maintenance' })).toMatchObject({ ok: true, value: { status: 'disabled' } })
    const sum = await api.call('fleet.summary', undefined)
    expect(sum).toMatchObject({ ok: true, value: { devices: { total: 1, disabled: 1, connected: 0 } } })
  })

  it('patches desired with the etag the UI showed, and reports a conflict as PreconditionFailed', async () => {
    const { client } = await startUiHub(defer)
    const api = client()
    await api.call('devices.create', { deviceId: 'd1' })
    const t0 = await api.call('twins.get', { deviceId: 'd1' })
    if (!t0.ok) throw new Error('twins.get failed')
    const t1 = await api.call('twins.patchDesired', { deviceId: 'd1', patch: { interval: 10 }, etag: t0.value.etag })
    expect(t1).toMatchObject({ ok: true, value: { desired: { interval: 10 }, desiredVersion: 2 } })
    if (t1.ok) expect(t1.value.desiredMeta).toHaveProperty(['interval', '$lastUpdated'])
    const stale = await api.call('twins.patchDesired', { deviceId: 'd1', patch: { interval: 20 }, etag: t0.value.etag })
    expect(stale).toMatchObject({ ok: false, error: { code: 412001, name: 'PreconditionFailed' } })
    const tags = await api.call('twins.patchTags', { deviceId: 'd1', patch: { site: 'hall-2' } })
    expect(tags).toMatchObject({ ok: true, value: { tags: { site: 'hall-2' }, desired: { interval: 10 } } })
  })

  it('creates a twin-update job on a query, lists it, and reports per-device results', async () => {
    const { client, hub } = await startUiHub(defer)
    const api = client()
    await api.call('devices.create', { deviceId: 'j1', tags: { line: 4 } })
    expect(await api.call('jobs.create', { queryCondition: 'tags.line = 4', methodName: 'reboot', desired: { a: 1 } }))
      .toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('either a method') } })
    const created = await api.call('jobs.create', { jobId: 'job-1', queryCondition: 'tags.line = 4', desired: { mode: 'eco' } })
    expect(created).toMatchObject({ ok: true, value: { jobId: 'job-1', type: 'scheduleUpdateTwin', methodName: null } })
    await hub.hub.jobs.wait('job-1')
    const list = await api.call('jobs.list', undefined)
    expect(list.ok && list.value.map(j => [j.jobId, j.status, j.stats.succeededCount])).toEqual([['job-1', 'completed', 1]])
    const devices = await api.call('jobs.devices', { jobId: 'job-1' })
    expect(devices).toMatchObject({ ok: true, value: [{ deviceId: 'j1', status: 'completed', methodStatus: null }] })
    expect(await api.call('twins.get', { deviceId: 'j1' })).toMatchObject({ ok: true, value: { desired: { mode: 'eco' } } })
    expect(await api.call('jobs.devices', { jobId: 'nope' })).toMatchObject({ ok: false, error: { code: 404002, name: 'JobNotFound' } })
  })

  it('summarises the fleet: counts, firmware GROUP BY, configurations, alerts', async () => {
    const { client, hub } = await startUiHub(defer)
    const api = client()
    for (const id of ['f1', 'f2', 'f3']) await hub.hub.registry.create({ deviceId: id })
    await hub.hub.twins.patchReported({ deviceId: 'f1' }, { firmware: { current: '2.0.0' } })
    await hub.hub.twins.patchReported({ deviceId: 'f2' }, { firmware: { current: '2.0.0' } })
    await hub.hub.twins.patchTags({ deviceId: 'f3' }, { ring: 'canary' })
    await hub.hub.configurations.put('cfg-canary', { content: { deviceContent: { 'properties.desired.mode': 'eco' } }, targetCondition: "tags.ring = 'canary'", priority: 5 })
    await hub.hub.configurations.evaluate()
    // a failed direct method becomes an alert naming the device
    await hub.hub.methods.invoke({ deviceId: 'f3' }, { methodName: 'x' }).catch(() => undefined)
    const sum = await api.call('fleet.summary', { offlineMinutes: 5 })
    expect(sum.ok).toBe(true)
    if (!sum.ok) return
    expect(sum.value.devices).toEqual({ total: 3, enabled: 3, disabled: 0, connected: 0, disconnected: 3 })
    expect(sum.value.firmware).toEqual([{ version: '2.0.0', devices: 2 }, { version: null, devices: 1 }])
    expect(sum.value.configurations).toEqual([{ id: 'cfg-canary', priority: 5, targeted: 1, applied: 1 }])
    expect(sum.value.alerts).toEqual([expect.objectContaining({ kind: 'methodFailed', deviceId: 'f3' })])
    expect(sum.value).toMatchObject({ devicesWithAlerts: 1, offlineMinutes: 5 })
  })

  it('creates, lists and removes automatic configurations, with events', async () => {
    const { client, hub } = await startUiHub(defer, { intervalMs: 50 })
    const api = client()
    await hub.hub.registry.create({ deviceId: 'c1' })
    await hub.hub.twins.patchTags({ deviceId: 'c1' }, { site: 'hall-2' })
    const events: UiEvent[] = []
    api.subscribe(b => { events.push(...b) })
    expect(await api.call('configurations.create', { id: 'Bad Id', targetCondition: '*', content: {} })).toMatchObject({ ok: false, error: { code: 400004 } })
    const created = await api.call('configurations.create', { id: 'hall-2-interval', targetCondition: "tags.site = 'hall-2'", priority: 3, content: { 'properties.desired.interval': 30 } })
    expect(created).toMatchObject({ ok: true, value: { id: 'hall-2-interval', priority: 3, targeted: 1, content: { 'properties.desired.interval': 30 } } })
    expect(hub.hub.twins.get({ deviceId: 'c1' }).properties.desired['interval']).toBe(30)
    const bad = await api.call('configurations.create', { id: 'x', targetCondition: 'tags.site = = 1', content: { 'properties.desired.a': 1 } })
    expect(bad).toMatchObject({ ok: false, error: { code: 400401 } })
    const list = await api.call('configurations.list', undefined)
    expect(list.ok && list.value.map(c => c.id)).toEqual(['hall-2-interval'])
    await waitFor(() => events.some(e => e.type === 'configuration.changed' && e.id === 'hall-2-interval'), 5000, 'configuration.changed')
    expect(await api.call('configurations.remove', { id: 'hall-2-interval' })).toEqual({ ok: true, value: { id: 'hall-2-interval' } })
    expect(await api.call('configurations.remove', { id: 'hall-2-interval' })).toMatchObject({ ok: false, error: { code: 404301 } })
  })

  it('coalesces a burst of 1,000 reported patches into a few twin.changed events per device', async () => {
    const { client, hub } = await startUiHub(defer, { intervalMs: 100 })
    const api = client()
    const ids = ['a', 'b', 'c', 'd']
    for (const id of ids) await hub.hub.registry.create({ deviceId: id })
    const batches: UiEvent[][] = []
    api.subscribe(b => { batches.push(b) })
    await api.call('hub.status', undefined) // the socket is open and subscribed
    batches.length = 0
    const writes: Array<Promise<number>> = []
    for (let i = 0; i < 1000; i++) writes.push(hub.hub.twins.patchReported({ deviceId: ids[i % 4] as string }, { n: i }))
    await Promise.all(writes)
    await waitFor(() => {
      const seen = new Set(batches.flat().filter(e => e.type === 'twin.changed').map(e => (e as { deviceId: string }).deviceId))
      return ids.every(id => seen.has(id))
    }, 10_000, 'twin.changed for every device')
    const twinEvents = batches.flat().filter(e => e.type === 'twin.changed')
    expect(twinEvents.length).toBeLessThan(100)
    expect(twinEvents[0]).toMatchObject({ type: 'twin.changed', parts: ['reported'] })
  })

  it('refuses a non-loopback address, and WebSocket upgrades from another origin', async () => {
    const { ui, hub } = await startUiHub(defer)
    await expect(startUiServer({ hub: hub.hub, bind: '0.0.0.0', port: 0, staticDir: '/nonexistent', status: () => ({ state: 'running', endpoints: [], devices: 0, connected: 0 }) }))
      .rejects.toThrow(/listens on 0\.0\.0\.0 \(not loopback\) only with TLS/)
    const url = `${ui.url.replace('http', 'ws')}ui/ws`
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(url, { origin: 'http://evil.example' })
      ws.on('open', () => { ws.close(); resolve('open') })
      ws.on('error', (err) => { resolve(err.message) })
    })
    expect(refused).toMatch(/401/)
    const res = await fetch(ui.url)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect((await fetch(new URL('/../../etc/passwd', ui.url))).status).toBe(200) // normalized to / (index.html), never outside
    expect(await (await fetch(new URL('/%2e%2e/%2e%2e/etc/passwd', ui.url))).text()).toContain('fake ui')
  })
})
