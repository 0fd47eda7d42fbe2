// The main offline guarantees under a flapping link (flap.test.ts covers telemetry, reported and
// desired; this one the rest of the work): the proxy black-holes the link for 1-3 s every
// 1.5-4 s (seeded: SYNC_FLAP_SEED; length SYNC_FLAP_WORK_MS, default 90 s) while
// - six devices on azure-iot-device-mqtt at the edge answer `reboot`, three of them send telemetry;
// - the cloud (azure-iothub JobClient, and the REST job API for the rate the SDK cannot send)
//   authors two method jobs for the site's devices, one paced at 6 devices a minute so that it
//   runs across many cuts, and queues commands (POST /twins/{id}/commands) every few seconds;
// - the site provisions devices and a technician edits tags.
// Once the link is stable: both jobs complete upstream with every device succeeded and each
// device's handler called exactly once per job; every queued command succeeded upstream,
// delivered once; every device provisioned at the site exists upstream with its keys as a child
// of the edge; the last tag edit is upstream; telemetry exactly once; no conflict.
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseServiceConnectionString } from '../../src/main/hub/sync/connection-string.js'
import { createUpstreamClient, type UpstreamClient } from '../../src/main/hub/sync/upstream-client.js'
import type { CommandRecord } from '../../src/main/hub/commands/types.js'
import { CleanupStack } from '../helpers/hub.js'
import { message, openClient, type DeviceClient } from '../helpers/sdk.js'
import { FAST_SYNC, startCloudBehindProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

const FLAP_MS = Number(process.env['SYNC_FLAP_WORK_MS'] ?? 90_000)
const SEED = Number(process.env['SYNC_FLAP_SEED'] ?? 11)
const EDGE = 'site-flap'
const DEVICES = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6']
const SENDERS = ['w1', 'w2', 'w3']
const { JobClient, Registry } = iothub
interface JobView { jobId: string; status: string; deviceJobStatistics: Record<string, number> }

/** mulberry32 (as flap.test.ts): a reproducible flap schedule. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('a flapping link while jobs, queued commands, provisioning and edits run', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  let rest: UpstreamClient // the cloud's REST, directly (never through the proxy)
  let jobs: InstanceType<typeof JobClient>
  let reg: InstanceType<typeof Registry>
  const ca = testCa()
  /** Every `reboot` a device answered, by device: the payload's `why`. */
  const calls = new Map<string, string[]>()
  const clients = new Map<string, DeviceClient>()

  beforeAll(async () => {
    const up = await startCloudBehindProxy(stack.defer)
    cloud = up.cloud
    proxy = up.proxy
    const cloudCs = up.cloudCs
    jobs = JobClient.fromConnectionString(cloudCs)
    reg = Registry.fromConnectionString(cloudCs)
    rest = createUpstreamClient({ cs: parseServiceConnectionString(cloudCs), ca, requestTimeoutMs: 20_000 })
    stack.defer(() => rest.close())
    edge = await startTestHub({ role: 'edge', sync: { ...FAST_SYNC, delegationPollMs: 500 } })
    stack.defer(() => edge.close())
    for (const deviceId of DEVICES) {
      await edge.running.hub.registry.create({ deviceId })
      await edge.running.hub.twins.patchTags({ deviceId }, { line: 'flap' })
    }
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: EDGE })
    await waitFor('edge delegating', () => cloud.running.hub.delegation.edges().some((e) => e.edgeId === EDGE), 30_000)
    for (const id of DEVICES) await waitFor(`${id} tags upstream`, async () => (await reg.getTwin(id).catch(() => null))?.responseBody.tags?.['line'] === 'flap', 30_000)
    for (const deviceId of DEVICES) {
      const c = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId }), { ca, defer: stack.defer, noOpen: true })
      c.onDeviceMethod('reboot', (req, res) => {
        calls.set(deviceId, [...(calls.get(deviceId) ?? []), String((req.payload as { why?: unknown } | null)?.why)])
        void res.send(200, { rebooted: deviceId, why: (req.payload as { why?: unknown } | null)?.why ?? null })
      })
      await c.open()
      await edge.running.hub.connections.waitFor({ deviceId }, 'methods', 15_000)
      clients.set(deviceId, c)
    }
  }, 180_000)
  afterAll(async () => { await stack.run() })

  it(`jobs, commands, provisioning and tag edits converge exactly (flapping ${FLAP_MS / 1000} s, seed ${SEED})`, async () => {
    const rnd = prng(SEED)
    const end = Date.now() + FLAP_MS
    let running = true
    const flaps = (async () => {
      let n = 0
      while (running) {
        await sleep(1500 + rnd() * 2500)
        if (!running) break
        proxy.pause()
        await sleep(1000 + rnd() * 2000)
        proxy.resume()
        n++
      }
      return n
    })()

    // A paced method job (one device every 10 s: it runs across many cuts), authored at the cloud.
    await rest.request('PUT', '/jobs/v2/fj1', {
      type: 'scheduleDeviceMethod', queryCondition: "tags.line = 'flap'", cloudToDeviceMethod: { methodName: 'reboot', payload: { why: 'fj1' }, responseTimeoutInSeconds: 20 },
      devicesPerMinute: 6, maxExecutionTimeInSeconds: 1800
    })
    // Telemetry from three devices.
    const sent = new Map<string, number>(SENDERS.map((id) => [id, 0]))
    const telemetry = SENDERS.map(async (id) => {
      const c = clients.get(id) as DeviceClient
      for (let i = 0; Date.now() < end; i++) {
        await c.sendEvent(message(`${id} ${i}`))
        sent.set(id, (sent.get(id) ?? 0) + 1)
        await sleep(40)
      }
    })
    // Queued commands at the cloud, a device provisioned and a tag edited at the site, and a
    // second job (JobClient) halfway through.
    const commandIds: string[] = []
    const provisioned: string[] = []
    let lastStep = -1
    let fj2 = false
    const work = (async () => {
      for (let k = 0; Date.now() < end; k++) {
        const target = DEVICES[k % DEVICES.length] as string
        const cmd = await rest.request<CommandRecord>('POST', `/twins/${target}/commands`, { methodName: 'reboot', payload: { why: `cmd${k}` }, ttlInSeconds: 3600 })
        commandIds.push(cmd.commandId)
        if (k % 2 === 0) {
          const id = `prov${k}`
          await edge.running.hub.registry.create({ deviceId: id })
          provisioned.push(id)
        }
        await edge.running.hub.twins.patchTags({ deviceId: 'w1' }, { step: k }, undefined, { by: 'ui:tech' })
        lastStep = k
        if (!fj2 && Date.now() > end - FLAP_MS / 2) {
          await jobs.scheduleDeviceMethod('fj2', "tags.line = 'flap'", { methodName: 'reboot', payload: { why: 'fj2' }, responseTimeoutInSeconds: 20 })
          fj2 = true
        }
        await sleep(4000)
      }
    })()
    await Promise.all([...telemetry, work])
    running = false
    const cuts = await flaps
    expect(cuts).toBeGreaterThan(FLAP_MS / 6000) // flapping all along
    expect(fj2).toBe(true)

    // Stable link: everything converges.
    await waitFor('online', () => edge.running.hub.sync.status().state === 'online', 30_000)
    const getJob = async (jobId: string): Promise<JobView> => (await jobs.getJob(jobId)).jobStatus as unknown as JobView
    for (const jobId of ['fj1', 'fj2']) {
      const done = await waitFor(`${jobId} completed upstream`, async () => { const j = await getJob(jobId); return j.status === 'completed' ? j : undefined }, 120_000, 500)
      expect(done.deviceJobStatistics, jobId).toMatchObject({ deviceCount: 6, succeededCount: 6, failedCount: 0, pendingCount: 0, runningCount: 0 })
      for (const d of cloud.running.hub.jobs.deviceJobs(jobId)) {
        expect(d.delegatedTo, `${jobId} ${d.deviceId}`).toBe(EDGE)
        expect(d.status, `${jobId} ${d.deviceId}`).toBe('completed')
      }
    }
    for (const id of commandIds) {
      const c = await waitFor(`command ${id} succeeded upstream`, async () => { const r = await rest.request<CommandRecord>('GET', `/commands/${id}`); return r.status === 'succeeded' ? r : undefined }, 60_000, 250)
      expect(c.attempts, id).toBe(1)
      expect(c.response, id).toMatchObject({ status: 200, payload: { rebooted: c.deviceId } })
    }
    expect(await edge.running.hub.sync.waitIdle(60_000)).toBe(true)

    // No device ran twice: each job once per device, each command once.
    for (const id of DEVICES) {
      const mine = calls.get(id) ?? []
      expect(mine.filter((w) => w === 'fj1'), id).toHaveLength(1)
      expect(mine.filter((w) => w === 'fj2'), id).toHaveLength(1)
      expect(new Set(mine.filter((w) => w.startsWith('cmd'))).size, id).toBe(mine.filter((w) => w.startsWith('cmd')).length)
    }
    const delivered = [...calls.values()].flat().filter((w) => w.startsWith('cmd'))
    expect(delivered.length).toBe(commandIds.length)

    // Provisioned at the site while flapping: upstream with the same keys, children of the edge.
    const scope = (await reg.get(EDGE)).responseBody as unknown as { deviceScope: string }
    for (const id of provisioned) {
      const up = (await waitFor(`${id} upstream`, async () => (await reg.get(id).catch(() => null))?.responseBody, 30_000)) as unknown as { authentication: { symmetricKey: { primaryKey: string; secondaryKey: string } }; parentScopes: string[] }
      const local = edge.running.hub.registry.mustGet({ deviceId: id })
      expect(up.authentication.symmetricKey, id).toEqual({ primaryKey: local.authentication.symmetricKey.primaryKey, secondaryKey: local.authentication.symmetricKey.secondaryKey })
      expect(up.parentScopes, id).toEqual([scope.deviceScope])
    }
    // The technician's last tag edit is the cloud's.
    await waitFor('last tag edit upstream', async () => ((await reg.getTwin('w1')).responseBody.tags as Record<string, unknown> | undefined)?.['step'] === lastStep, 30_000)

    // Telemetry: every message exactly once.
    const upstream = await cloud.running.hub.telemetry.read(0, 10_000_000)
    for (const id of SENDERS) {
      const mine = upstream.filter((m) => m.deviceId === id)
      expect(mine.length, id).toBe(sent.get(id))
      expect(new Set(mine.map((m) => String(m.properties['sitehub-origin']))).size, id).toBe(sent.get(id))
    }
    expect(edge.running.hub.sync.conflicts()).toEqual([])
    console.log(`flap-work: ${cuts} cuts in ${FLAP_MS / 1000} s; ${commandIds.length} commands, ${provisioned.length} provisioned, telemetry ${SENDERS.map((id) => `${id}=${sent.get(id) ?? 0}`).join(' ')}`)
  }, FLAP_MS + 420_000)
})
