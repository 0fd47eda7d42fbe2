// The Devices / Device detail tools over the UI WebSocket against a real in-process hub:
// saved views (validation, duplicates, rename, events, kept across a restart), bulk tags
// with per-device outcomes, the offline command queue with a real SDK device
// (azure-iot-device-mqtt) connecting later, and telemetry after a sequence number.
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { createWsHub } from '../../src/renderer/src/lib/ws-hub.js'
import type { UiEvent } from '../../src/shared/contract/index.js'
import { startHubProcess, waitFor } from '../helpers/hub.js'
import { message, openClient } from '../helpers/sdk.js'
import { startUiHub } from './support.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }

describe('saved views over the UI API', () => {
  it('saves, lists, refuses duplicates and broken queries, renames, removes, and keeps them across a restart', async () => {
    const { client, hub } = await startUiHub(defer, { intervalMs: 50 })
    const api = client()
    const other = client() // a second technician's page
    const events: UiEvent[] = []
    other.subscribe(b => { events.push(...b) })
    expect(await other.call('views.list', undefined)).toEqual({ ok: true, value: [] }) // signed-in sockets get events

    const saved = await api.call('views.save', { name: '  Presses   offline ', search: 'press', query: "connectionState = 'Disconnected'", sort: { column: 'lastActivityTime', direction: 'desc' } })
    expect(saved).toMatchObject({ ok: true, value: { name: 'Presses offline', search: 'press', query: "connectionState = 'Disconnected'", sort: { column: 'lastActivityTime', direction: 'desc' } } })
    await waitFor(() => events.find(e => e.type === 'views.changed' && e.name === 'Presses offline'), 5000, 'views.changed on the other page')

    // the same name in other case is the same view
    expect(await api.call('views.save', { name: 'presses OFFLINE', query: 'tags.a = 1' }))
      .toMatchObject({ ok: false, error: { code: 409, name: 'ViewAlreadyExists', message: expect.stringContaining("'Presses offline'") } })
    const replaced = await api.call('views.save', { name: 'presses OFFLINE', query: 'tags.a = 1', overwrite: true })
    expect(replaced).toMatchObject({ ok: true, value: { name: 'presses OFFLINE', query: 'tags.a = 1', search: '', sort: null } })
    if (saved.ok && replaced.ok) expect(replaced.value.createdTime).toBe(saved.value.createdTime)

    // a query that does not run is refused with its position in the user's text, and nothing is saved
    const broken = await api.call('views.save', { name: 'Broken', query: 'tags.a = = 1' })
    expect(broken).toMatchObject({ ok: false, error: { code: 400004, name: 'ArgumentInvalid', message: expect.stringMatching(/^Syntax error at position 10: /), query: { position: { offset: 10, line: 1, column: 10 } } } })
    expect(await api.call('views.save', { name: 'Full select', query: 'SELECT * FROM devices WHERE tags.line = 2' })).toMatchObject({ ok: true })

    // bad input is refused before the hub sees it
    expect(await api.call('views.save', { name: '' })).toMatchObject({ ok: false, error: { code: 400004, message: 'name must not be empty' } })
    expect(await api.call('views.save', { name: '   ' })).toMatchObject({ ok: false, error: { code: 400004, message: 'A view needs a name.' } })
    expect(await api.call('views.save', { name: 'x'.repeat(65) })).toMatchObject({ ok: false, error: { code: 400004, message: 'name must be at most 64 characters' } })
    expect(await api.call('views.save', { name: 'tab\there' })).toMatchObject({ ok: false, error: { code: 400004, message: 'name must not contain control characters' } })
    // @ts-expect-error: not a sortable column
    expect(await api.call('views.save', { name: 'v', sort: { column: 'tags', direction: 'asc' } })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('sort.column must be one of') } })
    // @ts-expect-error: unknown field
    expect(await api.call('views.save', { name: 'v', columns: [] })).toMatchObject({ ok: false, error: { code: 400004, message: 'columns is not a known field' } })

    // rename: a clash is refused, a change of case is fine
    expect(await api.call('views.rename', { name: 'Full select', newName: 'PRESSES offline' })).toMatchObject({ ok: false, error: { code: 409, name: 'ViewAlreadyExists' } })
    expect(await api.call('views.rename', { name: 'full select', newName: 'Line 2' })).toMatchObject({ ok: true, value: { name: 'Line 2', query: 'SELECT * FROM devices WHERE tags.line = 2' } })
    expect(await api.call('views.rename', { name: 'line 2', newName: 'LINE 2' })).toMatchObject({ ok: true, value: { name: 'LINE 2' } })
    expect(await api.call('views.rename', { name: 'nope', newName: 'x' })).toMatchObject({ ok: false, error: { code: 404, name: 'ViewNotFound' } })
    const list = await api.call('views.list', undefined)
    expect(list.ok && list.value.map(v => v.name)).toEqual(['LINE 2', 'presses OFFLINE'])

    expect(await api.call('views.remove', { name: 'line 2' })).toEqual({ ok: true, value: { name: 'LINE 2' } })
    expect(await api.call('views.remove', { name: 'line 2' })).toMatchObject({ ok: false, error: { code: 404, name: 'ViewNotFound' } })
    await waitFor(() => events.find(e => e.type === 'views.changed' && e.change === 'removed'), 5000, 'removed event')

    // a supervisor (read + approvals) opens views but does not change the site's list; a technician does
    const sup = client('supervisor')
    expect(await sup.call('views.list', undefined)).toMatchObject({ ok: true, value: [{ name: 'presses OFFLINE' }] })
    expect(await sup.call('views.save', { name: 'Mine' })).toMatchObject({ ok: false, error: { code: 403201, name: 'Forbidden' } })
    expect(await sup.call('devices.tag', { deviceIds: ['x'], tag: 'a', value: 1 })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await sup.call('commands.enqueue', { deviceId: 'x', methodName: 'reboot' })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await client('technician').call('views.save', { name: 'Technician view', search: 'x' })).toMatchObject({ ok: true })
    expect(await api.call('views.remove', { name: 'technician view' })).toMatchObject({ ok: true })
    // every change is in the audit log, with its input
    const audit = await api.call('audit.list', {})
    expect(audit.ok && audit.value.items.filter(e => e.method.startsWith('views.')).length).toBeGreaterThan(5)

    // acknowledged saves are in the store: a restarted hub still has them
    await hub.restart()
    expect([...hub.hub.store.entries('uiViews')].map(([k, v]) => [k, v.name, v.query])).toEqual([['presses offline', 'presses OFFLINE', 'tags.a = 1']])
  })
})

