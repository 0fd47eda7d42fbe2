// Sync conflicts end to end, the sync REST routes, and the cloud's telemetry read route: a
// cloud-role hub and an edge on two loopback IPs, the edge's upstream through a pausable TCP
// proxy; the device on azure-iot-device-mqtt at the edge, a back end on azure-iothub at the
// cloud, the REST routes called with plain https requests and a policy SAS token.
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HubEvents } from '../../src/main/hub/types.js'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient, type DeviceClient, type Twin } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'
import { rest } from './rest.js'

const { Registry } = iothub
type Reg = InstanceType<typeof Registry>
type Cleared = HubEvents['sync.conflictCleared']

describe('sync conflicts: nested merge, who/when, decisions field by field, default policy, REST', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  let cloudReg: Reg
  let device: DeviceClient
  let twin: Twin
  const ca = testCa()
  const desiredSeen: Array<Record<string, unknown>> = []
  let cleared: Cleared[] = []
  let offCleared: () => void = () => {}

  const watchCleared = (): void => {
    offCleared()
    offCleared = edge.running.hub.events.on('sync.conflictCleared', (e) => { cleared.push(e) })
  }
  const cut = async (): Promise<void> => {
    proxy.pause()
    await waitFor('link offline', () => edge.running.hub.sync.status().state === 'offline', 15_000)
  }
  const restore = async (): Promise<void> => {
    proxy.resume()
    await waitFor('link online', () => edge.running.hub.sync.status().state === 'online', 20_000)
  }
  const cloudTwin = async (): Promise<any> => (await cloudReg.getTwin('dev1')).responseBody
  const edgeTwin = (): any => edge.running.hub.twins.get({ deviceId: 'dev1' })

  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
    const key = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string
    cloudReg = Registry.fromConnectionString(`HostName=${cloudIp};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`)
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
    stack.defer(() => edge.close())
    watchCleared()
    stack.defer(() => { offCleared() })
    await edge.running.hub.registry.create({ deviceId: 'dev1' })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: 'site-c' })
    await edge.running.hub.sync.updateSettings({ conflictPolicy: { mode: 'manual', afterMinutes: 0 } })
    device = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: 'dev1' }), { ca, defer: stack.defer })
    twin = await device.getTwin()
    twin.on('properties.desired', (d: Record<string, unknown>) => { desiredSeen.push(JSON.parse(JSON.stringify(d)) as Record<string, unknown>) })
    await waitFor('dev1 upstream', async () => (await cloudReg.get('dev1').catch(() => null))?.responseBody, 30_000)
  })
  afterAll(async () => { await stack.run() })

  it('nested desired/tags edited on both sides offline: non-conflicting leaves merge, the clashing leaf is a conflict with who/when on each side', async () => {
    await cloudReg.updateTwin('dev1', { tags: { loc: { line: 'L0', cell: 1 } }, properties: { desired: { cfg: { mode: 'a', limits: { max: 10, min: 1 }, unit: 'C' } } } } as never, '*')
    await waitFor('baseline at the edge', () => edgeTwin().properties.desired.cfg?.unit === 'C' && edgeTwin().tags.loc?.line === 'L0')
    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)

    await cut()
    const offlineAt = new Date().toISOString()
    // The site: desired over the edge's own REST API (policy iothubowner), tags by a UI user.
    const patched = await rest(edge, ca, 'PATCH', '/twins/dev1', { properties: { desired: { cfg: { limits: { max: 11, min: 2 } } } } })
    expect(patched.status).toBe(200)
    await edge.running.hub.twins.patchTags({ deviceId: 'dev1' }, { loc: { line: 'L1', cell: 3 } }, undefined, { by: 'ui:alice' })
    // The cloud, meanwhile: the same leaf (max) differently, another leaf (unit), and tags.
    await cloudReg.updateTwin('dev1', { tags: { loc: { line: 'L2' } }, properties: { desired: { cfg: { limits: { max: 12 }, unit: 'F' } } } } as never, '*')
    const cloudAfterEdit = await cloudTwin()
    await restore()

    const dc = await waitFor('desired conflict', () => edge.running.hub.sync.conflicts().find((c) => c.id === 'dev1|desired'), 20_000)
    const tc = await waitFor('tags conflict', () => edge.running.hub.sync.conflicts().find((c) => c.id === 'dev1|tags'), 20_000)
    expect(dc).toMatchObject({ kind: 'desired', fields: ['cfg.limits.max'], base: { cfg: { limits: { max: 10 } } }, local: { cfg: { limits: { max: 11 } } }, cloud: { cfg: { limits: { max: 12 } } }, autoResolveAt: null, autoResolution: null })
    expect(dc.details).toHaveLength(1)
    const d = dc.details[0]!
    expect(d).toMatchObject({ path: 'cfg.limits.max', base: 10, local: 11, cloud: 12, localChangedBy: 'rest:iothubowner', cloudChangedBy: 'cloud' })
    expect(Date.parse(d.localChangedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(offlineAt))
    // the cloud's own $metadata for that leaf
    expect(d.cloudChangedAt).toBe(cloudAfterEdit.properties.desired.$metadata.cfg.limits.max.$lastUpdated)
    expect(tc).toMatchObject({ kind: 'tags', fields: ['loc.line'], base: { loc: { line: 'L0' } }, local: { loc: { line: 'L1' } }, cloud: { loc: { line: 'L2' } } })
    expect(tc.details[0]).toMatchObject({ path: 'loc.line', localChangedBy: 'ui:alice', cloudChangedBy: 'cloud', cloudChangedAt: null })
    expect(Date.parse(tc.details[0]!.localChangedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(offlineAt))

    // Everything else merged both ways, leaf by leaf.
    await waitFor('min and cell upstream', async () => { const t = await cloudTwin(); return t.properties.desired.cfg.limits.min === 2 && t.tags.loc.cell === 3 })
    const ct = await cloudTwin()
    expect(ct.properties.desired.cfg).toMatchObject({ mode: 'a', unit: 'F', limits: { max: 12, min: 2 } })
    expect(ct.tags.loc).toEqual({ line: 'L2', cell: 3 })
    expect(edgeTwin().properties.desired.cfg).toMatchObject({ mode: 'a', unit: 'F', limits: { max: 11, min: 2 } })
    expect(edgeTwin().tags.loc).toEqual({ line: 'L1', cell: 3 })
    await waitFor('the device got unit=F', () => desiredSeen.some((p) => (p['cfg'] as { unit?: string } | undefined)?.unit === 'F'))
    expect(edge.running.hub.sync.devices().find((x) => x.deviceId === 'dev1')?.state).toBe('conflict')
  })

  it('decisions field by field: a hand-written value over REST, the cloud\'s value through the hub API; both recorded with who decided', async () => {
    cleared = []
    // Validation first: unknown id, a path that is not conflicting, an incomplete decision.
    const missing = await rest(edge, ca, 'POST', `/sync/conflicts/${encodeURIComponent('nope|desired')}/resolve`, { resolution: 'cloud' })
    expect(missing.status).toBe(404)
    expect(missing.headers['iothub-errorcode']).toBe('SyncConflictNotFound')
    const wrongPath = await rest(edge, ca, 'POST', `/sync/conflicts/${encodeURIComponent('dev1|desired')}/resolve`, { resolution: { fields: { 'cfg.unit': 'local' } } })
    expect(wrongPath.status).toBe(400)
    expect(wrongPath.body.message).toMatch(/not a conflicting field/)
    const noBody = await rest(edge, ca, 'POST', `/sync/conflicts/${encodeURIComponent('dev1|desired')}/resolve`, { keep: 'cloud' })
    expect(noBody.status).toBe(400)
    const badValue = await rest(edge, ca, 'POST', `/sync/conflicts/${encodeURIComponent('dev1|desired')}/resolve`, { resolution: { fields: { 'cfg.limits.max': { value: { 'a.b': 1 } } } } })
    expect(badValue.status).toBe(400)
    expect(badValue.body.message).toMatch(/contains '\.'/)
    expect(edge.running.hub.sync.conflicts()).toHaveLength(2) // nothing decided by the bad calls

    const r = await rest(edge, ca, 'POST', `/sync/conflicts/${encodeURIComponent('dev1|desired')}/resolve`, { resolution: { fields: { 'cfg.limits.max': { value: 15 } } }, actor: 'anna' })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ by: 'rest:iothubowner:anna', applied: { 'cfg.limits.max': 15 } })
    expect((await cloudTwin()).properties.desired.cfg.limits).toEqual({ max: 15, min: 2 })
    expect(edgeTwin().properties.desired.cfg.limits).toEqual({ max: 15, min: 2 })
    await waitFor('the device got max=15', () => desiredSeen.some((p) => (p['cfg'] as { limits?: { max?: number } } | undefined)?.limits?.max === 15))

    const rec = await edge.running.hub.sync.resolveConflict('dev1|tags', { fields: { 'loc.line': 'cloud' } }, 'ui:bob')
    expect(rec).toMatchObject({ by: 'ui:bob', applied: { 'loc.line': 'L2' } })
    expect(edgeTwin().tags.loc).toEqual({ line: 'L2', cell: 3 })
    expect((await cloudTwin()).tags.loc).toEqual({ line: 'L2', cell: 3 })

    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)
    expect(edge.running.hub.sync.conflicts()).toEqual([])
    expect(cleared.map((e) => [e.id, e.outcome, e.resolution?.by])).toEqual([['dev1|desired', 'resolved', 'rest:iothubowner:anna'], ['dev1|tags', 'resolved', 'ui:bob']])
    const log = edge.running.hub.sync.resolvedConflicts()
    expect(log.slice(0, 2).map((c) => [c.id, c.outcome, c.resolution?.by])).toEqual([['dev1|tags', 'resolved', 'ui:bob'], ['dev1|desired', 'resolved', 'rest:iothubowner:anna']])
    expect(log[1]?.details[0]).toMatchObject({ path: 'cfg.limits.max', local: 11, cloud: 12 }) // what was overwritten stays on record
    // Agreed now: a resync changes nothing and raises nothing.
    expect(edge.running.hub.sync.devices().find((x) => x.deviceId === 'dev1')?.state).toBe('inSync')
  })

  it('the default policy decides when nobody does (by "policy"), set over PUT /sync/settings', async () => {
    const put = await rest(edge, ca, 'PUT', '/sync/settings', { conflictPolicy: { mode: 'local-wins', afterMinutes: 0.05 } })
    expect(put.status).toBe(200)
    expect(put.body.conflictPolicy).toEqual({ mode: 'local-wins', afterMinutes: 0.05 })
    cleared = []
    await cut()
    await edge.running.hub.twins.patchDesired({ deviceId: 'dev1' }, { speed: 'edge' }, undefined, { by: 'ui:carol' })
    await cloudReg.updateTwin('dev1', { properties: { desired: { speed: 'cloud' } } } as never, '*')
    await restore()
    const c = await waitFor('speed conflict', () => edge.running.hub.sync.conflicts().find((x) => x.id === 'dev1|desired') ?? cleared.find((e) => e.id === 'dev1|desired'), 20_000)
    if ('fields' in c) {
      expect(c.autoResolution).toBe('local')
      expect(Date.parse(c.autoResolveAt ?? '')).toBe(Date.parse(c.detectedAt) + 3000)
      expect(c.details[0]).toMatchObject({ path: 'speed', local: 'edge', cloud: 'cloud', localChangedBy: 'ui:carol' })
    }
    const ev = await waitFor('policy decision', () => cleared.find((e) => e.id === 'dev1|desired'), 30_000)
    expect(ev).toMatchObject({ outcome: 'resolved', resolution: { by: 'policy', resolution: 'local', applied: { speed: 'edge' } } })
    expect((await cloudTwin()).properties.desired.speed).toBe('edge')
    expect(edge.running.hub.sync.resolvedConflicts()[0]).toMatchObject({ id: 'dev1|desired', outcome: 'resolved', resolution: { by: 'policy' } })
  })

  it('a policy decision that fell due while the link was down is applied after an edge restart', async () => {
    await edge.running.hub.sync.updateSettings({ conflictPolicy: { mode: 'manual', afterMinutes: 0 } })
    await cut()
    await edge.running.hub.twins.patchDesired({ deviceId: 'dev1' }, { speed: 'edge2' }, undefined, { by: 'ui:dave' })
    await cloudReg.updateTwin('dev1', { properties: { desired: { speed: 'cloud2' } } } as never, '*')
    await restore()
    await waitFor('speed conflict again', () => edge.running.hub.sync.conflicts().find((x) => x.id === 'dev1|desired'), 20_000)
    await cut()
    // Due at once, but the link is down: nothing can be decided yet, and the hub restarts.
    await edge.running.hub.sync.updateSettings({ conflictPolicy: { mode: 'cloud-wins', afterMinutes: 0 } })
    expect(edge.running.hub.sync.conflicts().find((x) => x.id === 'dev1|desired')?.autoResolution).toBe('cloud')
    await edge.restart()
    expect(edge.running.hub.sync.conflictPolicy()).toEqual({ mode: 'cloud-wins', afterMinutes: 0 })
    expect(edge.running.hub.sync.conflicts().find((x) => x.id === 'dev1|desired')).toMatchObject({ autoResolution: 'cloud', details: [{ path: 'speed', localChangedBy: 'ui:dave' }] })
    cleared = []
    watchCleared()
    proxy.resume()
    const ev = await waitFor('policy decision after restart', () => cleared.find((e) => e.id === 'dev1|desired'), 30_000)
    expect(ev.resolution).toMatchObject({ by: 'policy', resolution: 'cloud', applied: { speed: 'cloud2' } })
    await waitFor('speed=cloud2 at the edge', () => edgeTwin().properties.desired.speed === 'cloud2')
    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)
    expect(edge.running.hub.sync.conflicts()).toEqual([])
  })

  it('REST sync routes: status, devices, conflicts, settings without the secret; SAS required; rights checked', async () => {
    const status = await rest(edge, ca, 'GET', '/sync/status')
    expect(status.status).toBe(200)
    expect(status.body).toMatchObject({ configured: true, state: 'online', edgeDeviceId: 'site-c', conflicts: 0 })
    expect(status.body.telemetry).toHaveProperty('droppedPerDevice')
    const devices = await rest(edge, ca, 'GET', '/sync/devices?state=inSync')
    expect(devices.status).toBe(200)
    expect(devices.body.map((d: { deviceId: string }) => d.deviceId)).toContain('dev1')
    expect((await rest(edge, ca, 'GET', '/sync/devices?state=conflict')).body).toEqual([])
    expect((await rest(edge, ca, 'GET', '/sync/conflicts')).body).toEqual([])
    const resolved = await rest(edge, ca, 'GET', '/sync/conflicts/resolved')
    expect(resolved.body.length).toBeGreaterThanOrEqual(4)

    const settings = await rest(edge, ca, 'GET', '/sync/settings')
    expect(settings.status).toBe(200)
    expect(settings.body).toMatchObject({ configured: true, upstreamHost: proxy.ip, keyName: 'iothubowner', edgeDeviceId: 'site-c', conflictPolicy: { mode: 'cloud-wins', afterMinutes: 0 } })
    expect(settings.body.ca).toContain('BEGIN CERTIFICATE')
    expect(settings.body).not.toHaveProperty('connectionString')
    const secret = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string
    expect(JSON.stringify(settings.body)).not.toContain(secret)
    expect(JSON.stringify(status.body)).not.toContain(secret)

    expect((await rest(edge, ca, 'GET', '/sync/status', undefined, { auth: null })).status).toBe(401)
    expect((await rest(edge, ca, 'PUT', '/sync/settings', { conflictPolicy: { mode: 'manual', afterMinutes: 0 } }, { policy: 'registryRead' })).status).toBe(401)
    const bad = await rest(edge, ca, 'PUT', '/sync/settings', { conflictPolicy: { mode: 'sometimes', afterMinutes: 5 } })
    expect(bad.status).toBe(400)
    expect(bad.headers['iothub-errorcode']).toBe('ArgumentInvalid')
    expect((await rest(edge, ca, 'PUT', '/sync/settings', { password: 'x' })).status).toBe(400)
    expect((await rest(edge, ca, 'PUT', '/sync/settings', { connectionString: 'nonsense' })).status).toBe(400)
    expect(edge.running.hub.sync.status().state).toBe('online') // a rejected setting changes nothing
    const ok = await rest(edge, ca, 'PUT', '/sync/settings', { conflictPolicy: { mode: 'manual', afterMinutes: 0 } })
    expect(ok.body.conflictPolicy).toEqual({ mode: 'manual', afterMinutes: 0 })
    expect(edge.running.hub.sync.conflictPolicy()).toEqual({ mode: 'manual', afterMinutes: 0 })
  })

  it('the cloud keeps received telemetry readable from a cursor: every message sent offline exactly once, with its properties and origin', async () => {
    await cut()
    for (let i = 0; i < 30; i++) await device.sendEvent(message(JSON.stringify({ i }), { batch: 'offline-read', n: String(i) }))
    await restore()
    expect(await edge.running.hub.sync.waitIdle(30_000)).toBe(true)
    const seen: any[] = []
    let from = 0
    let pages = 0
    let last: any
    for (;;) {
      last = await rest(cloud, ca, 'GET', `/devices/dev1/messages?fromSeq=${from}&limit=7`)
      expect(last.status).toBe(200)
      pages++
      if (last.body.messages.length === 0) { expect(last.body.nextSeq).toBe(from); break }
      seen.push(...last.body.messages)
      from = last.body.nextSeq
    }
    expect(pages).toBeGreaterThan(4)
    const offline = seen.filter((m) => m.properties.batch === 'offline-read')
    expect(offline).toHaveLength(30)
    expect(offline.map((m) => JSON.parse(m.bodyText).i).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    expect(new Set(offline.map((m) => m.origin)).size).toBe(30)
    for (const m of offline) {
      expect(m.origin).toMatch(/^site-c:\d+$/)
      expect(m.properties.n).toBe(String(JSON.parse(m.bodyText).i))
      expect(Buffer.from(m.body, 'base64').toString()).toBe(m.bodyText)
      expect(m.deviceId).toBe('dev1')
    }
    // seqs strictly increasing, totals consistent with the cloud's own log
    expect(seen.every((m, i) => i === 0 || m.seq > seen[i - 1].seq)).toBe(true)
    const all = (await cloud.running.hub.telemetry.read(0, 1_000_000)).filter((m) => m.deviceId === 'dev1')
    expect(last.body.stored).toBe(all.length)
    expect(seen).toHaveLength(all.length)
    expect(last.body.dropped).toBe(0)

    const nope = await rest(cloud, ca, 'GET', '/devices/ghost/messages')
    expect(nope.status).toBe(404)
    expect((await rest(cloud, ca, 'GET', '/devices/dev1/messages?limit=5000')).status).toBe(400)
    expect((await rest(cloud, ca, 'GET', '/devices/dev1/messages?fromSeq=-1')).status).toBe(400)
    expect((await rest(cloud, ca, 'GET', '/devices/dev1/messages', undefined, { auth: null })).status).toBe(401)
  })

  it('X.509 devices: identity and thumbprints mirrored; their telemetry is counted as not forwarded and never blocks the sync', async () => {
    const tp = 'AB'.repeat(20)
    await edge.running.hub.registry.create({ deviceId: 'x509dev', authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: tp, secondaryThumbprint: null } } })
    const up = await waitFor('x509dev upstream', async () => (await cloudReg.get('x509dev').catch(() => null))?.responseBody, 20_000)
    expect((up.authentication as { type?: string } | undefined)?.type).toBe('selfSigned')
    expect(up.authentication?.x509Thumbprint?.primaryThumbprint).toBe(tp)
    const before = edge.running.hub.sync.status().telemetry
    const msg = (deviceId: string, moduleId?: string) => ({ deviceId, ...(moduleId === undefined ? {} : { moduleId }), systemProperties: {}, properties: { kind: 'nf' }, body: Buffer.from('{}'), enqueuedTime: new Date().toISOString(), transport: 'api' as const })
    for (let i = 0; i < 3; i++) await edge.running.hub.telemetry.accept(msg('x509dev'))
    await edge.running.hub.twins.patchReported({ deviceId: 'x509dev' }, { fw: '2' })
    await waitFor('not forwarded counted', () => edge.running.hub.sync.status().telemetry.notForwarded - before.notForwarded === 3, 20_000)
    expect(await edge.running.hub.sync.waitIdle(20_000)).toBe(true)
    const st = edge.running.hub.sync.status()
    expect(st.telemetry.notForwardedPerDevice['x509dev']).toBe(3)
    expect(st.telemetry.pending).toBe(0)
    expect(st.state).toBe('online')
    expect(edge.running.hub.sync.devices().find((d) => d.deviceId === 'x509dev')).toMatchObject({ state: 'inSync', identityOnly: true })
    expect((await cloud.running.hub.telemetry.read(0, 1_000_000)).filter((m) => m.properties['kind'] === 'nf')).toEqual([])
    // a thumbprint rotated at the edge goes up (one-sided change against the base)
    const tp2 = 'CD'.repeat(20)
    await edge.running.hub.registry.update({ deviceId: 'x509dev', authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: tp2, secondaryThumbprint: null } } })
    await waitFor('new thumbprint upstream', async () => (await cloudReg.get('x509dev')).responseBody.authentication?.x509Thumbprint?.primaryThumbprint === tp2, 20_000)
    expect(edge.running.hub.sync.conflicts()).toEqual([])
  })
})
