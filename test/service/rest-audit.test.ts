// Changes made through the service REST API are in the audit log (issue 6: "every change
// recorded"), with the policy as the user and the state before and after; reads are not.
// Driven by the official azure-iothub SDK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import iothub from 'azure-iothub'
import { authServicesFor } from '../../src/main/hub/accounts/index.js'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'

const { Registry } = iothub

let hub: ServiceHub
beforeAll(async () => { hub = await startServiceHub() })
afterAll(async () => { await hub?.close() })

describe('REST changes in the audit log', () => {
  it('records create, twin update, a refused change and delete by policy, not reads; never keys', async () => {
    const registry = Registry.fromConnectionString(hub.connectionString('iothubowner'))
    const audit = authServicesFor(hub.hub).audit
    await registry.create({ deviceId: 'aud-1' })
    const twin = (await registry.getTwin('aud-1')).responseBody
    await registry.updateTwin('aud-1', { tags: { line: 'A' }, properties: { desired: { rate: 5 } } }, twin.etag)
    await registry.get('aud-1')
    await registry.createQuery('SELECT * FROM devices', 10).nextAsTwin()
    const refused = await registry.updateTwin('aud-1', { tags: { line: 'B' } }, '"stale"').then(() => null, (e: Error) => e)
    expect(refused).not.toBeNull()
    await registry.delete('aud-1')

    const entries = audit.list({ deviceId: 'aud-1' }).items.reverse()
    expect(entries.map(e => [e.user, e.method, e.outcome])).toEqual([
      ['policy:iothubowner', 'rest.PUT /devices/{deviceId}', 'ok'],
      ['policy:iothubowner', 'rest.PATCH /twins/{deviceId}', 'ok'],
      ['policy:iothubowner', 'rest.PATCH /twins/{deviceId}', 'error'],
      ['policy:iothubowner', 'rest.DELETE /devices/{deviceId}', 'ok']
    ])
    const [created, patched, stale, deleted] = entries
    expect(created?.before).toBeNull()
    expect(created?.after).toMatchObject({ status: 'enabled', tags: {} })
    expect(patched?.before).toMatchObject({ tags: {} })
    expect(patched?.after).toMatchObject({ tags: { line: 'A' }, desired: { rate: 5 } })
    expect(stale?.error).toMatchObject({ code: 412001 })
    expect(deleted?.before).toMatchObject({ tags: { line: 'A' } })
    expect(deleted?.after).toBeNull()
    expect(entries.every(e => e.address !== '')).toBe(true)
    // reads (GET, the query POST) are not changes
    expect(audit.list({ method: 'rest.GET' }).total).toBe(0)
    expect(audit.list({ method: 'rest.POST /devices/query' }).total).toBe(0)
    // keys never reach the log
    expect(JSON.stringify(entries)).not.toMatch(/primaryKey|SharedAccessKey/)
  })
})