describe('bulk tag over the UI API', () => {
  it('sets and removes a tag per device, reporting each outcome, and refuses bad input', async () => {
    const { client, hub } = await startUiHub(defer)
    const api = client()
    for (const id of ['t1', 't2', 't3']) await hub.hub.registry.create({ deviceId: id })
    await hub.hub.twins.patchTags({ deviceId: 't2' }, { location: { hall: 'A', row: 4 } })

    const set = await api.call('devices.tag', { deviceIds: ['t1', 't2', 'gone', 't3', 't1'], tag: 'location.hall', value: 'B' })
    expect(set).toEqual({
      ok: true,
      value: {
        results: [
          { deviceId: 't1', ok: true }, { deviceId: 't2', ok: true },
          { deviceId: 'gone', ok: false, error: { code: 404001, name: 'DeviceNotFound', message: expect.any(String) } },
          { deviceId: 't3', ok: true }
        ],
        succeeded: 3,
        failed: 1
      }
    })
    // merged into what was there: the other nested tag stays
    expect(hub.hub.twins.get({ deviceId: 't2' }).tags).toEqual({ location: { hall: 'B', row: 4 } })
    expect(hub.hub.twins.get({ deviceId: 't1' }).tags).toEqual({ location: { hall: 'B' } })
    // the audit log has each device's value before and after
    const audit = await api.call('audit.list', { method: 'devices.tag' })
    expect(audit.ok && audit.value.items[0]).toMatchObject({
      method: 'devices.tag', outcome: 'ok',
      before: { tag: 'location.hall', devices: { t1: { location: null }, t2: { location: { hall: 'A' } }, gone: null } },
      after: { tag: 'location.hall', devices: { t1: { location: { hall: 'B' } }, t2: { location: { hall: 'B' } }, gone: null } }
    })
    const q = await api.call('devices.list', { query: "tags.location.hall = 'B'" })
    expect(q.ok && q.value.items.map(r => r.deviceId)).toEqual(['t1', 't2', 't3'])

    expect(await api.call('devices.tag', { deviceIds: ['t1', 't2'], tag: 'location.hall', remove: true })).toMatchObject({ ok: true, value: { succeeded: 2, failed: 0 } })
    expect(hub.hub.twins.get({ deviceId: 't2' }).tags).toEqual({ location: { row: 4 } })
    expect(await api.call('devices.tag', { deviceIds: ['t3'], tag: 'shift', value: { night: true, crew: 3 } })).toMatchObject({ ok: true, value: { succeeded: 1 } })
    expect(hub.hub.twins.get({ deviceId: 't3' }).tags?.['shift']).toEqual({ night: true, crew: 3 })

    const refused = async (input: unknown, message: RegExp): Promise<void> => {
      expect(await api.call('devices.tag', input as never)).toMatchObject({ ok: false, error: { code: 400004, name: 'ArgumentInvalid', message: expect.stringMatching(message) } })
    }
    await refused({ deviceIds: ['t1'], tag: 'site' }, /either a value .* or remove/)
    await refused({ deviceIds: ['t1'], tag: 'site', value: 'x', remove: true }, /either a value/)
    await refused({ deviceIds: ['t1'], tag: 'site', value: null }, /cannot be null/)
    await refused({ deviceIds: ['t1'], tag: '$version', value: 1 }, /^tag must be a tag name/)
    await refused({ deviceIds: ['t1'], tag: 'a b', value: 1 }, /^tag must be a tag name/)
    await refused({ deviceIds: [], tag: 'site', value: 1 }, /^deviceIds must not be empty/)
    await refused({ deviceIds: ['ok', 'bad id'], tag: 'site', value: 1 }, /^deviceIds\[1\] must be 1-128/)
    await refused({ deviceIds: Array.from({ length: 1001 }, (_, i) => `d${i}`), tag: 'site', value: 1 }, /at most 1000 items/)
    expect(hub.hub.twins.get({ deviceId: 't1' }).tags).toEqual({ location: {} })
  })
})

