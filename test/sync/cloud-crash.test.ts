// kill -9 of the CLOUD (a `sitehub serve --role cloud` child) while the edge drains a backlog
// into it: nothing the cloud acknowledged is lost, nothing is stored twice (the dedupe window
// is rebuilt from the cloud's durable log when it restarts).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHub } from '../../src/main/hub/index.js'
import { CleanupStack, runCli } from '../helpers/hub.js'
import { message, openClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, killed, serve, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

describe('cloud killed with SIGKILL mid-sync', () => {
  const stack = new CleanupStack()
  let edge: TestHub
  let proxy: Proxy
  const cloudIp = randomLoopbackIp()
  const proxyIp = randomLoopbackIp()
  const cloudDir = mkdtempSync(join(tmpdir(), 'sitehub-sync-cloudcrash-'))
  const cloudArgs = ['--role', 'cloud', '--data-dir', cloudDir, '--bind', cloudIp, '--host-name', proxyIp, '--log-level', 'warn']
  beforeAll(async () => {
    stack.defer(() => rmSync(cloudDir, { recursive: true, force: true }))
    const caDir = process.env['SITEHUB_TEST_CA_DIR'] as string
    mkdirSync(join(cloudDir, 'tls'), { recursive: true })
    for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(caDir, 'tls', f), join(cloudDir, 'tls', f))
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
    edge = await startTestHub({ role: 'edge', sync: FAST_SYNC })
    stack.defer(() => edge.close())
  })
  afterAll(async () => { await stack.run() })

  it('nothing acknowledged is lost, nothing is stored twice', async () => {
    const ca = testCa()
    let cloud = await serve(cloudArgs)
    stack.defer(async () => { await killed(cloud) })
    const cs = (await runCli(['connection-string', '--data-dir', cloudDir])).stdout.trim()
    expect(cs).toMatch(/^HostName=/)
    await edge.running.hub.registry.create({ deviceId: 'c1' })
    await edge.running.hub.sync.configure({ connectionString: cs, ca })
    await waitFor('c1 mirrored', () => edge.running.hub.sync.devices().find((d) => d.deviceId === 'c1' && d.state === 'inSync'), 20_000)
    const device = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: 'c1' }), { ca, defer: stack.defer })

    proxy.pause()
    const N = 800
    for (let i = 0; i < N; i++) await device.sendEvent(message(`b ${i}`))
    proxy.resume()
    await waitFor('drain started', () => edge.running.hub.sync.status().telemetry.sent > 0, 30_000, 5)
    await killed(cloud)
    const sentAtKill = edge.running.hub.sync.status().telemetry.sent
    expect(sentAtKill).toBeLessThan(N)
    cloud = await serve(cloudArgs)
    for (let i = 0; i < 20; i++) await device.sendEvent(message(`after ${i}`))
    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 20_000)
    expect(await edge.running.hub.sync.waitIdle(45_000)).toBe(true)
    expect(edge.running.hub.sync.status().telemetry.sent).toBe(N + 20)

    // Stop the cloud and read what it stored.
    await killed(cloud)
    const hub = await createHub({ config: { dataDir: cloudDir, hostName: proxyIp, bind: cloudIp, mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'cloud' } })
    try {
      const mine = (await hub.telemetry.read(0, 1_000_000)).filter((m) => m.deviceId === 'c1')
      expect(mine.length).toBe(N + 20)
      expect(new Set(mine.map((m) => String(m.properties['sitehub-origin']))).size).toBe(N + 20)
    } finally {
      await hub.close()
    }
  })
})
