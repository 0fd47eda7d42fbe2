// Operations stores without React (zustand vanilla) against a typed fake of the contract, and
// the pure helpers behind the jobs review sentence, the schedule picker and configuration forms.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  fail, ok, type ConfigurationView, type HubApi, type JobView, type MethodInput, type MethodName, type MethodOutput, type Result, type UiEvent
} from '../../src/shared/contract/index.js'
import { createJobsStore, jobInput } from '../../src/renderer/src/state/jobs.js'
import { contentToDesired, createConfigurationsStore, desiredToContent, labelsText, parseLabels } from '../../src/renderer/src/state/configurations.js'
import { createProvisioningStore, IMPORT_BATCH } from '../../src/renderer/src/state/provisioning.js'
import { parseImport } from '../../src/renderer/src/lib/import.js'
import { isoToLocalInput, jobSummary, localInputToIso, utcText, windowText } from '../../src/renderer/src/lib/job-summary.js'

vi.mock('react', () => { throw new Error('stores must not import react') })

type Impl = { [M in MethodName]?: (input: MethodInput<M>) => Result<MethodOutput<M>> }

function fakeHub (impl: Impl) {
  const listeners = new Set<(e: UiEvent[]) => void>()
  const calls: Array<{ method: MethodName; input: unknown }> = []
  const api: HubApi = {
    call (method, input) {
      calls.push({ method, input })
      const h = impl[method] as ((i: unknown) => Result<unknown>) | undefined
      return Promise.resolve((h === undefined ? fail(0, 'UnknownMethod', method) : h(input)) as never)
    },
    subscribe (l) { listeners.add(l); return () => { listeners.delete(l) } }
  }
  return { api, calls, emit: (e: UiEvent[]) => { for (const l of listeners) l(e) }, listeners, count: (m: MethodName) => calls.filter(c => c.method === m).length }
}

const PLAN0: JobView['plan'] = { maxExecutionTimeInSeconds: 3600, responseTimeoutInSeconds: 30, devicesPerMinute: null, maxConcurrency: null, abortThreshold: null, maintenanceWindow: null, timeZone: null, deviceWindowTag: 'maintenanceWindow', inUseGuard: null }
const job = (jobId: string, extra: Partial<JobView> = {}): JobView => ({
  jobId, type: 'scheduleDeviceMethod', status: 'running', queryCondition: '*', createdTime: '', startTime: '', endTime: null, methodName: 'reboot', failureReason: null,
  stats: { deviceCount: 2, failedCount: 0, succeededCount: 1, runningCount: 1, pendingCount: 0 }, phase: 'running', plan: PLAN0, waiting: null, ...extra
})
const config = (id: string, extra: Partial<ConfigurationView> = {}): ConfigurationView => ({
  id, priority: 0, targetCondition: '*', content: {}, targeted: 0, applied: 0, metrics: {}, metricQueries: {}, labels: {}, createdTime: '', lastUpdatedTime: '', etag: 'e1', ...extra
})

afterEach(() => { vi.useRealTimers() })