describe('queued commands over the UI API', () => {
  it('queues for an offline device, cancels one, and watches the other succeed when the SDK device connects', async () => {
    const { client, hub } = await startUiHub(defer, { intervalMs: 50 })
    const api = client()
    const cs = await hub.addDevice('pump-7')
    const events: UiEvent[] = []
    api.subscribe(b => { events.push(...b) })

    const a = await api.call('commands.enqueue', { deviceId: 'pump-7', methodName: 'flush', payload: { seconds: 3 }, ttlInSeconds: 3600, responseTimeoutInSeconds: 10 })
    const b = await api.call('commands.enqueue', { deviceId: 'pump-7', methodName: 'reboot' })
    if (!a.ok || !b.ok) throw new Error(`enqueue failed: ${JSON.stringify([a, b])}`)
    expect(a.value).toMatchObject({ deviceId: 'pump-7', methodName: 'flush', status: 'queued', ttlInSeconds: 3600, responseTimeoutInSeconds: 10, attempts: 0, response: null, error: null })
    expect(Date.parse(a.value.expiryTime) - Date.parse(a.value.createdTime)).toBe(3_600_000)
    expect(await api.call('commands.cancel', { commandId: b.value.commandId })).toMatchObject({ ok: true, value: { status: 'cancelled' } })
    expect(await api.call('commands.cancel', { commandId: b.value.commandId })).toMatchObject({ ok: false, error: { code: 409, name: 'CommandNotCancellable' } })
    expect(await api.call('commands.cancel', { commandId: 'no-such-command' })).toMatchObject({ ok: false, error: { code: 404, name: 'CommandNotFound' } })
    const listed = await api.call('commands.list', { deviceId: 'pump-7' })
    expect(listed.ok && listed.value.map(c => [c.methodName, c.status])).toEqual([['reboot', 'cancelled'], ['flush', 'queued']])
    const onlyQueued = await api.call('commands.list', { deviceId: 'pump-7', status: ['queued'] })
    expect(onlyQueued.ok && onlyQueued.value.map(c => c.methodName)).toEqual(['flush'])

    // bad input and unknown devices
    expect(await api.call('commands.enqueue', { deviceId: 'nobody', methodName: 'reboot' })).toMatchObject({ ok: false, error: { code: 404001, name: 'DeviceNotFound' } })
    expect(await api.call('commands.list', { deviceId: 'nobody' })).toMatchObject({ ok: false, error: { code: 404001 } })
    expect(await api.call('commands.enqueue', { deviceId: 'pump-7', methodName: 'has space' })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('methodName') } })
    expect(await api.call('commands.enqueue', { deviceId: 'pump-7', methodName: 'x', ttlInSeconds: 0 })).toMatchObject({ ok: false, error: { code: 400004, message: 'ttlInSeconds must be at least 1' } })
    expect(await api.call('commands.enqueue', { deviceId: 'pump-7', methodName: 'x', responseTimeoutInSeconds: 301 })).toMatchObject({ ok: false, error: { code: 400004 } })
    // @ts-expect-error: not a command state
    expect(await api.call('commands.list', { deviceId: 'pump-7', status: ['done'] })).toMatchObject({ ok: false, error: { code: 400004, message: expect.stringContaining('status[0] must be one of') } })

    // the device comes online later and runs the queued command
    const device = await openClient(cs, { ca: await hub.ca(), defer, noOpen: true })
    const got: unknown[] = []
    device.onDeviceMethod('flush', (req, res) => { got.push(req.payload); void res.send(200, { flushed: true }) })
    await device.open()
    await waitFor(async () => {
      const r = await api.call('commands.list', { deviceId: 'pump-7', status: ['succeeded'] })
      return r.ok && r.value.length === 1 ? r.value[0] : undefined
    }, 20_000, 'flush succeeded').then(c => { expect(c).toMatchObject({ methodName: 'flush', attempts: 1, response: { status: 200, payload: { flushed: true } } }) })
    expect(got).toEqual([{ seconds: 3 }])
    // and the UI heard every step of it
    await waitFor(() => events.find(e => e.type === 'command.changed' && e.commandId === a.value.commandId && e.status === 'succeeded'), 5000, 'command.changed succeeded')
    expect(events.filter(e => e.type === 'command.changed' && e.commandId === b.value.commandId).map(e => (e as { status: string }).status)).toContain('cancelled')
  }, 60_000)
})

