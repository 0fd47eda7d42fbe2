// Benchmark: upstream sync convergence after an offline period. A cloud-role hub and an edge
// hub run in THIS process on two loopback IPs (ports 443/8883, like the tests). The offline
// period is simulated by writing its traffic straight into the edge core before the upstream
// is configured: a reported change per device every 10 s and telemetry at `rate` msg/s
// fleet-wide for `minutes`. Then the link "returns" (hub.sync.configure) and we measure:
// time to mirror the registry, time to converge (hub.sync.waitIdle), backlog drain rate, and
// the latency of live messages (one every 200 ms from a probe device) while the backlog drains.
//   node bin/run-ts.mjs bench/sync.ts [--quick] [--devices=1000] [--minutes=60] [--rate=100]
import { readFileSync } from 'node:fs'
import { emit, isMain, latencySummary, log, machine, num, parseArgs, round, tempDir, type BenchArgs } from './lib/common.js'

const ip = (): string => `127.${20 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`

export async function runSync (args: BenchArgs): Promise<Record<string, unknown>> {
  const devices = num(args, 'devices', 1000, 50)
  const minutes = num(args, 'minutes', 60, 2)
  const rate = num(args, 'rate', 100, 100)
  const { startServer } = await import('../src/main/hub/server.js')
  const cloudDir = tempDir('sync-cloud')
  const edgeDir = tempDir('sync-edge')
  const cloudIp = ip()
  const edgeIp = ip()
  const cloud = await startServer({ config: { dataDir: cloudDir.dir, hostName: cloudIp, bind: cloudIp, mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'cloud' }, fsync: true })
  const edge = await startServer({ config: { dataDir: edgeDir.dir, hostName: edgeIp, bind: edgeIp, mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'edge' }, fsync: true, sync: { resyncMs: 60_000 } })
  try {
    const hub = edge.hub
    const ids = Array.from({ length: devices }, (_, i) => `d${String(i).padStart(5, '0')}`)
    log(`sync: ${devices} devices, ${minutes} min offline simulated (reported every 10 s per device, ${rate} msg/s telemetry)`)
    for (const id of ids) await hub.registry.create({ deviceId: id })
    await hub.registry.create({ deviceId: 'live-probe' })
    const seconds = minutes * 60
    const t0 = Date.now() - seconds * 1000
    let messages = 0
    let patches = 0
    for (let s = 0; s < seconds; s++) {
      const at = new Date(t0 + s * 1000).toISOString()
      const batch: Array<Promise<number>> = []
      for (let k = 0; k < rate; k++) {
        const id = ids[(s * rate + k) % devices] as string
        batch.push(hub.telemetry.accept({ deviceId: id, systemProperties: { messageId: `${s}-${k}` }, properties: {}, body: Buffer.from(JSON.stringify({ t: s, k, v: Math.random() })), enqueuedTime: at, transport: 'api' }))
      }
      // every 10 s each device reports once: spread over the 10 seconds
      for (let j = s % 10; j < devices; j += 10) batch.push(hub.twins.patchReported({ deviceId: ids[j] as string }, { temp: Math.round(Math.random() * 1000) / 10, at: s }))
      patches += Math.ceil((devices - (s % 10)) / 10)
      messages += rate
      await Promise.all(batch)
      if (s % 300 === 0) log(`  simulated ${s}/${seconds} s`)
    }
    log(`offline backlog: ${messages} messages, ${patches} reported patches`)

    // The link returns.
    const start = performance.now()
    const ca = readFileSync(cloud.endpoints.caFile, 'utf8')
    const cloudCs = cloud.hub.registry.policies.connectionString('iothubowner')
    await hub.sync.configure({ connectionString: cloudCs, ca })
    const probeLat: number[] = []
    const outstanding: number[] = []
    const off = cloud.hub.events.on('telemetry.received', (e) => {
      if (e.deviceId !== 'live-probe') return
      const sentAt = outstanding.shift()
      if (sentAt !== undefined) probeLat.push(performance.now() - sentAt)
    })
    let probing = true
    let mirroredAt = 0
    const probe = (async () => {
      while (probing) {
        if (mirroredAt === 0 && hub.sync.status().registry.mirrored >= devices + 1) mirroredAt = performance.now()
        if (hub.sync.devices().find((d) => d.deviceId === 'live-probe')?.state !== 'notMirrored') {
          outstanding.push(performance.now())
          await hub.telemetry.accept({ deviceId: 'live-probe', systemProperties: {}, properties: {}, body: Buffer.from('live'), enqueuedTime: new Date().toISOString(), transport: 'api' })
        }
        await new Promise((r) => setTimeout(r, 200))
      }
    })()
    const progress = setInterval(() => {
      const s = hub.sync.status()
      log(`  ${s.state} sent=${s.telemetry.sent} pending=${s.telemetry.pending} mirrored=${s.registry.mirrored} reportedPending=${s.reported.pendingDevices} lastError=${s.lastError ?? ''}`)
    }, 5000)
    const idle = await hub.sync.waitIdle(num(args, 'timeout-s', 3600, 300) * 1000)
    clearInterval(progress)
    const convergedMs = performance.now() - start
    probing = false
    await probe
    await hub.sync.waitIdle(30_000)
    off()
    const st = hub.sync.status()
    const cloudMessages = cloud.hub.telemetry.stats().messages
    const result = {
      bench: 'sync',
      devices,
      offlineMinutes: minutes,
      backlogMessages: messages,
      reportedPatches: patches,
      converged: idle,
      registryMirroredS: round((mirroredAt - start) / 1000, 2),
      convergeS: round(convergedMs / 1000, 2),
      drainMsgPerS: round(messages / (convergedMs / 1000), 0),
      liveLatency: latencySummary(probeLat),
      sent: st.telemetry.sent,
      expired: st.telemetry.expired,
      dropped: st.telemetry.dropped,
      cloudStored: cloudMessages,
      exact: cloudMessages === st.telemetry.sent && st.telemetry.sent === messages + probeLat.length + outstanding.length,
      reportedPatchesSent: st.reported.patchesSent,
      machine: machine()
    }
    emit(result)
    return result
  } finally {
    await edge.close()
    await cloud.close()
    if (!args.keep) { edgeDir.remove(); cloudDir.remove() }
  }
}

if (isMain(import.meta.url)) await runSync(parseArgs())
