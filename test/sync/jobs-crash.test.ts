// kill -9 of the edge (the real CLI, `sitehub serve --upstream ...`) while it holds a cloud job
// it took over: once right after the claim, once in the middle of the run. No device runs twice,
// and every device's outcome eventually reaches the cloud.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseServiceConnectionString } from '../../src/main/hub/sync/connection-string.js'
import { createUpstreamClient } from '../../src/main/hub/sync/upstream-client.js'
import { CleanupStack, connectionStringIn, runCli } from '../helpers/hub.js'
import { openClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { killed, serve, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

const IDS = ['kj1', 'kj2', 'kj3', 'kj4']

describe('edge killed with SIGKILL while it runs a cloud job', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let proxy: Proxy
  afterAll(async () => { await stack.run() })
  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
  })

  it('after the claim and mid-run: no device runs twice, every outcome arrives upstream', async () => {
    const ca = testCa()
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-jobs-crash-'))
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
    const cs = new Map<string, string>()
    for (const id of IDS) {
      const added = await runCli(['device', 'add', id, '--data-dir', dir])
      const c = connectionStringIn(added.stdout)
      if (c === undefined) throw new Error(`device add printed no connection string: ${added.stdout} ${added.stderr}`)
      cs.set(id, c)
    }
    const edgeId = `sitehub-edge-${ip}`
    await waitFor('devices upstream', () => IDS.every((id) => cloud.running.hub.registry.get({ deviceId: id })?.deviceScope), 45_000)
    await waitFor('edge delegating', () => cloud.running.hub.delegation.edges().some((e) => e.edgeId === edgeId), 45_000)

    // One device every 3 s at the site, so a kill lands in the middle of the run.
    const rest = createUpstreamClient({ cs: parseServiceConnectionString(`HostName=${cloud.ip};SharedAccessKeyName=iothubowner;SharedAccessKey=${cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string}`), ca })
    stack.defer(() => rest.close())
    await rest.request('PUT', '/jobs/v2/crash1', {
      type: 'scheduleDeviceMethod', queryCondition: `deviceId IN [${IDS.map((id) => `'${id}'`).join(', ')}]`,
      cloudToDeviceMethod: { methodName: 'reboot', payload: { why: 'crash1' }, responseTimeoutInSeconds: 10 }, devicesPerMinute: 20, maxExecutionTimeInSeconds: 900
    })
    await waitFor('claimed by the edge', () => cloud.running.hub.jobs.deviceJobs('crash1').filter((d) => d.delegatedTo === edgeId).length === IDS.length, 45_000)
    await killed(edge) // right after the claim (the local job may or may not exist yet)
    edge = await serve(base)

    const calls = new Map<string, number>()
    // The devices at the site, counting every call they receive (across their reconnects).
    const startDevices = async (): Promise<Array<{ close(): Promise<unknown> }>> => {
      const out = []
      for (const id of IDS) {
        const c = await openClient(cs.get(id) as string, { ca, defer: stack.defer, noOpen: true })
        c.onDeviceMethod('reboot', (_req, res) => { calls.set(id, (calls.get(id) ?? 0) + 1); void res.send(200, { rebooted: id }) })
        await c.open()
        out.push(c)
      }
      return out
    }
    let clients = await startDevices()
    const called = (): number => [...calls.values()].filter((n) => n > 0).length
    await waitFor('first device run', () => called() >= 1, 45_000, 20)
    await killed(edge) // mid-run: some devices done, maybe one in flight, others not started
    const atKill = called()
    edge = await serve(base)
    // The devices come back as a restarted site's devices do (not left to the SDK's growing retry back-off).
    await Promise.all(clients.map((c) => Promise.race([c.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))])))
    clients = await startDevices()

    const job = await waitFor('every outcome upstream', () => { const j = cloud.running.hub.jobs.get('crash1'); return j.status === 'completed' ? j : undefined }, 120_000, 250).catch((err: Error) => {
      console.log(JSON.stringify(cloud.running.hub.jobs.deviceJobs('crash1')), JSON.stringify([...calls]), atKill)
      throw err
    })
    expect(job.deviceJobStatistics).toMatchObject({ deviceCount: IDS.length, pendingCount: 0, runningCount: 0 })
    expect(atKill).toBeLessThan(IDS.length)
    const recs = cloud.running.hub.jobs.deviceJobs('crash1')
    for (const id of IDS) {
      const r = recs.find((x) => x.deviceId === id)
      expect(calls.get(id) ?? 0).toBeLessThanOrEqual(1) // never twice
      expect(r?.reportedByEdgeAt).toBeDefined()
      if (r?.status === 'completed') expect(calls.get(id)).toBe(1)
      else expect(r).toMatchObject({ status: 'failed', error: { code: 'HubRestarted' } }) // was in flight at the kill: not run again
    }
    // Devices not reached before the kill ran after the restart.
    expect(recs.filter((r) => r.status === 'completed').length).toBeGreaterThanOrEqual(IDS.length - 1)
  }, 300_000)
})