describe('jobs store', () => {
  it('follows job.changed events with one refetch per burst and never polls', async () => {
    vi.useFakeTimers()
    let status = 'running'
    const f = fakeHub({
      'jobs.list': () => ok([job('j', { status, phase: status === 'running' ? 'running' : 'completed' })]),
      'jobs.devices': () => ok([])
    })
    const s = createJobsStore(f.api, { refetchMs: 100 })
    const stop = s.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(f.count('jobs.list')).toBe(1)
    // a quiet minute: no polling at all
    await vi.advanceTimersByTimeAsync(60_000)
    expect(f.count('jobs.list')).toBe(1)
    status = 'completed'
    for (let i = 0; i < 30; i++) f.emit([{ type: 'job.changed', jobId: 'j', status: null, devices: 5 }, { type: 'twin.changed', deviceId: 'd', parts: ['reported'] }])
    await vi.advanceTimersByTimeAsync(250)
    expect(f.count('jobs.list')).toBe(2)
    expect(s.store.getState().jobs[0]?.phase).toBe('completed')
    // unrelated events do nothing; a resync reloads
    f.emit([{ type: 'telemetry.rate', messages: 3, windowMs: 250 }])
    await vi.advanceTimersByTimeAsync(250)
    expect(f.count('jobs.list')).toBe(2)
    f.emit([{ type: 'resync', reason: 'reconnected' }])
    await vi.advanceTimersByTimeAsync(250)
    expect(f.count('jobs.list')).toBe(3)
    // the open job's device results follow its own events only, at most once a second
    s.select('j')
    await vi.advanceTimersByTimeAsync(0)
    const devCalls = f.count('jobs.devices')
    f.emit([{ type: 'job.changed', jobId: 'other', status: null, devices: 3 }])
    await vi.advanceTimersByTimeAsync(1500)
    expect(f.count('jobs.devices')).toBe(devCalls)
    for (let i = 0; i < 10; i++) f.emit([{ type: 'job.changed', jobId: 'j', status: null, devices: 1 }])
    await vi.advanceTimersByTimeAsync(1500)
    expect(f.count('jobs.devices')).toBe(devCalls + 1)
    stop()
    expect(f.listeners.size).toBe(0)
    const lists = f.count('jobs.list')
    f.emit([{ type: 'job.changed', jobId: 'j', status: 'completed', devices: 0 }])
    await vi.advanceTimersByTimeAsync(1500)
    expect(f.count('jobs.list')).toBe(lists)
  })

  it('reviews a draft with a dry run carrying the plan, then creates it without the dry-run flag', async () => {
    const f = fakeHub({
      'jobs.create': (i) => ok(job(i.jobId ?? 'new', { phase: i.startTime !== undefined ? 'scheduled' : 'running' })),
      'jobs.list': () => ok([]),
      'jobs.devices': () => ok([])
    })
    const s = createJobsStore(f.api)
    const draft = {
      kind: 'method' as const, queryCondition: "tags.line = 'a'", methodName: 'reboot', responseTimeoutInSeconds: 20, startTime: '2026-11-26T21:00:00.000Z',
      devicesPerMinute: 5, abortThreshold: { failurePercent: 10, minDevices: 4 }, maintenanceWindow: [{ start: '22:00', end: '04:00' }], timeZone: 'Europe/Berlin'
    }
    expect(await s.review(draft)).toMatchObject({ ok: true, job: { phase: 'scheduled' } })
    expect(f.calls[0]?.input).toEqual({
      queryCondition: "tags.line = 'a'", methodName: 'reboot', responseTimeoutInSeconds: 20, startTime: '2026-11-26T21:00:00.000Z',
      devicesPerMinute: 5, abortThreshold: { failurePercent: 10, minDevices: 4 }, maintenanceWindow: [{ start: '22:00', end: '04:00' }], timeZone: 'Europe/Berlin', dryRun: true
    })
    expect(await s.create(draft)).toMatchObject({ ok: true })
    expect((f.calls.find((c, i) => i > 0 && c.method === 'jobs.create')?.input as Record<string, unknown>)['dryRun']).toBeUndefined()
    // a twin draft never carries method fields
    expect(jobInput({ kind: 'twin', queryCondition: '*', desired: { a: 1 }, maxExecutionTimeInSeconds: 600 })).toEqual({ queryCondition: '*', desired: { a: 1 }, maxExecutionTimeInSeconds: 600 })
  })

  it('reports a review error from the hub as is', async () => {
    const f = fakeHub({ 'jobs.create': () => fail(400004, 'ArgumentInvalid', 'maintenanceWindow[0] has no time zone') })
    const s = createJobsStore(f.api)
    expect(await s.review({ kind: 'method', queryCondition: '*', methodName: 'reboot', maintenanceWindow: [{ start: '22:00', end: '04:00' }] }))
      .toEqual({ ok: false, error: { code: 400004, name: 'ArgumentInvalid', message: 'maintenanceWindow[0] has no time zone' } })
  })
})

describe('job review sentence and schedule picker', () => {
  it('says what the job will do in one sentence', () => {
    const now = Date.parse('2026-11-26T12:00:00Z')
    expect(jobSummary({
      type: 'scheduleDeviceMethod', methodName: 'reboot', deviceCount: 12, startTime: '2026-11-26T12:00:00Z',
      plan: { ...PLAN0, devicesPerMinute: 5, maintenanceWindow: [{ start: '22:00', end: '04:00' }], timeZone: 'Europe/Berlin', abortThreshold: { failurePercent: 10, minDevices: 10 } }
    }, now)).toBe('runs reboot on 12 devices, 5 per minute, only 22:00-04:00 Europe/Berlin, stops if 10% or more fail (counted once 10 devices finished), gives up after 1 hour')
    expect(jobSummary({
      type: 'scheduleUpdateTwin', methodName: null, deviceCount: 1, startTime: '2026-11-27T06:30:00Z',
      plan: { ...PLAN0, maxExecutionTimeInSeconds: 172_800, maxConcurrency: 3, maintenanceWindow: [{ days: ['Sat', 'Sun'], start: '06:00', end: '18:00', timeZone: 'UTC' }], deviceWindowTag: null, inUseGuard: { path: 'properties.reported.state', values: ['busy'], retryAfterSeconds: 60 } }
    }, now)).toBe(`changes desired properties on 1 device, from 2026-11-27 06:30 UTC, at most 3 at once, only Sat, Sun 06:00-18:00 UTC, ignores devices' own windows, skips devices whose reported.state is "busy", gives up after 2 days`)
    expect(windowText({ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], start: '22:00', end: '05:00' }, 'Europe/Berlin')).toBe('Mon-Fri 22:00-05:00 Europe/Berlin')
  })

  it('turns the local time picked into the UTC instant the hub keeps, and back', () => {
    const saved = process.env['TZ']
    process.env['TZ'] = 'Europe/Berlin'
    try {
      expect(localInputToIso('2026-11-26T22:00')).toBe('2026-11-26T21:00:00.000Z') // CET, UTC+1
      expect(localInputToIso('2026-07-01T22:00')).toBe('2026-07-01T20:00:00.000Z') // CEST, UTC+2
      expect(isoToLocalInput('2026-11-26T21:00:00.000Z')).toBe('2026-11-26T22:00')
      expect(localInputToIso('tomorrow')).toBeUndefined()
      expect(utcText('2026-11-26T21:00:00.000Z')).toBe('2026-11-26 21:00 UTC')
    } finally {
      if (saved === undefined) delete process.env['TZ']
      else process.env['TZ'] = saved
    }
  })
})

