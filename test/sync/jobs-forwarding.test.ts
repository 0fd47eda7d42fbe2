// The Azure IoT Hub mode of cloud jobs: an edge that does not take over jobs (Azure has no
// delegation routes; here the edge is told so with `delegation: false`) leaves them to the
// cloud's own job engine, which drives the site's devices through the edge's method forwarding
// while the link is up. Job authored with azure-iothub's JobClient, device on
// azure-iot-device-mqtt at the edge.
import iothub from 'azure-iothub'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { openClient } from '../helpers/sdk.js'
import { randomLoopbackIp } from '../support/service-hub.js'
import { FAST_SYNC, startProxy, startTestHub, testCa, waitFor, type Proxy, type TestHub } from './harness.js'

const { JobClient } = iothub
interface JobView { status: string; deviceJobStatistics: Record<string, number> }

describe('cloud jobs without delegation: the cloud engine drives the devices through the edge', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  let edge: TestHub
  let proxy: Proxy
  let jobs: InstanceType<typeof JobClient>
  const ca = testCa()

  beforeAll(async () => {
    const cloudIp = randomLoopbackIp()
    const proxyIp = randomLoopbackIp()
    cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
    stack.defer(() => cloud.close())
    proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
    stack.defer(() => proxy.close())
    const key = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey as string
    jobs = JobClient.fromConnectionString(`HostName=${cloudIp};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`)
    edge = await startTestHub({ role: 'edge', sync: { ...FAST_SYNC, delegation: false } })
    stack.defer(() => edge.close())
    await edge.running.hub.registry.create({ deviceId: 'jf1' })
    await edge.running.hub.sync.configure({ connectionString: cloud.running.hub.registry.policies.connectionString('iothubowner'), ca, edgeDeviceId: 'site-f' })
    await waitFor('jf1 upstream', () => cloud.running.hub.registry.get({ deviceId: 'jf1' })?.deviceScope, 30_000)
  })
  afterAll(async () => { await stack.run() })

  it('runs the job at the cloud, the call forwarded to the device at the site', async () => {
    const calls: unknown[] = []
    const c = await openClient(edge.running.hub.registry.deviceConnectionString({ deviceId: 'jf1' }), { ca, defer: stack.defer, noOpen: true })
    c.onDeviceMethod('reboot', (req, res) => { calls.push(req.payload); void res.send(200, { rebooted: 'jf1' }) })
    await c.open()
    await jobs.scheduleDeviceMethod('fw1', "deviceId = 'jf1'", { methodName: 'reboot', payload: { via: 'cloud' }, responseTimeoutInSeconds: 15 })
    const done = await waitFor('fw1 completed', async () => { const j = (await jobs.getJob('fw1')).jobStatus as unknown as JobView; return j.status === 'completed' ? j : undefined }, 40_000)
    expect(done.deviceJobStatistics).toMatchObject({ deviceCount: 1, succeededCount: 1 })
    const rec = cloud.running.hub.jobs.deviceJobs('fw1')[0]
    expect(rec).toMatchObject({ status: 'completed', outcome: { deviceMethodResponse: { status: 200, payload: { rebooted: 'jf1' } } } })
    expect(rec?.delegatedTo).toBeUndefined()
    expect(cloud.running.hub.delegation.edges()).toEqual([])
    expect(edge.running.hub.jobs.query().items).toEqual([]) // nothing ran as a local job
    expect(calls).toEqual([{ via: 'cloud' }])
    expect(edge.running.hub.sync.status().delegation).toBeUndefined()
  })
})
