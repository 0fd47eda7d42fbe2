// kill -9 of the EDGE (the real CLI, `sitehub serve --upstream ... --upstream-ca ...`) while it
// syncs twins after an outage: reported changes going up, desired changes made at the cloud
// coming down, and a desired edit made at the site while offline going up. The kill comes at
// the worst moment for exactly-once: the cloud has applied a device's coalesced reported patch
// but its 204 never reached the edge (swallowed by the man in the middle on the cloud's MQTT
// port, test/sync/mqtt-intercept.ts). After a restart: nothing acknowledged is lost (every
// device's last reported value is the cloud's, the cloud's desired edits reach the devices,
// the site's edit reaches the cloud) and nothing is applied twice (the cloud's reported
// $version moved by exactly the one coalesced patch per device, a change reported afterwards
// by exactly one more; no device is notified of the same desired change twice, the site's
// edit is sent up once).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import iothub from 'azure-iothub'
import { request } from 'node:https'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import { CleanupStack, connectionStringIn, runCli } from '../helpers/hub.js'
import { openClient, type DeviceClient, type Twin } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { killed, serve, startTestHub, testCa, waitFor, type TestHub } from './harness.js'
import { startInterceptingProxy, type InterceptingProxy } from './mqtt-intercept.js'

const IDS = ['t1', 't2', 't3', 't4']
const REPORTS = 40 // reported changes per device while offline
const CLOUD_EDITS = 4 // desired edits per device at the cloud while offline

function fetchJson (url: string, ca: string, auth: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { Authorization: auth } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        if (res.statusCode !== 200) { reject(new Error(`${url}: ${String(res.statusCode)} ${text}`)); return }
        resolve(JSON.parse(text))
      })
    })
    req.on('error', reject)
    req.end()
  })
}

interface Dev { id: string; cs: string; client: DeviceClient | null; twin: Twin | null; notified: Array<{ v: number; c?: unknown; local?: unknown }> }

