// The operations part of the UI API over its WebSocket, against a real in-process hub: jobs
// with a plan (the same job a REST PUT /jobs/v2 creates), bad plans refused before the hub,
// live job events (scheduled -> running -> completed, waiting for a window), configuration
// labels/metrics/edits with etags and the 400403 content rule, and device export -> import
// into a second hub giving the same devices.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { UiEvent } from '../../src/shared/contract/index.js'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import { parseImport, toImportInputs } from '../../src/renderer/src/lib/import.js'
import { runCli, tempDataDir, waitFor } from '../helpers/hub.js'
import { startUiHub, type UiHub } from './support.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }

/** Raw HTTPS to the hub's service API (the extension fields are not in the SDK). */
function rest (env: UiHub, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const policy = env.hub.hub.registry.policies.get('iothubowner')
  if (policy === undefined) throw new Error('no iothubowner policy')
  const auth = createSasToken({ resource: env.hub.hostName, key: policy.primaryKey, keyName: 'iothubowner', expiry: Math.floor(Date.now() / 1000) + 3600 })
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string> = { Authorization: auth }
    if (text !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8'
    const url = new URL(env.hub.endpoints.https)
    const req = request({ host: url.hostname, port: Number(url.port || 443), method, path: `${path}?api-version=2021-04-12`, headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { const t = Buffer.concat(chunks).toString(); resolve({ status: res.statusCode ?? 0, body: t === '' ? null : JSON.parse(t) }) })
    })
    req.on('error', reject)
    req.end(text)
  })
}

/** Collects every event batch the client receives. */
function recorder (api: ReturnType<UiHub['client']>): UiEvent[] {
  const seen: UiEvent[] = []
  defer(api.subscribe(b => { seen.push(...b) }))
  return seen
}

const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16)

