// Jobs v2 over raw HTTPS, for what the SDK does not send: the plant-floor extension fields
// (validated at the edge and echoed back), the paging headers, the legacy query parameters,
// and the active-job limit.
import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'

let hub: ServiceHub

beforeAll(async () => {
  hub = await startServiceHub()
  for (const deviceId of ['p1', 'p2']) await hub.hub.registry.create({ deviceId })
})
afterAll(async () => { await hub?.close() })

function sas (): string {
  const policy = hub.hub.registry.policies.get('iothubowner')
  if (policy === undefined) throw new Error('no iothubowner policy')
  return createSasToken({ resource: hub.ip, key: policy.primaryKey, keyName: 'iothubowner', expiry: Math.floor(Date.now() / 1000) + 3600 })
}

function raw (method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    const text = opts.body === undefined ? undefined : JSON.stringify(opts.body)
    const headers: Record<string, string> = { Authorization: sas(), ...opts.headers }
    if (text !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8'
    const req = request({ host: hub.ip, port: 443, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: t === '' ? null : JSON.parse(t) })
      })
    })
    req.on('error', reject)
    req.end(text)
  })
}

const v = '?api-version=2021-04-12'
const twinJob = (extra: Record<string, unknown> = {}) => ({ type: 'scheduleUpdateTwin', queryCondition: "deviceId IN ['p1','p2']", updateTwin: { etag: '*', properties: { desired: { a: 1 } } }, ...extra })

describe('jobs v2 REST extensions', () => {
  it('accepts and echoes the plant-floor fields', async () => {
    const body = twinJob({
      startTime: '2099-01-01T00:00:00Z',
      devicesPerMinute: 30, maxConcurrency: 5, abortThreshold: { failurePercent: 25, minDevices: 4 },
      maintenanceWindow: { timeZone: 'Europe/Berlin', days: ['Sat', 'Sun'], start: '06:00', end: '18:00' },
      deviceWindowTag: 'site.window',
      inUseGuard: { path: 'properties.reported.state', value: 'busy', retryAfterSeconds: 300 }
    })
    const put = await raw('PUT', `/jobs/v2/ext-1${v}`, { body })
    expect(put.status).toBe(200)
    expect(put.body).toEqual({ jobId: 'ext-1', type: 'scheduleUpdateTwin', status: 'queued' })
    const got = await raw('GET', `/jobs/v2/ext-1${v}`)
    expect(got.body).toMatchObject({
      jobId: 'ext-1', status: 'scheduled', startTime: '2099-01-01T00:00:00.000Z', maxExecutionTimeInSeconds: 3600,
      devicesPerMinute: 30, maxConcurrency: 5, abortThreshold: { failurePercent: 25, minDevices: 4 },
      maintenanceWindow: [{ timeZone: 'Europe/Berlin', days: ['Sat', 'Sun'], start: '06:00', end: '18:00' }],
      deviceWindowTag: 'site.window',
      inUseGuard: { path: 'properties.reported.state', values: ['busy'], retryAfterSeconds: 300 },
      deviceJobStatistics: { deviceCount: 0, failedCount: 0, succeededCount: 0, runningCount: 0, pendingCount: 0 }
    })
    expect((await raw('POST', `/jobs/v2/ext-1/cancel${v}`)).body.status).toBe('cancelled')
  })

  it('refuses bad fields with 400 naming the field', async () => {
    const bad = async (extra: Record<string, unknown>): Promise<string> => {
      const r = await raw('PUT', `/jobs/v2/bad${v}`, { body: twinJob(extra) })
      expect(r.status).toBe(400)
      return r.body.Message as string
    }
    expect(await bad({ maintenanceWindow: { start: '22:00', end: '5:00' } })).toMatch(/maintenanceWindow.end must be a 24-hour 'HH:MM'/)
    expect(await bad({ timeZone: 'Nowhere/City' })).toMatch(/timeZone "Nowhere\/City" is not a time zone/)
    expect(await bad({ abortThreshold: { failurePercent: 0 } })).toMatch(/abortThreshold.failurePercent/)
    expect(await bad({ inUseGuard: { path: 'state', value: 'busy' } })).toMatch(/inUseGuard.path/)
    expect(await bad({ devicesPerMinute: -1 })).toMatch(/devicesPerMinute/)
    expect(await bad({ type: 'export' })).toMatch(/POST \/jobs\/create/)
    expect(await bad({ jobId: 'other' })).toMatch(/does not match/)
    expect(await bad({ queryCondition: "tags.a = 'x" })).toMatch(/ArgumentInvalid/)
  })

  it('pages with x-ms-continuation only while more follow, and accepts the legacy parameters', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await raw('PUT', `/jobs/v2/page-${i}${v}`, { body: twinJob() })).status).toBe(200)
      await hub.hub.jobs.wait(`page-${i}`)
    }
    const first = await raw('GET', `/jobs/v2/query${v}&jobType=scheduleUpdateTwin&jobStatus=completed`, { headers: { 'x-ms-max-item-count': '2' } })
    expect(first.body).toHaveLength(2)
    expect(typeof first.headers['x-ms-continuation']).toBe('string')
    const second = await raw('GET', `/jobs/v2/query${v}&jobType=scheduleUpdateTwin&jobStatus=completed`, { headers: { 'x-ms-max-item-count': '2', 'x-ms-continuation': first.headers['x-ms-continuation'] as string } })
    expect(second.body).toHaveLength(1)
    expect(second.headers['x-ms-continuation']).toBeUndefined()
    const legacy = await raw('GET', `/jobs/v2/query${v}&jobStatus=completed&pageSize=2&continuationToken=${encodeURIComponent(first.headers['x-ms-continuation'] as string)}`)
    expect(legacy.body.map((j: { jobId: string }) => j.jobId)).toEqual(second.body.map((j: { jobId: string }) => j.jobId))
    expect([...first.body, ...second.body].map((j: { jobId: string }) => j.jobId).sort()).toEqual(['page-0', 'page-1', 'page-2'])
    expect((await raw('GET', `/jobs/v2/query${v}&jobStatus=failed`)).body).toEqual([])
  })

  it('limits active jobs with 429 ThrottlingMaxActiveJobCountExceeded', async () => {
    const later = '2099-01-01T00:00:00Z'
    const active = hub.hub.jobs.activeCount()
    for (let i = active; i < 10; i++) expect((await raw('PUT', `/jobs/v2/hold-${i}${v}`, { body: twinJob({ startTime: later }) })).status).toBe(200)
    const over = await raw('PUT', `/jobs/v2/hold-over${v}`, { body: twinJob({ startTime: later }) })
    expect(over.status).toBe(429)
    expect(over.headers['iothub-errorcode']).toBe('ThrottlingMaxActiveJobCountExceeded')
    expect(over.body.errorCode).toBe(429004)
    expect((await raw('GET', `/jobs/v2/hold-over${v}`)).status).toBe(404)
  })
})