describe('telemetry.since over the UI API', () => {
  it('answers only the messages after a sequence number, oldest first, and says when it had to cut', async () => {
    const { client, hub } = await startUiHub(defer)
    const api = client()
    const cs = await hub.addDevice('meter-1')
    await hub.hub.registry.create({ deviceId: 'meter-2' })
    const device = await openClient(cs, { ca: await hub.ca(), defer })
    for (let i = 1; i <= 12; i++) await device.sendEvent(message(JSON.stringify({ kw: i }), { unit: 'kW' }))
    await waitFor(async () => { const r = await api.call('telemetry.history', { deviceId: 'meter-1', limit: 20 }); return r.ok && r.value.length === 12 }, 10_000, '12 messages stored')
    const all = await api.call('telemetry.since', { deviceId: 'meter-1', afterSeq: 0 })
    if (!all.ok) throw new Error(JSON.stringify(all))
    expect(all.value.truncated).toBe(false)
    expect(all.value.items.map(m => JSON.parse(m.body) as { kw: number })).toEqual(Array.from({ length: 12 }, (_, i) => ({ kw: i + 1 })))
    expect(all.value.items[0]).toMatchObject({ properties: { unit: 'kW' }, bodyEncoding: 'utf8' })
    const seqs = all.value.items.map(m => m.seq)
    const after = await api.call('telemetry.since', { deviceId: 'meter-1', afterSeq: seqs[9] as number })
    expect(after.ok && after.value.items.map(m => m.seq)).toEqual(seqs.slice(10))
    expect(await api.call('telemetry.since', { deviceId: 'meter-1', afterSeq: seqs[11] as number })).toEqual({ ok: true, value: { items: [], truncated: false } })
    const cut = await api.call('telemetry.since', { deviceId: 'meter-1', afterSeq: seqs[0] as number, limit: 4 })
    expect(cut.ok && [cut.value.items.map(m => m.seq), cut.value.truncated]).toEqual([seqs.slice(8), true])
    expect(await api.call('telemetry.since', { deviceId: 'meter-2', afterSeq: 0 })).toEqual({ ok: true, value: { items: [], truncated: false } })
    expect(await api.call('telemetry.since', { deviceId: 'nobody', afterSeq: 0 })).toMatchObject({ ok: false, error: { code: 404001 } })
    expect(await api.call('telemetry.since', { deviceId: 'meter-1', afterSeq: -1 })).toMatchObject({ ok: false, error: { code: 400004, message: 'afterSeq must be at least 0' } })
    expect(await api.call('telemetry.since', { deviceId: 'meter-1', afterSeq: 0, limit: 101 })).toMatchObject({ ok: false, error: { code: 400004, message: 'limit must be at most 100' } })
  }, 60_000)
})