describe('jobs with a plan over the UI API', () => {
  it('carries schedule, window, rate, concurrency, threshold, guard and timeout to the hub exactly as a REST PUT does', async () => {
    const env = await startUiHub(defer)
    const api = env.client()
    for (const d of ['p1', 'p2']) await env.hub.hub.registry.create({ deviceId: d })
    const plan = {
      startTime: '2099-01-01T00:00:00Z', maxExecutionTimeInSeconds: 7200, devicesPerMinute: 5, maxConcurrency: 3,
      abortThreshold: { failurePercent: 10, minDevices: 4 },
      maintenanceWindow: [{ days: ['Mon', 'Tue'] as Array<'Mon' | 'Tue'>, start: '22:00', end: '04:00' }], timeZone: 'Europe/Berlin', deviceWindowTag: 'site.window',
      inUseGuard: { path: 'properties.reported.state', values: ['busy', 'updating'], retryAfterSeconds: 120 }
    }
    const ui = await api.call('jobs.create', { jobId: 'ui-1', queryCondition: "deviceId IN ['p1','p2']", methodName: 'reboot', payload: { delay: 1 }, responseTimeoutInSeconds: 45, ...plan })
    expect(ui.ok).toBe(true)
    const put = await rest(env, 'PUT', '/jobs/v2/rest-1', {
      type: 'scheduleDeviceMethod', queryCondition: "deviceId IN ['p1','p2']",
      cloudToDeviceMethod: { methodName: 'reboot', payload: { delay: 1 }, responseTimeoutInSeconds: 45 }, ...plan
    })
    expect(put.status).toBe(200)
    const strip = (j: Record<string, unknown>): Record<string, unknown> => { const { jobId: _j, createdTime: _c, ...rest } = j; return rest }
    const viaUi = (await rest(env, 'GET', '/jobs/v2/ui-1')).body
    const viaRest = (await rest(env, 'GET', '/jobs/v2/rest-1')).body
    expect(strip(viaUi)).toEqual(strip(viaRest))
    expect(viaUi).toMatchObject({ status: 'scheduled', devicesPerMinute: 5, maintenanceWindow: [{ start: '22:00', end: '04:00' }], timeZone: 'Europe/Berlin' })
    // the view shows the plan and the phase
    expect(ui.ok && ui.value).toMatchObject({
      jobId: 'ui-1', phase: 'scheduled', waiting: null,
      plan: { maxExecutionTimeInSeconds: 7200, responseTimeoutInSeconds: 45, devicesPerMinute: 5, maxConcurrency: 3, abortThreshold: { failurePercent: 10, minDevices: 4 }, timeZone: 'Europe/Berlin', deviceWindowTag: 'site.window', inUseGuard: { values: ['busy', 'updating'] } }
    })
    // a dry run checks everything and counts the targets without creating a job
    const dry = await api.call('jobs.create', { jobId: 'dry', queryCondition: '*', desired: { a: 1 }, devicesPerMinute: 2, dryRun: true })
    expect(dry.ok && dry.value).toMatchObject({ jobId: 'dry', stats: { deviceCount: 2 }, plan: { devicesPerMinute: 2, deviceWindowTag: 'maintenanceWindow' } })
    const noDeviceWindows = await api.call('jobs.create', { jobId: 'dry2', queryCondition: '*', desired: { a: 1 }, deviceWindowTag: null, dryRun: true })
    expect(noDeviceWindows.ok && noDeviceWindows.value.plan.deviceWindowTag).toBeNull()
    expect(await api.call('jobs.get', { jobId: 'dry' })).toMatchObject({ ok: false, error: { name: 'JobNotFound' } })
    // and it is not an entry of the audit log (the real create is)
    const audit = await api.call('audit.list', { method: 'jobs.create' })
    expect(audit.ok && audit.value.items.map(e => e.target?.id)).toEqual(['ui-1'])
  })

  it('refuses bad plans with the field and the reason, and creates nothing', async () => {
    const env = await startUiHub(defer)
    const api = env.client()
    await env.hub.hub.registry.create({ deviceId: 'p1' })
    const base = { queryCondition: '*', methodName: 'reboot' }
    const refused = async (extra: Record<string, unknown>): Promise<string> => {
      const r = await api.call('jobs.create', { ...base, ...extra } as never)
      expect(r.ok).toBe(false)
      if (r.ok) return ''
      expect(r.error).toMatchObject({ code: 400004, name: 'ArgumentInvalid' })
      return r.error.message
    }
    expect(await refused({ maintenanceWindow: [{ start: '22:00', end: '04:00' }] })).toMatch(/maintenanceWindow\[0\] has no time zone/)
    expect(await refused({ maintenanceWindow: [{ start: '22:00', end: '4:00', timeZone: 'Europe/Berlin' }] })).toMatch(/maintenanceWindow\[0\]\.end must be a 24-hour time/)
    expect(await refused({ maintenanceWindow: [{ start: '22:00', end: '04:00' }], timeZone: 'Mars/Olympus' })).toMatch(/timeZone "Mars\/Olympus" is not a time zone/)
    expect(await refused({ maintenanceWindow: [{ start: '22:00', end: '04:00', days: ['Mo'], timeZone: 'UTC' }] })).toMatch(/days\[0\] must be one of Sun, Mon/)
    expect(await refused({ maintenanceWindow: [] })).toMatch(/maintenanceWindow must not be empty/)
    expect(await refused({ abortThreshold: { failurePercent: 0 } })).toBe('abortThreshold.failurePercent must be above 0')
    expect(await refused({ abortThreshold: { failurePercent: 150 } })).toBe('abortThreshold.failurePercent must be at most 100')
    expect(await refused({ abortThreshold: { failurePercent: 10, minDevices: 0 } })).toBe('abortThreshold.minDevices must be at least 1')
    expect(await refused({ devicesPerMinute: 0 })).toBe('devicesPerMinute must be above 0')
    expect(await refused({ devicesPerMinute: 'fast' })).toBe('devicesPerMinute must be a number')
    expect(await refused({ responseTimeoutInSeconds: 2 })).toBe('responseTimeoutInSeconds must be at least 5')
    expect(await refused({ maxExecutionTimeInSeconds: 10 })).toBe('maxExecutionTimeInSeconds must be at least 60')
    expect(await refused({ startTime: '2099-01-01T22:00' })).toMatch(/startTime .* must be an ISO 8601 date-time with a zone/)
    expect(await refused({ inUseGuard: { path: 'state', values: ['busy'] } })).toMatch(/inUseGuard.path must be a twin path/)
    expect(await refused({ deviceWindowTag: 'a..b' })).toMatch(/deviceWindowTag must be a tag name/)
    expect(await refused({ inUseGuard: { path: 'properties.reported.state', values: [] } })).toBe('inUseGuard.values must not be empty')
    expect(await refused({ desired: { a: 1 } })).toMatch(/either a method .* or a twin update/)
    expect(await refused({ methodName: undefined, desired: { a: 1 }, payload: 1 })).toMatch(/payload and responseTimeoutInSeconds belong to a method job/)
    expect(await refused({ queryCondition: 'tags.x = = 1' })).toMatch(/./)
    expect(await refused({ surprise: 1 })).toBe('surprise is not a known field')
    expect(env.hub.hub.jobs.query().items).toEqual([])
  })

  it('sends job.changed events: scheduled, then running, then completed, without polling', async () => {
    const env = await startUiHub(defer)
    const api = env.client()
    const seen = recorder(api)
    for (const d of ['a1', 'a2', 'a3']) await env.hub.hub.registry.create({ deviceId: d })
    // far enough ahead that a loaded machine still answers the create before the start
    const start = new Date(Date.now() + 8000).toISOString()
    const r = await api.call('jobs.create', { jobId: 'later', queryCondition: "deviceId IN ['a1','a2','a3']", desired: { mode: 'eco' }, startTime: start })
    expect(r.ok && r.value.phase).toBe('scheduled')
    await waitFor(() => seen.some(e => e.type === 'job.changed' && e.jobId === 'later' && e.status === 'completed'), 40_000, 'job completed event')
    const statuses = seen.flatMap(e => (e.type === 'job.changed' && e.jobId === 'later' && e.status !== null ? [e.status] : []))
    expect(['queued', 'scheduled']).toContain(statuses[0]) // queued and scheduled often share a batch: the latest wins
    expect(statuses).toContain('scheduled')
    expect(statuses).toContain('completed')
    expect(statuses.indexOf('completed')).toBeGreaterThan(statuses.indexOf('scheduled'))
    // device moves were counted in the batches
    expect(seen.filter(e => e.type === 'job.changed' && e.jobId === 'later').reduce((n, e) => n + (e.type === 'job.changed' ? e.devices : 0), 0)).toBeGreaterThanOrEqual(6)
    const done = await api.call('jobs.get', { jobId: 'later' })
    expect(done.ok && done.value).toMatchObject({ phase: 'completed', stats: { succeededCount: 3 } })
  })

  it('shows a running job whose window is closed as waiting, with the devices waiting and when it opens', async () => {
    const env = await startUiHub(defer)
    const api = env.client()
    const seen = recorder(api)
    for (const d of ['w1', 'w2']) await env.hub.hub.registry.create({ deviceId: d })
    // a window that opens in two hours (UTC) and lasts one
    const now = Date.now()
    const r = await api.call('jobs.create', {
      jobId: 'night', queryCondition: "deviceId IN ['w1','w2']", desired: { x: 1 }, maxExecutionTimeInSeconds: 86_400,
      maintenanceWindow: [{ start: hhmm(now + 2 * 3600_000), end: hhmm(now + 3 * 3600_000) }], timeZone: 'UTC'
    })
    expect(r.ok).toBe(true)
    const waiting = await waitFor(async () => {
      const g = await api.call('jobs.get', { jobId: 'night' })
      return g.ok && g.value.phase === 'waiting' ? g.value : undefined
    }, 10_000, 'waiting phase')
    expect(waiting.waiting).toMatchObject({ window: 2, inUse: 0, offline: 0, inFlight: 0 })
    const opens = Date.parse(waiting.waiting?.nextWakeAt ?? '')
    expect(opens).toBeGreaterThan(now + 2 * 3600_000 - 120_000)
    expect(opens).toBeLessThan(now + 2 * 3600_000 + 60_000)
    await waitFor(() => seen.some(e => e.type === 'job.changed' && e.jobId === 'night' && e.devices > 0), 10_000, 'device moves announced')
    const cancelled = await api.call('jobs.cancel', { jobId: 'night' })
    expect(cancelled.ok && cancelled.value).toMatchObject({ phase: 'cancelled', waiting: null })
  })

  it('coalesces a 1,000-device job into one job.changed per batch that counts every device move', async () => {
    const env = await startUiHub(defer)
    const api = env.client()
    const batches: UiEvent[][] = []
    defer(api.subscribe(b => { batches.push(b) }))
    for (let i = 0; i < 1000; i++) await env.hub.hub.registry.create({ deviceId: `bulk-${String(i).padStart(4, '0')}` })
    const started = Date.now()
    expect((await api.call('jobs.create', { jobId: 'big', queryCondition: '*', desired: { wave: 1 } })).ok).toBe(true)
    await env.hub.hub.jobs.wait('big')
    await waitFor(() => batches.some(b => b.some(e => e.type === 'job.changed' && e.jobId === 'big' && e.status === 'completed')), 20_000, 'completed event')
    const mine = batches.map(b => b.filter(e => e.type === 'job.changed' && e.jobId === 'big'))
    expect(mine.every(b => b.length <= 1)).toBe(true)
    const events = mine.flat()
    // each device: created pending, running, completed
    expect(events.reduce((n, e) => n + (e.type === 'job.changed' ? e.devices : 0), 0)).toBe(3000)
    console.log(`1,000-device twin job: ${events.length} job.changed events in ${batches.length} batches over ${Date.now() - started} ms`)
  }, 120_000)

  it('marks a job stopped by its abort threshold as aborted', async () => {
    const env = await startUiHub(defer)
    const api = env.client()
    for (const d of ['x1', 'x2', 'x3']) await env.hub.hub.registry.create({ deviceId: d })
    // a twin job whose etag matches no twin fails every device
    await env.hub.hub.jobs.create('etagged', { type: 'scheduleUpdateTwin', queryCondition: '*', updateTwin: { etag: 'nope', properties: { desired: { a: 1 } } }, abortThreshold: { failurePercent: 50, minDevices: 1 }, maxConcurrency: 1 })
    await env.hub.hub.jobs.wait('etagged')
    const j = await api.call('jobs.get', { jobId: 'etagged' })
    expect(j.ok && j.value).toMatchObject({ status: 'failed', phase: 'aborted', failureReason: expect.stringMatching(/^Aborted: 1 of 1/) })
  })
})

