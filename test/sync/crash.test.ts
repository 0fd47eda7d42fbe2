// kill -9 of the edge (the real CLI, `sitehub serve --upstream ... --upstream-ca ...`) while it
// drains a telemetry backlog to the cloud: after a restart every message is upstream exactly once.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack, connectionStringIn, runCli } from '../helpers/hub.js'
import { message, openClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { killed, serve, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

describe('edge killed with SIGKILL mid-sync', () => {
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

  it('nothing acknowledged is lost, nothing is applied twice', async () => {
    const ca = testCa()
    const dir = mkdtempSync(join(tmpdir(), 'sitehub-sync-crash-'))
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
    const added = await runCli(['device', 'add', 'k1', '--data-dir', dir])
    const cs = connectionStringIn(added.stdout)
    if (cs === undefined) throw new Error(`device add printed no connection string: ${added.stdout} ${added.stderr}`)
    await waitFor('k1 upstream', () => cloud.running.hub.registry.get({ deviceId: 'k1' }), 30_000)

    const count = async (): Promise<{ total: number; unique: number }> => {
      const mine = (await cloud.running.hub.telemetry.read(0, 1_000_000)).filter((m) => m.deviceId === 'k1')
      return { total: mine.length, unique: new Set(mine.map((m) => String(m.properties['sitehub-origin']))).size }
    }
    const device = await openClient(cs, { ca, defer: stack.defer })
    for (let i = 0; i < 5; i++) await device.sendEvent(message(`live ${i}`))
    await waitFor('5 upstream', async () => (await count()).total === 5, 30_000)

    proxy.pause()
    const N = 600
    for (let i = 0; i < N; i++) await device.sendEvent(message(`backlog ${i}`))
    proxy.resume()
    await waitFor('drain started', async () => (await count()).total > 5, 30_000, 5)
    proxy.pause() // messages in flight, some maybe stored upstream without their PUBACK reaching the edge
    await killed(edge)
    const atKill = await count()
    expect(atKill.total).toBeLessThan(N + 5)

    edge = await serve(base) // the upstream is remembered in the store
    proxy.resume()
    await waitFor('all upstream', async () => (await count()).total >= N + 5, 45_000)
    await new Promise((r) => setTimeout(r, 2500)) // a late duplicate would show up here
    expect(await count()).toEqual({ total: N + 5, unique: N + 5 })
  })
})
