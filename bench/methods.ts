// Benchmark 3: direct-method round trip. The hub runs in THIS process (startServer, fsync on);
// an azure-iot-device SDK device (azure-iot-device-mqtt, MQTT over TLS trusting the hub CA via
// client.setOptions({ca})), also in this process, answers `echo`; the bench calls
// hub.methods.invoke() sequentially and records the time until the device's response resolves.
import { readFileSync } from 'node:fs'
import deviceSdk from 'azure-iot-device'
import deviceMqtt from 'azure-iot-device-mqtt'
import { emit, freePort, isMain, latencySummary, log, machine, num, parseArgs, round, tempDir, type BenchArgs } from './lib/common.js'
import { benchKey } from './lib/sas.js'

export async function runMethods (args: BenchArgs): Promise<Record<string, unknown>> {
  const calls = num(args, 'calls', 5000, 300)
  const warmup = Math.min(200, Math.round(calls / 5))
  const { startServer } = await import('../src/main/hub/server.js')
  const tmp = tempDir('methods')
  const hostName = 'localhost'
  const config = {
    dataDir: tmp.dir, hostName, bind: '127.0.0.1', role: 'edge' as const,
    mqttsPort: await freePort(), httpsPort: await freePort(), mqttPort: null
  }
  log(`methods: ${calls} sequential invocations (+${warmup} warm-up), SDK device over MQTT/TLS`)
  const server = await startServer({ config })
  const deviceId = 'method-dev'
  const identity = { deviceId }
  let device: InstanceType<typeof deviceSdk.Client> | undefined
  try {
    await server.hub.registry.create({ deviceId, authentication: { symmetricKey: { primaryKey: benchKey(deviceId), secondaryKey: benchKey(deviceId, 'secondary') } } })
    const port = new URL(server.endpoints.mqtts).port
    const cs = `HostName=${hostName}:${port};DeviceId=${deviceId};SharedAccessKey=${benchKey(deviceId)}`
    device = deviceSdk.Client.fromConnectionString(cs, deviceMqtt.Mqtt)
    await device.setOptions({ ca: readFileSync(server.endpoints.caFile, 'utf8') })
    await device.open()
    device.onDeviceMethod('echo', (req, res) => {
      res.send(200, req.payload).catch((err: Error) => log(`method response failed: ${err.message}`))
    })
    if (!(await server.hub.connections.waitFor(identity, 'methods', 15_000))) throw new Error('device never subscribed to $iothub/methods/POST/#')
    const payload = { command: 'ping', value: 42, tags: ['a', 'b'] }
    const invoke = async (): Promise<number> => {
      const t0 = performance.now()
      const r = await server.hub.methods.invoke(identity, { methodName: 'echo', payload, responseTimeoutInSeconds: 10 })
      const ms = performance.now() - t0
      if (r.status !== 200) throw new Error(`method status ${r.status}`)
      return ms
    }
    for (let i = 0; i < warmup; i++) await invoke()
    const samples: number[] = []
    const t0 = performance.now()
    for (let i = 0; i < calls; i++) samples.push(await invoke())
    const elapsed = performance.now() - t0
    const lat = latencySummary(samples)
    const result = {
      bench: 'methods',
      transport: 'azure-iot-device 1.18.4 + azure-iot-device-mqtt (MQTT over TLS), device and hub in one process',
      calls,
      callsPerSec: round(calls / (elapsed / 1000), 0),
      latency: lat,
      target: 'report p50/p99 (no target set)',
      pass: lat.n === calls,
      machine: machine(),
      date: new Date().toISOString()
    }
    emit(result)
    return result
  } finally {
    await device?.close().catch(() => undefined)
    await server.close()
    if (!args.keep) tmp.remove()
  }
}

if (isMain(import.meta.url)) {
  await runMethods(parseArgs())
}