describe('configurations over the UI API', () => {
  it('creates with labels and custom metrics, edits target/priority/labels/metrics with the etag, refuses new content (400403)', async () => {
    const env = await startUiHub(defer)
    const api = env.client()
    const seen = recorder(api)
    for (const [d, line] of [['c1', 1], ['c2', 1], ['c3', 2]] as const) await env.hub.hub.registry.create({ deviceId: d }).then(() => env.hub.hub.twins.patchTags({ deviceId: d }, { line }))
    const created = await api.call('configurations.create', {
      id: 'eco', targetCondition: 'tags.line = 1', priority: 2, content: { 'properties.desired.mode': 'eco' },
      labels: { owner: 'maintenance' }, metrics: { inEco: "SELECT deviceId FROM devices WHERE properties.reported.mode = 'eco'" }
    })
    expect(created.ok && created.value).toMatchObject({ targeted: 2, applied: 2, labels: { owner: 'maintenance' }, metrics: { inEco: 0 }, metricQueries: { inEco: expect.stringContaining('eco') } })
    if (!created.ok) return
    // a device reports: the custom metric moves and the UI hears about it
    await env.hub.hub.twins.patchReported({ deviceId: 'c1' }, { mode: 'eco' })
    await waitFor(() => seen.some(e => e.type === 'configuration.changed' && e.id === 'eco' && e.change === 'metrics'), 10_000, 'metrics event')
    const listed = await waitFor(async () => { const l = await api.call('configurations.list', undefined); return l.ok && l.value[0]?.metrics['inEco'] === 1 ? l.value[0] : undefined }, 10_000, 'metric 1')
    expect(listed.etag).toBe(created.value.etag)
    // edit: target every line, priority 5, a second metric
    const edited = await api.call('configurations.update', {
      id: 'eco', etag: created.value.etag, targetCondition: 'tags.line >= 1', priority: 5, labels: { owner: 'maintenance', shift: 'night' },
      metrics: { inEco: "SELECT deviceId FROM devices WHERE properties.reported.mode = 'eco'", line2: 'SELECT deviceId FROM devices WHERE tags.line = 2' }
    })
    expect(edited.ok && edited.value).toMatchObject({ targeted: 3, applied: 3, priority: 5, labels: { shift: 'night' }, metrics: { inEco: 1, line2: 1 }, content: { 'properties.desired.mode': 'eco' } })
    expect(edited.ok && edited.value.etag).not.toBe(created.value.etag)
    expect((await env.hub.hub.twins.get({ deviceId: 'c3' })).properties.desired['mode']).toBe('eco')
    // the etag the UI showed is stale now
    expect(await api.call('configurations.update', { id: 'eco', etag: created.value.etag, priority: 1 })).toMatchObject({ ok: false, error: { code: 412001, name: 'PreconditionFailed' } })
    // content is immutable
    const bad = await api.call('configurations.update', { id: 'eco', etag: edited.ok ? edited.value.etag : '', content: { 'properties.desired.mode': 'turbo' } })
    expect(bad).toMatchObject({ ok: false, error: { code: 400403 } })
    // the same content resent is fine
    expect((await api.call('configurations.update', { id: 'eco', etag: '*', content: { 'properties.desired.mode': 'eco' }, priority: 6 })).ok).toBe(true)
    // bad metrics and labels are refused before the hub
    expect(await api.call('configurations.update', { id: 'eco', etag: '*', metrics: { a: 'x', b: 'x', c: 'x', d: 'x', e: 'x', f: 'x' } })).toMatchObject({ ok: false, error: { message: 'metrics must have at most 5 entries' } })
    expect(await api.call('configurations.update', { id: 'eco', etag: '*', labels: { owner: 3 } as never })).toMatchObject({ ok: false, error: { message: 'labels.owner must be text' } })
    expect(await api.call('configurations.update', { id: 'eco', etag: '*', metrics: { bad: 'SELECT FROM' } })).toMatchObject({ ok: false, error: { code: 400404 } })
    expect(await api.call('configurations.update', { id: 'nope', etag: '*', priority: 1 })).toMatchObject({ ok: false, error: { code: 404301 } })
  })
})