describe('edge killed with SIGKILL mid twin sync', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let proxy: InterceptingProxy
  afterAll(async () => { await stack.run() })
  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startInterceptingProxy(cloudIp, proxyIp)
    stack.defer(() => proxy.close())
  })

  it('nothing acknowledged is lost, nothing is applied twice', async () => {
    const ca = testCa()
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-sync-twincrash-'))
    stack.defer(() => rmSync(dir, { recursive: true, force: true }))
    const caDir = process.env['SITEHUB_TEST_CA_DIR'] as string
    mkdirSync(join(dir, 'tls'), { recursive: true })
    for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(caDir, 'tls', f), join(dir, 'tls', f))
    const caFile = join(dir, 'upstream-ca.pem')
    writeFileSync(caFile, ca)
    const ip = randomLoopbackIp()
    const base = ['--data-dir', dir, '--bind', ip, '--host-name', ip, '--log-level', 'warn']
    let edge = await serve([...base, '--upstream', cloud.running.hub.registry.policies.connectionString('iothubowner'), '--upstream-ca', caFile])
    stack.defer(async () => { await killed(edge) })
    const devs: Dev[] = []
    for (const id of IDS) {
      const added = await runCli(['device', 'add', id, '--data-dir', dir])
      const cs = connectionStringIn(added.stdout)
      if (cs === undefined) throw new Error(`device add printed no connection string: ${added.stdout} ${added.stderr}`)
      devs.push({ id, cs, client: null, twin: null, notified: [] })
    }
    const cloudReg = iothub.Registry.fromConnectionString(`HostName=${cloud.ip};SharedAccessKeyName=iothubowner;SharedAccessKey=${cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey ?? ''}`)
    const edgeCs = (await runCli(['connection-string', '--data-dir', dir])).stdout.trim()
    const edgeReg = iothub.Registry.fromConnectionString(edgeCs)
    const cloudTwin = (id: string): ReturnType<typeof cloud.running.hub.twins.get> => cloud.running.hub.twins.get({ deviceId: id })
    await waitFor('devices upstream', () => IDS.every((id) => cloud.running.hub.registry.get({ deviceId: id }) !== undefined), 30_000)

    // The devices at the edge: every desired notification after the first full document is a change.
    const connect = async (d: Dev): Promise<void> => {
      const client = await openClient(d.cs, { ca, defer: stack.defer })
      const twin = await client.getTwin()
      let first = true
      twin.on('properties.desired', (p: Record<string, unknown>) => {
        if (first) { first = false; return }
        d.notified.push({ v: Number(p['$version']), ...(p['c'] === undefined ? {} : { c: p['c'] }), ...(p['local'] === undefined ? {} : { local: p['local'] }) })
      })
      d.client = client
      d.twin = twin
    }
    for (const d of devs) await connect(d)
    const report = (d: Dev, patch: Record<string, unknown>): Promise<void> => new Promise((resolve, reject) => {
      d.twin?.properties.reported.update(patch, (err?: Error) => { if (err) reject(err); else resolve() })
    })
    for (const d of devs) await report(d, { r: 0 })
    await waitFor('baseline reported upstream', () => devs.every((d) => cloudTwin(d.id).properties.reported['r'] === 0), 30_000)
    // ... and its answers recorded at the edge (GET /sync/devices on the edge's REST API)
    const edgeSyncDevices = async (): Promise<Array<{ deviceId: string; pendingReported: boolean }>> => {
      const m = /HostName=([^;]+);SharedAccessKeyName=([^;]+);SharedAccessKey=([^;]+)/.exec(edgeCs)
      if (m === null) throw new Error(`unexpected connection string ${edgeCs}`)
      const res = await fetchJson(`https://${m[1] as string}/sync/devices?api-version=2021-04-12`, ca, createSasToken({ resource: m[1] as string, key: m[3] as string, keyName: m[2] as string, expiry: Math.floor(Date.now() / 1000) + 600 }))
      return res as Array<{ deviceId: string; pendingReported: boolean }>
    }
    await waitFor('baseline acknowledged at the edge', async () => (await edgeSyncDevices()).filter((d) => IDS.includes(d.deviceId)).every((d) => !d.pendingReported), 30_000)
    const reportedV0 = new Map(devs.map((d) => [d.id, cloudTwin(d.id).properties.reported.$version]))
    const desiredV0 = new Map(devs.map((d) => [d.id, cloudTwin(d.id).properties.desired.$version]))

    // Offline: devices report, the cloud edits desired, the site edits t1's desired locally.
    proxy.pause()
    for (let i = 1; i <= REPORTS; i++) for (const d of devs) await report(d, { r: i, [`k${i % 5}`]: i })
    for (let c = 1; c <= CLOUD_EDITS; c++) for (const d of devs) await cloudReg.updateTwin(d.id, { properties: { desired: { c } } } as never, '*')
    await edgeReg.updateTwin('t1', { properties: { desired: { local: 'site' } } } as never, '*')

    // The link returns with every reported patch's answer (204) lost on the way back; kill -9
    // the edge as soon as the cloud has applied a patch the edge never heard about.
    proxy.dropDown = /^\$iothub\/twin\/res\/204\//
    proxy.resume()
    await waitFor('an applied patch whose answer was lost', () => proxy.dropped.length >= 1, 60_000, 5)
    await killed(edge)
    proxy.dropDown = null
    const lostAnswers = proxy.dropped.length
    const atKill = devs.map((d) => `${String(cloudTwin(d.id).properties.reported['r'])},${String(cloudTwin(d.id).properties.desired['local'] ?? '-')}`)
    for (const d of devs) { d.client?.removeAllListeners(); d.client?.on('error', () => {}); await d.client?.close().catch(() => {}) }

    edge = await serve(base) // the upstream is remembered in the store
    for (const d of devs) await connect(d)
    // Converged: last reported up, the cloud's last desired and the site's edit down/up.
    await waitFor('converged', () => devs.every((d) => cloudTwin(d.id).properties.reported['r'] === REPORTS) && cloudTwin('t1').properties.desired['local'] === 'site', 60_000)
    const edgeTwins = async (): Promise<Array<Record<string, unknown>>> => await Promise.all(devs.map(async (d) => (await edgeReg.getTwin(d.id)).responseBody.properties.desired as Record<string, unknown>))
    await waitFor('desired down at the edge', async () => (await edgeTwins()).every((t) => t['c'] === CLOUD_EDITS), 60_000)
    await new Promise((r) => setTimeout(r, 3000)) // a late resend would show up here

    for (const d of devs) {
      const ct = cloudTwin(d.id)
      for (let k = 0; k < 5; k++) expect(ct.properties.reported[`k${k}`]).toBe(REPORTS - ((REPORTS - k) % 5))
      // exactly the one coalesced patch: applied once, whatever the crash interrupted
      expect(ct.properties.reported.$version - (reportedV0.get(d.id) as number)).toBe(1)
      // the cloud's desired: its own edits, plus the site's edit on t1 sent up exactly once
      expect(ct.properties.desired.$version - (desiredV0.get(d.id) as number)).toBe(CLOUD_EDITS + (d.id === 't1' ? 1 : 0))
      expect(ct.properties.desired['c']).toBe(CLOUD_EDITS)
      // the device: the latest desired reached it; no change notified twice, none went backwards
      const tw = await (d.twin as Twin)
      expect(tw.properties.desired['c']).toBe(CLOUD_EDITS)
      const cs = d.notified.map((n) => n.c).filter((c) => c !== undefined) as number[]
      expect(new Set(cs).size).toBe(cs.length)
      expect([...cs].sort((a, b) => a - b)).toEqual(cs)
      // the site's own edit reached t1 once (when it was made), never again as a new change
      expect(d.notified.filter((n) => n.local !== undefined).length).toBe(d.id === 't1' ? 1 : 0)
    }
    const edgeDesired = await edgeTwins()
    expect(edgeDesired.map((t) => t['c'])).toEqual(devs.map(() => CLOUD_EDITS))
    expect(edgeDesired[0]?.['local']).toBe('site')
    // The edge's own desired $version: baseline, the site's edit, and at most one local apply
    // of the cloud's coalesced edits per pass; stable once converged (nothing re-applied).
    const v1 = edgeDesired.map((t) => t['$version'])
    await new Promise((r) => setTimeout(r, 2000))
    expect((await edgeTwins()).map((t) => t['$version'])).toEqual(v1)

    // A change reported after the recovery goes up after the coalesced patch: exactly one more.
    for (const d of devs) await report(d, { after: 1 })
    await waitFor('later change upstream', () => devs.every((d) => cloudTwin(d.id).properties.reported['after'] === 1), 60_000)
    await new Promise((r) => setTimeout(r, 2000)) // a late resend would show up here
    for (const d of devs) {
      expect(cloudTwin(d.id).properties.reported['r']).toBe(REPORTS)
      expect(cloudTwin(d.id).properties.reported.$version - (reportedV0.get(d.id) as number)).toBe(2)
    }
    console.log(`twin crash (edge): answers lost before the kill ${lostAnswers}; cloud (reported r, desired local) at kill ${atKill.join('/')}; notifications ${devs.map((d) => d.notified.length).join('/')}`)
  }, 240_000)
})
