// Benchmark: a broadcast direct-method job (jobs v2, C.6) over many devices. The hub runs as a
// child process (`sitehub serve`, fsync on); N mqtt.js devices (IoT Hub MQTT dialect, SAS auth,
// plain MQTT listener) connect from this process, subscribe to $iothub/methods/POST/# and answer
// every call with 200. The bench PUTs /jobs/v2/{id} with queryCondition '*' over HTTPS and polls
// GET /jobs/v2/{id} until the job completes. Reported: time from create to completion (the hub's
// own createdTime -> endTime, and wall clock), devices per second, and IoT Hub's job device
// throughput as the reference (10 devices/s on S1, 50/s per S3 unit).
//
//   node bin/run-ts.mjs bench/jobs.ts [--quick] [--devices=10000] [--concurrency=1000] [--keep]
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request } from 'node:https'
import type { MqttClient } from 'mqtt'
import { startHubChild } from './lib/child.js'
import { emit, isMain, log, machine, num, parseArgs, round, sleep, tempDir, type BenchArgs } from './lib/common.js'
import { closeAll, connectDevices, deviceIdsFor } from './lib/load.js'
import { provision } from './lib/provision.js'

interface JobView { status: string; createdTime: string; startTime: string; endTime: string | null; failureReason?: string; deviceJobStatistics: Record<string, number> }

function policySas (host: string, name: string, key: string, ttlSeconds = 3600): string {
  const se = Math.floor(Date.now() / 1000) + ttlSeconds
  const sr = encodeURIComponent(host)
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64')
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${name}`
}

function call (url: string, method: string, path: string, auth: string, ca: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? '' : JSON.stringify(body)
    const u = new URL(path, url)
    const req = request(u, {
      method, ca, servername: 'localhost',
      headers: { Authorization: auth, ...(text === '' ? {} : { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }) }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        try { resolve({ status: res.statusCode ?? 0, body: raw === '' ? null : JSON.parse(raw) }) } catch (err) { reject(err as Error) }
      })
    })
    req.on('error', reject)
    req.end(text)
  })
}

/** Every client answers every method call at once with 200 and a small payload. */
async function answerMethods (clients: readonly MqttClient[]): Promise<{ calls: () => number; dupes: () => number }> {
  let calls = 0
  let dupes = 0
  await Promise.all(clients.map(async (client) => {
    let seen = 0
    client.on('message', (topic) => {
      if (!topic.startsWith('$iothub/methods/POST/')) return
      const rid = /\$rid=([^&]+)/.exec(topic)?.[1]
      calls++
      if (++seen > 1) dupes++
      client.publish(`$iothub/methods/res/200/?$rid=${rid}`, '{"ok":true}', { qos: 0 })
    })
    await client.subscribeAsync('$iothub/methods/POST/#', { qos: 0 })
  }))
  return { calls: () => calls, dupes: () => dupes }
}

export async function runJobs (args: BenchArgs): Promise<Record<string, unknown>> {
  const devices = num(args, 'devices', 10_000, 500)
  const concurrency = num(args, 'concurrency', 1000, 1000)
  const ids = deviceIdsFor('job', devices)
  const tmp = tempDir('jobs')
  log(`jobs: broadcast method job over ${devices} mqtt.js devices (maxConcurrency ${concurrency}), hub child with fsync on`)
  try {
    await provision({ dataDir: tmp.dir, deviceIds: ids })
    // The owner policy's key, read once from the provisioned data dir (the hub child holds the lock afterwards).
    const { createHub } = await import('../src/main/hub/index.js')
    const pre = await createHub({ config: { dataDir: tmp.dir, hostName: 'localhost', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role: 'edge' }, fsync: false })
    const owner = pre.registry.policies.get('iothubowner')
    await pre.close()
    if (owner === undefined) throw new Error('no iothubowner policy')
    const hub = await startHubChild({ dataDir: tmp.dir })
    let clients: MqttClient[] = []
    try {
      const url = hub.ready.mqtt
      if (!url) throw new Error('hub has no plain MQTT listener (--mqtt-port)')
      const ca = readFileSync(hub.ready.caFile, 'utf8')
      const auth = policySas(hub.ready.hostName, 'iothubowner', owner.primaryKey)
      const tc0 = performance.now()
      clients = await connectDevices({ url, hostName: hub.ready.hostName, deviceIds: ids, parallel: 100 })
      const answers = await answerMethods(clients)
      const connectMs = performance.now() - tc0
      log(`${clients.length} devices connected and subscribed in ${Math.round(connectMs)} ms`)
      await sleep(1000) // let the hub record the last subscriptions
      const c0 = await hub.cpuMicros()
      const t0 = performance.now()
      const put = await call(hub.ready.https, 'PUT', '/jobs/v2/broadcast?api-version=2021-04-12', auth, ca, {
        jobId: 'broadcast', type: 'scheduleDeviceMethod', queryCondition: '*', startTime: null, maxExecutionTimeInSeconds: 3600,
        cloudToDeviceMethod: { methodName: 'ping', payload: { n: 1 }, responseTimeoutInSeconds: 30 },
        maxConcurrency: concurrency
      })
      if (put.status !== 200) throw new Error(`PUT /jobs/v2 answered ${put.status}: ${JSON.stringify(put.body)}`)
      let job: JobView | undefined
      let lastLog = 0
      for (;;) {
        const r = await call(hub.ready.https, 'GET', '/jobs/v2/broadcast?api-version=2021-04-12', auth, ca)
        job = r.body as JobView
        if (['completed', 'failed', 'cancelled'].includes(job.status)) break
        if (performance.now() - lastLog > 5000) {
          lastLog = performance.now()
          log(`job ${job.status}: ${JSON.stringify(job.deviceJobStatistics)}`)
        }
        await sleep(100)
      }
      const wallMs = performance.now() - t0
      const cpu = (await hub.cpuMicros()) - c0
      const hubMs = Date.parse(job.endTime ?? '') - Date.parse(job.createdTime)
      const stats = job.deviceJobStatistics
      const perSec = round((stats['succeededCount'] ?? 0) / (hubMs / 1000), 0)
      const result = {
        bench: 'jobs',
        what: "broadcast scheduleDeviceMethod job (queryCondition '*') over plain-MQTT mqtt.js devices answering 200",
        devices,
        connected: clients.length,
        maxConcurrency: concurrency,
        status: job.status,
        failureReason: job.failureReason ?? null,
        deviceJobStatistics: stats,
        hubMs: round(hubMs, 0),
        wallMs: round(wallMs, 0),
        devicesPerSec: perSec,
        methodCallsSeen: answers.calls(),
        devicesCalledTwice: answers.dupes(),
        hubCpuUsPerDevice: round(cpu / devices, 0),
        connectMs: round(connectMs, 0),
        reference: { iotHubS1DevicesPerSec: 10, iotHubS3DevicesPerSecPerUnit: 50, vsS1: round(perSec / 10, 0), vsS3Unit: round(perSec / 50, 0) },
        pass: job.status === 'completed' && stats['succeededCount'] === devices && answers.dupes() === 0,
        machine: machine(),
        date: new Date().toISOString()
      }
      emit(result)
      return result
    } finally {
      await closeAll(clients)
      const code = await hub.stop()
      if (code !== 0) log(`hub exited with ${code}; stderr tail:\n${hub.stderrTail()}`)
    }
  } finally {
    if (!args.keep) tmp.remove()
    else log(`kept ${tmp.dir}`)
  }
}

if (isMain(import.meta.url)) {
  await runJobs(parseArgs())
}