describe('device export and import over the UI API', () => {
  it('exports CSV and JSON lines (keys only when asked, filtered by a query) that import into another hub as the same devices', async () => {
    const a = await startUiHub(defer)
    const b = await startUiHub(defer)
    const apiA = a.client()
    const apiB = b.client()
    await a.hub.hub.registry.create({ deviceId: 'press,1', status: 'disabled', statusReason: 'maintenance' })
    await a.hub.hub.twins.patch({ deviceId: 'press,1' }, { tags: { site: 'hall "B"', line: 3, geo: { lat: 1.5 } }, properties: { desired: { mode: 'eco', limits: { max: 80 } } } })
    await a.hub.hub.registry.create({ deviceId: 'oven-1' })
    await a.hub.hub.twins.patchTags({ deviceId: 'oven-1' }, { site: 'hall-2', flag: true })
    await a.hub.hub.registry.create({ deviceId: 'other-1' })

    const noKeys = await apiA.call('devices.export', { format: 'csv', includeKeys: false })
    expect(noKeys.ok && noKeys.value).toMatchObject({ devices: 3, withKeys: false, mimeType: 'text/csv', fileName: expect.stringMatching(/^sitehub-devices-.*\.csv$/) })
    const keyA = a.hub.hub.registry.mustGet({ deviceId: 'oven-1' }).authentication.symmetricKey.primaryKey ?? ''
    expect(noKeys.ok && noKeys.value.content).not.toContain(keyA)
    const filtered = await apiA.call('devices.export', { format: 'jsonl', includeKeys: false, query: "tags.site = 'hall-2'" })
    expect(filtered.ok && filtered.value.devices).toBe(1)
    const badQuery = await apiA.call('devices.export', { format: 'jsonl', includeKeys: false, query: 'tags.site = = 1' })
    expect(!badQuery.ok && badQuery.error.query?.position?.offset).toBe(13)
    expect(await apiA.call('devices.export', { format: 'csv' } as never)).toMatchObject({ ok: false, error: { message: 'includeKeys is required' } })

    for (const format of ['csv', 'jsonl'] as const) {
      const exp = await apiA.call('devices.export', { format, includeKeys: true, query: "deviceId != 'other-1'" })
      expect(exp.ok).toBe(true)
      if (!exp.ok) return
      expect(exp.value).toMatchObject({ devices: 2, withKeys: true, fileName: expect.stringMatching(new RegExp(`-with-keys\\.${format}$`)) })
      expect(exp.value.content).toContain(keyA)
      // the renderer's own parser reads the file, then the import call creates the devices
      const rows = parseImport(exp.value.content)
      expect(rows.filter(r => r.problem !== undefined)).toEqual([])
      const res = await apiB.call('devices.import', { rows: toImportInputs(rows) })
      expect(res.ok && res.value.every(o => o.ok)).toBe(true)
      for (const id of ['press,1', 'oven-1']) {
        const da = a.hub.hub.registry.mustGet({ deviceId: id })
        const db = b.hub.hub.registry.mustGet({ deviceId: id })
        expect([db.status, db.statusReason, db.authentication.symmetricKey]).toEqual([da.status, da.statusReason, da.authentication.symmetricKey])
        const ta = a.hub.hub.twins.get({ deviceId: id })
        const tb = b.hub.hub.twins.get({ deviceId: id })
        expect(tb.tags).toEqual(ta.tags)
        const { $metadata: _m1, $version: _v1, ...desA } = ta.properties.desired
        const { $metadata: _m2, $version: _v2, ...desB } = tb.properties.desired
        expect(desB).toEqual(desA)
      }
      expect(b.hub.hub.registry.get({ deviceId: 'other-1' })).toBeUndefined()
      // importing again: each row says the device exists, none is changed
      const again = await apiB.call('devices.import', { rows: toImportInputs(rows) })
      expect(again.ok && again.value.map(o => o.error?.code)).toEqual([409001, 409001])
      for (const id of ['press,1', 'oven-1']) await b.hub.hub.registry.remove({ deviceId: id })
    }
    // the audit log keeps who exported what, never the file or a key
    const audit = await apiA.call('audit.list', { method: 'devices.export' })
    expect(audit.ok && audit.value.items.length).toBeGreaterThanOrEqual(3)
    const auditText = JSON.stringify(audit.ok ? audit.value.items : [])
    expect(auditText).not.toContain(keyA)
    expect(auditText).toContain('"withKeys":true')
    const imported = await apiB.call('audit.list', { method: 'devices.import' })
    expect(JSON.stringify(imported.ok ? imported.value.items : [])).not.toContain(keyA)
    expect(await apiB.call('devices.import', { rows: [] })).toMatchObject({ ok: false, error: { message: 'rows must not be empty' } })
    expect(await apiB.call('devices.import', { rows: [{ deviceId: 'bad id' }] })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^rows\[0\]\.deviceId must be/) } })
  })
})