describe('configurations store', () => {
  it('saves an edit against the etag shown, flags a conflict, and refetches on metric events', async () => {
    vi.useFakeTimers()
    let etag = 'e1'
    const f = fakeHub({
      'configurations.list': () => ok([config('eco', { etag, metrics: { inEco: 1 } })]),
      'configurations.update': (i) => i.etag !== etag && i.etag !== '*' ? fail(412001, 'PreconditionFailed', 'stale') : ok(config('eco', { etag: (etag = 'e2'), priority: i.priority ?? 0 }))
    })
    const s = createConfigurationsStore(f.api, { refetchMs: 100 })
    s.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(await s.update('eco', 'e1', { priority: 5, targetCondition: 'tags.x = 1' })).toMatchObject({ ok: true, item: { priority: 5, etag: 'e2' } })
    expect(f.calls.find(c => c.method === 'configurations.update')?.input).toEqual({ id: 'eco', etag: 'e1', priority: 5, targetCondition: 'tags.x = 1' })
    expect(s.store.getState().items[0]).toMatchObject({ priority: 5, etag: 'e2' })
    expect(await s.update('eco', 'e1', { priority: 6 })).toMatchObject({ ok: false, conflict: true, error: { code: 412001 } })
    const before = f.count('configurations.list')
    f.emit([{ type: 'configuration.changed', id: 'eco', change: 'metrics' }])
    await vi.advanceTimersByTimeAsync(200)
    expect(f.count('configurations.list')).toBe(before + 1)
  })

  it('converts labels and content for the forms', () => {
    expect(parseLabels('owner=maintenance, shift = night')).toEqual({ ok: true, value: { owner: 'maintenance', shift: 'night' } })
    expect(parseLabels('owner')).toMatchObject({ ok: false, message: '"owner" is not name=value' })
    expect(parseLabels('a b=1')).toMatchObject({ ok: false })
    expect(parseLabels('a=1,a=2')).toMatchObject({ ok: false, message: 'Label "a" appears twice' })
    expect(labelsText({ owner: 'm', shift: 'n' })).toBe('owner=m, shift=n')
    expect(contentToDesired({ 'properties.desired.mode': 'eco', 'properties.desired.limits.max': 80 })).toEqual({ mode: 'eco', limits: { max: 80 } })
    expect(contentToDesired({ 'properties.desired': { a: 1 } })).toEqual({ a: 1 })
    expect(desiredToContent({ mode: 'eco', limits: { max: 80 } })).toEqual({ 'properties.desired.mode': 'eco', 'properties.desired.limits': { max: 80 } })
  })
})

