// Benchmark: upstream sync convergence after an offline period (issue 7's bench). A cloud-role
// hub and an edge hub run in THIS process on two loopback IPs (ports 443/8883, like the tests),
// fsync on.
//
// The offline period is COMPRESSED: its traffic is written straight into the edge core before
// the upstream is configured, as fast as the core takes it, with the timestamps it would have
// had. The volume is exact: `minutes` x 60 simulated seconds, each with `rate` telemetry
// messages (enqueuedTime spread evenly over that second) and one reported change per device
// every 10 s (a tenth of the fleet per second). 1,000 devices x 60 min = 360,000 messages and
// 360,000 reported changes; the messages' enqueuedTime spans the hour ending when the link
// returns. The offline duration is simulated by volume and timestamps, not by wall time.
//
// Then the link "returns" (hub.sync.configure) and, while the backlog drains, the fleet keeps
// sending live telemetry at `live-rate` msg/s (default: `rate`) through the edge core. We
// measure: time to mirror the registry, backlog drain time and rate (backlog fully stored in
// the cloud), time to converge (backlog drained and every device's last reported value
// acknowledged by the cloud), and the end-to-end latency of every live message (accepted at
// the edge -> durably stored in the cloud), split into during / after the drain.
//   node bin/run-ts.mjs bench/sync.ts [--quick] [--devices=1000] [--minutes=60] [--rate=100]
//        [--live-rate=100] [--timeout-s=3600] [--fresh-registry]
// By default the registry is mirrored before the outage (configure, wait idle, configure(null));
// --fresh-registry provisions the devices while offline, so they are mirrored when it returns.
import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { emit, isMain, latencySummary, log, machine, num, parseArgs, round, tempDir, type BenchArgs } from './lib/common.js'
import type { TelemetryMessage } from '../src/main/hub/types.js'

const ip = (): string => `127.${20 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`
const LIVE = 'bench-live-at'