describe('device tools through kill -9', () => {
  it('keeps every answered view change and bulk tag after kill -9 of sitehub serve', async () => {
    const hub = await startHubProcess({ defer })
    const connect = (url: string): ReturnType<typeof createWsHub> => {
      const c = createWsHub(`${url.replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
      defer(() => { c.close() })
      return c
    }
    const api = connect(hub.ready.ui as string)
    const setup = await api.call('auth.setup', { name: 'admin', password: 'durable admin pw' })
    if (!setup.ok) throw new Error(setup.error.message)
    api.setToken(setup.value.token)
    const ids = Array.from({ length: 20 }, (_, i) => `k-${String(i).padStart(2, '0')}`)
    for (const deviceId of ids) expect(await api.call('devices.create', { deviceId })).toMatchObject({ ok: true })
    // concurrent changes: each answer means it is on disk
    const saves = await Promise.all(Array.from({ length: 20 }, (_, i) => api.call('views.save', { name: `View ${i}`, query: `tags.n = ${i}` })))
    expect(saves.every(r => r.ok)).toBe(true)
    const more = await Promise.all([
      api.call('views.rename', { name: 'View 3', newName: 'Renamed three' }),
      api.call('views.remove', { name: 'View 4' }),
      api.call('views.save', { name: 'view 5', query: 'tags.n = 55', overwrite: true }),
      api.call('devices.tag', { deviceIds: ids, tag: 'site.hall', value: 'B' })
    ])
    expect(more.map(r => r.ok)).toEqual([true, true, true, true])
    api.close()
    await hub.kill('SIGKILL')
    const ready = await hub.restart()
    const after = connect(ready.ui as string)
    const again = await after.call('auth.signIn', { name: 'admin', password: 'durable admin pw' })
    if (!again.ok) throw new Error(again.error.message)
    after.setToken(again.value.token)
    const views = await after.call('views.list', undefined)
    if (!views.ok) throw new Error(views.error.message)
    const expected = Array.from({ length: 20 }, (_, i) => i).filter(i => i !== 4).map(i => i === 3 ? ['Renamed three', 'tags.n = 3'] : i === 5 ? ['view 5', 'tags.n = 55'] : [`View ${i}`, `tags.n = ${i}`])
    expect(views.value.map(v => [v.name, v.query]).sort()).toEqual(expected.sort())
    const tagged = await after.call('devices.list', { query: "tags.site.hall = 'B'" })
    expect(tagged.ok && tagged.value.total).toBe(20)
  }, 120_000)
})
