// kill -9 of the edge (the real CLI) while it applies a technician's conflict decision: the
// decision is persisted on the conflict (`pendingResolution`) before anything is written; the
// link is black-holed right before the decision so the edge is stuck reading the cloud's twin
// when it dies. After the restart the decision is re-applied once the link is back: the chosen
// value on both sides and on the device, the cloud's desired $version moved by exactly one
// (applied once), the record names the person who decided (not the policy), no conflict left.
// Back ends: azure-iothub at the cloud and at the edge; the decision over the edge's REST route.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSasToken } from '../../src/main/hub/registry/sas.js'
import { CleanupStack, connectionStringIn, runCli } from '../helpers/hub.js'
import { openClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { killed, serve, startCloudBehindProxy, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

const { Registry } = iothub

/** A service REST call to the edge CLI hub with a SAS token from its connection string. */
function edgeRest (ip: string, cs: string, ca: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const f = Object.fromEntries(cs.split(';').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]))
  const auth = createSasToken({ resource: f['HostName'] as string, key: f['SharedAccessKey'] as string, keyName: f['SharedAccessKeyName'] as string, expiry: Math.floor(Date.now() / 1000) + 3600 })
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port: 443, ca, method, path: `${path}?api-version=2021-04-12`, headers: { Authorization: auth, ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { const t = Buffer.concat(chunks).toString(); resolve({ status: res.statusCode ?? 0, body: t === '' ? undefined : JSON.parse(t) }) })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

describe('edge killed with SIGKILL while it applies a conflict decision', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let proxy: Proxy
  afterAll(async () => { await stack.run() })
  beforeAll(async () => {
    const up = await startCloudBehindProxy(stack.defer)
    cloud = up.cloud
    proxy = up.proxy
  })

  it('the interrupted decision is re-applied after the restart, once, as decided by the person', async () => {
    const ca = testCa()
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-sync-resolvecrash-'))
    stack.defer(() => rmSync(dir, { recursive: true, force: true }))
    const caDir = process.env['SITEHUB_TEST_CA_DIR'] as string
    mkdirSync(join(dir, 'tls'), { recursive: true })
    for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(caDir, 'tls', f), join(dir, 'tls', f))
    const caFile = join(dir, 'upstream-ca.pem')
    writeFileSync(caFile, ca)
    const ip = randomLoopbackIp()
    const base = ['--data-dir', dir, '--bind', ip, '--host-name', ip, '--log-level', 'warn', '--ui-port', 'off']
    let edge = await serve([...base, '--upstream', cloud.running.hub.registry.policies.connectionString('iothubowner'), '--upstream-ca', caFile])
    stack.defer(async () => { await killed(edge) })
    const added = await runCli(['device', 'add', 'rc1', '--data-dir', dir])
    const deviceCs = connectionStringIn(added.stdout)
    if (deviceCs === undefined) throw new Error(`device add printed no connection string: ${added.stdout} ${added.stderr}`)
    const edgeCs = (await runCli(['connection-string', '--data-dir', dir])).stdout.trim()
    const edgeReg = Registry.fromConnectionString(edgeCs)
    const cloudReg = Registry.fromConnectionString(`HostName=${cloud.ip};SharedAccessKeyName=iothubowner;SharedAccessKey=${cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey ?? ''}`)
    const rest = (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => edgeRest(ip, edgeCs, ca, method, path, body)
    const state = async (): Promise<string> => (await rest('GET', '/sync/status')).body.state as string

    await waitFor('rc1 upstream', () => cloud.running.hub.registry.get({ deviceId: 'rc1' }), 30_000)
    await cloudReg.updateTwin('rc1', { properties: { desired: { mode: 'normal' } } } as never, '*')
    await waitFor('agreed value at the edge', async () => (await edgeReg.getTwin('rc1')).responseBody.properties.desired['mode'] === 'normal', 30_000)

    // Offline, both sides change the same field: a conflict once the link is back.
    proxy.pause()
    await waitFor('edge offline', async () => (await state()) === 'offline', 30_000)
    await edgeReg.updateTwin('rc1', { properties: { desired: { mode: 'eco' } } } as never, '*')
    await cloudReg.updateTwin('rc1', { properties: { desired: { mode: 'turbo' } } } as never, '*')
    proxy.resume()
    const conflict = await waitFor('conflict', async () => ((await rest('GET', '/sync/conflicts')).body as any[]).find((c) => c.id === 'rc1|desired'), 30_000)
    expect(conflict).toMatchObject({ fields: ['mode'], base: { mode: 'normal' }, local: { mode: 'eco' }, cloud: { mode: 'turbo' } })
    await waitFor('edge online', async () => (await state()) === 'online', 30_000)
    const versionBefore = (await cloudReg.getTwin('rc1')).responseBody.properties.desired['$version'] as number

    // Black-hole the link and decide at once (the edge still believes it is online): the
    // decision is persisted, then the edge hangs reading the cloud's twin. Kill it there.
    proxy.pause()
    const decision = rest('POST', '/sync/conflicts/rc1%7Cdesired/resolve', { resolution: 'local', actor: 'shift-lead' }).catch((e: Error) => ({ status: 0, body: e.message }))
    await waitFor('decision persisted', async () => ((await rest('GET', '/sync/conflicts')).body as any[]).find((c) => c.id === 'rc1|desired')?.pendingResolution, 10_000, 20)
    await killed(edge)
    expect((await decision).status).toBe(0) // the edge died before answering
    expect((await cloudReg.getTwin('rc1')).responseBody.properties.desired['mode']).toBe('turbo') // nothing reached the cloud

    // Restart (the upstream is remembered), restore the link: the decision is re-applied.
    edge = await serve(base)
    const device = await openClient(deviceCs, { ca, defer: stack.defer })
    const twin = await device.getTwin()
    proxy.resume()
    await waitFor('conflict gone', async () => ((await rest('GET', '/sync/conflicts')).body as any[]).length === 0, 60_000, 250)
    const cloudTwin = (await cloudReg.getTwin('rc1')).responseBody.properties.desired
    expect(cloudTwin['mode']).toBe('eco')
    expect(cloudTwin['$version']).toBe(versionBefore + 1) // applied once
    expect((await edgeReg.getTwin('rc1')).responseBody.properties.desired['mode']).toBe('eco')
    expect(twin.properties.desired['mode']).toBe('eco')
    const record = ((await rest('GET', '/sync/conflicts/resolved')).body as any[]).find((r) => r.id === 'rc1|desired')
    expect(record).toMatchObject({ outcome: 'resolved', resolution: { resolution: 'local', by: 'rest:iothubowner:shift-lead', applied: { mode: 'eco' } } })
    // Stable: nothing re-applied later, no new conflict.
    await new Promise((r) => setTimeout(r, 3000))
    expect((await cloudReg.getTwin('rc1')).responseBody.properties.desired['$version']).toBe(versionBefore + 1)
    expect((await rest('GET', '/sync/conflicts')).body).toEqual([])
  }, 300_000) // two CLI starts and an outage: slow on a loaded machine
})