describe('provisioning store', () => {
  it('exports through the hub and hands the file to the saver, keeping only its description', async () => {
    const f = fakeHub({
      'devices.export': (i) => i.query === 'bad' ? fail(400004, 'ArgumentInvalid', 'bad query') : ok({ fileName: 'x.csv', mimeType: 'text/csv', content: 'id\r\na\r\n', devices: 1, withKeys: i.includeKeys })
    })
    const s = createProvisioningStore(f.api)
    const saved: string[] = []
    await s.exportDevices({ format: 'csv', includeKeys: true, query: "  tags.a = 1 " }, file => { saved.push(file.content) })
    expect(f.calls[0]?.input).toEqual({ format: 'csv', includeKeys: true, query: 'tags.a = 1' })
    expect(saved).toEqual(['id\r\na\r\n'])
    expect(s.store.getState()).toMatchObject({ exporting: false, lastExport: { fileName: 'x.csv', devices: 1, withKeys: true }, exportError: undefined })
    expect(s.store.getState().lastExport).not.toHaveProperty('content')
    await s.exportDevices({ format: 'jsonl', includeKeys: false, query: '' }, () => { saved.push('again') })
    expect(f.calls[1]?.input).toEqual({ format: 'jsonl', includeKeys: false })
    await s.exportDevices({ format: 'csv', includeKeys: false, query: 'bad' }, () => { saved.push('never') })
    expect(saved).not.toContain('never')
    expect(s.store.getState().exportError).toMatchObject({ code: 400004 })
  })

  it('imports the good rows in batches with one outcome per row, a failed batch failing only its rows', async () => {
    let call = 0
    const f = fakeHub({
      'devices.import': (i) => {
        call++
        if (call === 2) return fail(503, 'ServiceUnavailable', 'gone')
        return ok(i.rows.map(r => r.deviceId === 'd-7' ? { deviceId: r.deviceId, ok: false, error: { code: 409001, name: 'DeviceAlreadyExists', message: 'exists' } } : { deviceId: r.deviceId, ok: true }))
      }
    })
    const s = createProvisioningStore(f.api)
    const text = ['deviceId', ...Array.from({ length: IMPORT_BATCH * 2 + 5 }, (_, i) => `d-${i}`), 'bad id'].join('\n')
    await s.importRows(parseImport(text))
    expect(f.count('devices.import')).toBe(3)
    const results = s.store.getState().results
    expect(results).toHaveLength(IMPORT_BATCH * 2 + 5)
    expect(results.find(r => r.deviceId === 'd-7')).toMatchObject({ ok: false, message: expect.stringMatching(/d-7: A device with this id already exists.*DeviceAlreadyExists 409001/) })
    expect(results.filter(r => !r.ok)).toHaveLength(1 + IMPORT_BATCH) // d-7 and the whole second batch
    expect(results[IMPORT_BATCH]?.message).toMatch(/ServiceUnavailable 503/)
    expect(s.store.getState().importing).toBe(false)
  })
})

describe('import parser on export files', () => {
  it('reads the export CSV: id column, keys, status reason, nested tags and desired, JSON cells, quoted line breaks', () => {
    const csv = 'id,status,statusReason,authType,primaryKey,secondaryKey,primaryThumbprint,secondaryThumbprint,edge,tags.geo.lat,tags.note,tags.site,desired.limits,desired.mode\r\n' +
      'press-1,disabled,service,sas,' + 'A'.repeat(44) + ',' + 'B'.repeat(44) + ',,,false,1.5,"two\nlines","""42""","{""max"":80}",eco\r\n' +
      'oven-1,enabled,,sas,,,,,false,,,hall-2,,\r\n'
    const rows = parseImport(csv)
    expect(rows).toEqual([
      { line: 2, deviceId: 'press-1', status: 'disabled', statusReason: 'service', tags: { geo: { lat: 1.5 }, note: 'two\nlines', site: '42' }, desired: { limits: { max: 80 }, mode: 'eco' }, primaryKey: 'A'.repeat(44), secondaryKey: 'B'.repeat(44), problem: undefined },
      { line: 4, deviceId: 'oven-1', status: 'enabled', tags: { site: 'hall-2' }, problem: undefined }
    ])
  })

  it('reads ExportImportDevice lines and refuses what only the CLI imports', () => {
    const line = (o: object): string => JSON.stringify(o)
    const rows = parseImport([
      line({ id: 'a', status: 'enabled', authentication: { type: 'sas', symmetricKey: { primaryKey: null, secondaryKey: null } }, tags: {}, properties: { desired: { x: 1, $version: 3, $metadata: {} }, reported: { y: 2 } } }),
      line({ id: 'b', moduleId: 'm' }),
      line({ id: 'c', authentication: { type: 'selfSigned' } }),
      line({ id: 'd', capabilities: { iotEdge: true } }),
      line({ id: 'e', importMode: 'delete' })
    ].join('\n'))
    expect(rows[0]).toEqual({ line: 1, deviceId: 'a', status: 'enabled', tags: undefined, desired: { x: 1 }, problem: undefined })
    expect(rows.slice(1).map(r => r.problem)).toEqual([
      expect.stringMatching(/module.*sitehub device import/), expect.stringMatching(/selfSigned is not SAS keys/), expect.stringMatching(/IoT Edge/), expect.stringMatching(/importMode delete/)
    ])
    expect(parseImport('id,colour\na,red')[0]?.problem).toMatch(/Unknown column "colour"/)
    expect(parseImport('deviceId,tags.x\na,{bad')[0]?.problem).toMatch(/tags.x is not valid JSON/)
  })
})