describe('who may use the operations methods', () => {
  it('lets a technician run jobs and export, but not import devices or change configurations; a supervisor only reads', async () => {
    const env = await startUiHub(defer)
    const admin = env.client()
    const tech = env.client('technician')
    const sup = env.client('supervisor')
    await env.hub.hub.registry.create({ deviceId: 'r1' })
    expect((await admin.call('configurations.create', { id: 'c', targetCondition: '*', content: { 'properties.desired.a': 1 } })).ok).toBe(true)
    const etag = env.hub.hub.configurations.mustGet('c').etag
    expect((await tech.call('jobs.create', { queryCondition: '*', desired: { a: 2 }, devicesPerMinute: 10, dryRun: true })).ok).toBe(true)
    expect((await tech.call('devices.export', { format: 'csv', includeKeys: false })).ok).toBe(true)
    expect(await tech.call('devices.import', { rows: [{ deviceId: 'r2' }] })).toMatchObject({ ok: false, error: { code: 403201, name: 'Forbidden' } })
    expect(await tech.call('configurations.update', { id: 'c', etag, priority: 3 })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await sup.call('jobs.create', { queryCondition: '*', desired: { a: 2 } })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect(await sup.call('devices.export', { format: 'jsonl', includeKeys: true })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect((await sup.call('jobs.list', undefined)).ok).toBe(true)
    expect(env.hub.hub.registry.get({ deviceId: 'r2' })).toBeUndefined()
    expect(env.hub.hub.configurations.mustGet('c').priority).toBe(0)
  })
})

describe('UI export and the CLI', () => {
  it('writes files `sitehub device import` takes, and the CLI exports the imported devices byte for byte the same', async () => {
    const env = await startUiHub(defer)
    const api = env.client()
    await env.hub.hub.registry.create({ deviceId: 'line-1', status: 'disabled', statusReason: 'seal swap, left side' })
    await env.hub.hub.twins.patch({ deviceId: 'line-1' }, { tags: { site: 'Plant 2, hall "B"', serial: '0042', line: { number: 4 } }, properties: { desired: { mode: 'eco', telemetry: { interval: 30 } } } })
    await env.hub.hub.registry.create({ deviceId: 'line-2' })
    const dir = await tempDataDir(defer, 'sitehub-ops-cli-')
    for (const format of ['csv', 'jsonl'] as const) {
      const exp = await api.call('devices.export', { format, includeKeys: true })
      if (!exp.ok) throw new Error(exp.error.message)
      const file = join(dir, exp.value.fileName)
      writeFileSync(file, exp.value.content)
      const fresh = join(dir, `hub-${format}`)
      mkdirSync(fresh)
      const imported = await runCli(['device', 'import', file, '--mode', 'create', '--data-dir', fresh])
      expect(imported.stdout, imported.stderr).toBe('imported 2, failed 0\n')
      const back = join(dir, `back.${format}`)
      expect((await runCli(['device', 'export', back, '--data-dir', fresh])).code).toBe(0)
      if (format === 'csv') expect(readFileSync(back, 'utf8')).toBe(exp.value.content)
      else {
        // JSON lines carry etags and versions that differ between hubs: compare what the import sets
        const essentials = (text: string): unknown[] => text.trim().split('\n').map(l => {
          const o = JSON.parse(l) as { id: string; status: string; statusReason: string | null; authentication: unknown; tags: unknown; properties: { desired: Record<string, unknown> } }
          const { $metadata: _m, $version: _v, ...desired } = o.properties.desired
          return { id: o.id, status: o.status, statusReason: o.statusReason, authentication: o.authentication, tags: o.tags, desired }
        })
        expect(essentials(readFileSync(back, 'utf8'))).toEqual(essentials(exp.value.content))
      }
    }
  }, 120_000)
})