export async function runSync (args: BenchArgs): Promise<Record<string, unknown>> {
  const devices = num(args, 'devices', 1000, 50)
  const minutes = num(args, 'minutes', 60, 2)
  const rate = num(args, 'rate', 100, 100)
  const liveRate = num(args, 'live-rate', rate, rate)
  // --fresh-registry: the devices were provisioned while offline (mirrored when the link returns)
  const freshRegistry = args.values.get('fresh-registry') === 'true' || process.argv.includes('--fresh-registry')
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
    log(`sync: ${devices} devices, ${minutes} min of offline operation (compressed: volume and timestamps, not wall time); reported every 10 s per device, ${rate} msg/s telemetry; live ${liveRate} msg/s during the drain`)
    for (const id of ids) await hub.registry.create({ deviceId: id })
    const ca = readFileSync(cloud.endpoints.caFile, 'utf8')
    const cloudCs = cloud.hub.registry.policies.connectionString('iothubowner')
    if (!freshRegistry) {
      // The site was in sync before the outage: the registry is mirrored, then the link goes.
      await hub.sync.configure({ connectionString: cloudCs, ca })
      const until = Date.now() + 600_000
      for (;;) {
        const idle = await hub.sync.waitIdle(2000)
        if (idle && hub.sync.status().registry.mirrored >= devices) break
        if (Date.now() > until) throw new Error('the initial sync did not settle')
        await new Promise((r) => setTimeout(r, 500))
      }
      await hub.sync.configure(null)
      log(`  registry mirrored before the outage; link down`)
    }
    const seconds = minutes * 60
    const genStart = performance.now()
    const linkReturns = Date.now()
    const t0 = linkReturns - seconds * 1000
    let messages = 0
    let patches = 0
    let firstAt = ''
    let lastAt = ''
    for (let s = 0; s < seconds; s++) {
      const batch: Array<Promise<number>> = []
      for (let k = 0; k < rate; k++) {
        const id = ids[(s * rate + k) % devices] as string
        const at = new Date(t0 + s * 1000 + Math.floor((k * 1000) / rate)).toISOString()
        if (messages === 0) firstAt = at
        lastAt = at
        messages++
        batch.push(hub.telemetry.accept({ deviceId: id, systemProperties: { messageId: `${s}-${k}` }, properties: {}, body: Buffer.from(JSON.stringify({ t: s, k, v: Math.random() })), enqueuedTime: at, transport: 'api' }))
      }
      // every 10 s each device reports once: a tenth of the fleet per simulated second
      for (let j = s % 10; j < devices; j += 10) {
        batch.push(hub.twins.patchReported({ deviceId: ids[j] as string }, { temp: Math.round(Math.random() * 1000) / 10, at: s }))
        patches++
      }
      await Promise.all(batch)
      if (s % 300 === 0) log(`  simulated ${s}/${seconds} s`)
    }
    const generationS = (performance.now() - genStart) / 1000
    log(`offline backlog: ${messages} messages (enqueuedTime ${firstAt} .. ${lastAt}), ${patches} reported changes, generated in ${round(generationS, 1)} s`)

    // Instrument the cloud's durable accept (the measurement, not the system): a live message
    // carries its edge accept time; a backlog message counts towards the drain.
    const liveLat: Array<{ at: number; ms: number }> = []
    let backlogStored = 0
    let drainedAt = 0
    const cloudTel = cloud.hub.telemetry as { accept: (m: TelemetryMessage) => Promise<number> }
    const accept = cloudTel.accept.bind(cloudTel)
    const seen = new Set<string>()
    cloudTel.accept = async (m) => {
      const seq = await accept(m)
      const origin = String(m.properties['sitehub-origin'] ?? '')
      if (seen.has(origin)) return seq // a resend the dedupe absorbed
      seen.add(origin)
      const liveAt = m.properties[LIVE]
      const now = performance.now()
      if (typeof liveAt === 'string') liveLat.push({ at: now, ms: now - Number(liveAt) })
      else if (++backlogStored === messages) drainedAt = now
      return seq
    }
    const eld = monitorEventLoopDelay({ resolution: 10 })

    // The link returns.
    const start = performance.now()
    eld.enable()
    await hub.sync.configure({ connectionString: cloudCs, ca })
    // Live data starts once the link is up: what the edge accepted before is backlog by definition.
    while (hub.sync.status().state !== 'online') await new Promise((r) => setTimeout(r, 20))
    let live = true
    let liveSent = 0
    let mirroredAt = 0
    let reportedAt = 0
    let linksOpenAt = 0
    const liveLoad = (async () => {
      // `liveRate` msg/s across the fleet, in ticks of 100 ms
      const perTick = liveRate / 10
      let owed = 0
      let k = 0
      let next = performance.now()
      while (live) {
        owed += perTick
        const sends: Array<Promise<number>> = []
        for (; owed >= 1; owed--) {
          const id = ids[k++ % devices] as string
          sends.push(hub.telemetry.accept({ deviceId: id, systemProperties: {}, properties: { [LIVE]: String(performance.now()) }, body: Buffer.from(JSON.stringify({ live: k })), enqueuedTime: new Date().toISOString(), transport: 'api' }))
        }
        liveSent += sends.length
        await Promise.all(sends)
        next += 100
        await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())))
      }
    })()
    const timeoutMs = num(args, 'timeout-s', 3600, 300) * 1000
    let lastProgress = 0
    let lastLogged = 0
    while (performance.now() - start < timeoutMs) {
      const s = hub.sync.status()
      if (mirroredAt === 0 && s.registry.mirrored >= devices) mirroredAt = performance.now()
      if (linksOpenAt === 0 && hub.sync.devices().every((d) => d.upstreamConnected)) linksOpenAt = performance.now()
      if (reportedAt === 0 && mirroredAt !== 0 && s.reported.pendingDevices === 0 && s.reported.patchesSent >= devices) reportedAt = performance.now()
      if (performance.now() - lastProgress >= 5000) {
        lastProgress = performance.now()
        const recent = liveLat.slice(lastLogged).map((x) => x.ms)
        lastLogged = liveLat.length
        const r = latencySummary(recent)
        log(`  ${round((lastProgress - start) / 1000, 0)} s ${s.state} backlog stored=${backlogStored}/${messages} sent=${s.telemetry.sent} pending=${s.telemetry.pending} mirrored=${s.registry.mirrored} reportedPending=${s.reported.pendingDevices} live n=${r.n} p50=${round(r.p50Ms, 0)} p90=${round(r.p90Ms, 0)} max=${round(r.maxMs, 0)} ms ${s.lastError ?? ''}`)
      }
      if (drainedAt !== 0 && reportedAt !== 0) break
      await new Promise((r) => setTimeout(r, 500))
    }
    const converged = drainedAt !== 0 && reportedAt !== 0
    const convergedAt = Math.max(drainedAt, reportedAt)
    live = false
    await liveLoad
    eld.disable()
    const idle = await hub.sync.waitIdle(120_000)
    cloudTel.accept = accept
    const st = hub.sync.status()
    const cloudMessages = cloud.hub.telemetry.stats().messages
    const during = liveLat.filter((x) => drainedAt === 0 || x.at <= drainedAt).map((x) => x.ms)
    const after = liveLat.filter((x) => drainedAt !== 0 && x.at > drainedAt).map((x) => x.ms)
    const drainS = (drainedAt - start) / 1000
    const result = {
      bench: 'sync',
      simulation: 'compressed: the offline period is generated by volume and timestamps, not waited in wall time',
      devices,
      registryBeforeOutage: freshRegistry ? 'provisioned offline, mirrored when the link returns' : 'mirrored before the outage',
      offlineMinutes: minutes,
      generationS: round(generationS, 1),
      backlogMessages: messages,
      backlogSpan: [firstAt, lastAt],
      reportedChanges: patches,
      liveRate,
      converged,
      registryMirroredS: round((mirroredAt - start) / 1000, 2),
      drainS: round(drainS, 2),
      drainMsgPerS: round(messages / drainS, 0),
      reportedConvergedS: round((reportedAt - start) / 1000, 2),
      convergeS: round((convergedAt - start) / 1000, 2),
      liveLatencyDuringDrain: latencySummary(during),
      // the first seconds open one upstream link per device (16 handshakes at a time)
      allLinksOpenS: round((linksOpenAt - start) / 1000, 2),
      liveLatencyDuringDrainLinksOpen: latencySummary(liveLat.filter((x) => linksOpenAt !== 0 && x.at - x.ms >= linksOpenAt && (drainedAt === 0 || x.at <= drainedAt)).map((x) => x.ms)),
      liveLatencyAfterDrain: latencySummary(after),
      eventLoopDelay: { p50Ms: round(eld.percentile(50) / 1e6, 1), p99Ms: round(eld.percentile(99) / 1e6, 1), maxMs: round(eld.max / 1e6, 1) },
      liveSent,
      sent: st.telemetry.sent,
      expired: st.telemetry.expired,
      dropped: st.telemetry.dropped,
      cloudStored: cloudMessages,
      idleAtEnd: idle,
      exact: cloudMessages === st.telemetry.sent && st.telemetry.sent === messages + liveSent && backlogStored === messages && liveLat.length === liveSent,
      reportedPatchesSent: st.reported.patchesSent,
      conflicts: hub.sync.conflicts().map((c) => `${c.id}: ${c.fields.join(', ')}`),
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
