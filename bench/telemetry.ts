// Benchmark 1: telemetry throughput and broker CPU per message, Sitehub vs bare aedes.
//
// The same load generator (mqtt.js v5 clients in this process, SAS CONNECT as a device would,
// QoS 1 to devices/{id}/messages/events/{bag}, at most `window` un-acked messages per client)
// drives, in the same run:
//   - bare aedes (`await Aedes.createBroker()` on a net.Server, child process) with one QoS 1
//     subscriber here that receives every message (aedes relays the same load);
//   - the hub child (`node bin/sitehub.mjs serve`), plain MQTT listener, which appends every
//     message to its durable telemetry log before the PUBACK (fsync: the hub's default).
// Both brokers are measured on plain TCP (no TLS) so the CPU figures compare like with like.
// The figure of merit is broker CPU (user+system, all threads, process.cpuUsage() of the child)
// per message over a measured phase; connect and warm-up are excluded. Both children stay up
// and connected; measured phases alternate aedes, hub, aedes, hub... (`--rounds`, default 3)
// and the medians are compared, which damps the noise of a shared machine.
// `--cpu-prof[=dir]` profiles each measured phase in the children (V8 profiler over IPC, see
// bench/lib/probe.mjs); profiling inflates CPU, so such a run is for hot spots, not figures.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { startAedesChild, startHubChild, type BenchChild } from './lib/child.js'
import { emit, isMain, log, machine, median, num, parseArgs, round, tempDir, type BenchArgs } from './lib/common.js'
import { closeAll, connectDevices, deviceIdsFor, publishTelemetry, subscriber } from './lib/load.js'
import { provision } from './lib/provision.js'

interface PhaseResult {
  msgsPerSec: number
  cpuUsPerMsg: number
  /** broker CPU seconds / wall seconds (1.0 = one core busy). */
  brokerCores: number
  /** load generator (this process) CPU seconds / wall seconds. */
  loadGenCores: number
  elapsedMs: number
  errors: number
}

async function measure (child: BenchChild, run: () => Promise<{ elapsedMs: number; errors: number }>, messages: number, profileFile: string | null): Promise<PhaseResult> {
  if (profileFile) await child.startProfile()
  const c0 = await child.cpuMicros()
  const l0 = process.cpuUsage()
  const { elapsedMs, errors } = await run()
  const c1 = await child.cpuMicros()
  const l1 = process.cpuUsage(l0)
  if (profileFile) await child.stopProfile(profileFile)
  const cpu = c1 - c0
  return {
    msgsPerSec: round(messages / (elapsedMs / 1000), 0),
    cpuUsPerMsg: round(cpu / messages, 2),
    brokerCores: round(cpu / 1000 / elapsedMs, 2),
    loadGenCores: round((l1.user + l1.system) / 1000 / elapsedMs, 2),
    elapsedMs: round(elapsedMs, 0),
    errors
  }
}

function summary (rounds: PhaseResult[]): Record<string, unknown> {
  return {
    msgsPerSec: round(median(rounds.map((r) => r.msgsPerSec)), 0),
    cpuUsPerMsg: round(median(rounds.map((r) => r.cpuUsPerMsg)), 2),
    brokerCores: round(median(rounds.map((r) => r.brokerCores)), 2),
    loadGenCores: round(median(rounds.map((r) => r.loadGenCores)), 2),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    rounds: rounds.map((r) => ({ msgsPerSec: r.msgsPerSec, cpuUsPerMsg: r.cpuUsPerMsg }))
  }
}

function dirBytes (dir: string): number {
  let total = 0
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      total += e.isDirectory() ? dirBytes(p) : statSync(p).size
    }
  } catch { /* missing */ }
  return total
}

export async function runTelemetry (args: BenchArgs): Promise<Record<string, unknown>> {
  const devices = num(args, 'devices', 500, 100)
  const messages = num(args, 'messages', 100_000, 10_000)
  const window = num(args, 'window', 8, 8)
  const payloadBytes = num(args, 'payload', 100, 100)
  const nRounds = num(args, 'rounds', 3, 1)
  const warmup = Math.max(devices, Math.round(messages / 10))
  const ids = deviceIdsFor('tel', devices)
  log(`telemetry: ${devices} devices, ${messages} msgs x ${nRounds} rounds per broker (QoS 1, window ${window}/client, ${payloadBytes} B), warm-up ${warmup}`)

  const tmp = tempDir('telemetry')
  const stops: Array<() => Promise<unknown>> = []
  const hubRounds: PhaseResult[] = []
  const aedesRounds: PhaseResult[] = []
  let logBytes = 0
  let aedesConnect = {}
  let hubConnect = {}
  try {
    // bare aedes: broker child, the subscriber that receives everything, the device clients
    const aedes = await startAedesChild()
    stops.push(() => aedes.stop())
    const aedesUrl = `mqtt://127.0.0.1:${aedes.port}`
    const sub = await subscriber(aedesUrl, 1)
    stops.push(() => sub.client.endAsync(true))
    let a0 = await aedes.cpuMicros()
    let t0 = performance.now()
    const aedesClients = await connectDevices({ url: aedesUrl, hostName: 'localhost', deviceIds: ids })
    aedesConnect = { ms: round(performance.now() - t0, 0), cpuUsPerConnect: round(((await aedes.cpuMicros()) - a0) / devices, 0) }
    stops.push(() => closeAll(aedesClients))
    let relayed = 0

    // the hub: provisioned data dir, child, the same device clients with real SAS tokens
    await provision({ dataDir: tmp.dir, deviceIds: ids })
    const hub = await startHubChild({ dataDir: tmp.dir })
    stops.push(async () => {
      const code = await hub.stop()
      if (code !== 0) log(`hub exited with ${code}; stderr tail:\n${hub.stderrTail()}`)
    })
    const hubUrl = hub.ready.mqtt
    if (!hubUrl) throw new Error('hub has no plain MQTT listener (--mqtt-port)')
    if (args.cpuProf) await hub.startProfile()
    a0 = await hub.cpuMicros()
    t0 = performance.now()
    const hubClients = await connectDevices({ url: hubUrl, hostName: hub.ready.hostName, deviceIds: ids })
    if (args.cpuProf) await hub.stopProfile(join(args.cpuProf, 'telemetry-hub-connect.cpuprofile'))
    hubConnect = { ms: round(performance.now() - t0, 0), cpuUsPerConnect: round(((await hub.cpuMicros()) - a0) / devices, 0) }
    stops.push(() => closeAll(hubClients))

    const runAedes = async (n: number): Promise<{ elapsedMs: number; errors: number }> => {
      const t0 = performance.now()
      const r = await publishTelemetry(aedesClients, ids, n, window, payloadBytes)
      relayed += n
      const tRecv = await sub.waitFor(relayed)
      return { elapsedMs: Math.max(r.elapsedMs, tRecv - t0), errors: r.errors }
    }
    const runHub = (clients: MqttClient[], n: number): Promise<{ elapsedMs: number; errors: number }> => publishTelemetry(clients, ids, n, window, payloadBytes)

    await runAedes(warmup)
    const w = await runHub(hubClients, warmup)
    if (w.errors) log(`hub warm-up: ${w.errors} publish errors`)
    for (let i = 0; i < nRounds; i++) {
      const prof = (who: string): string | null => (args.cpuProf ? join(args.cpuProf, `telemetry-${who}-round${i + 1}.cpuprofile`) : null)
      const a = await measure(aedes, () => runAedes(messages), messages, prof('aedes'))
      log(`round ${i + 1} bare aedes: ${JSON.stringify(a)}`)
      aedesRounds.push(a)
      const h = await measure(hub, () => runHub(hubClients, messages), messages, prof('hub'))
      log(`round ${i + 1} hub:        ${JSON.stringify(h)}`)
      hubRounds.push(h)
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => log(`cleanup: ${err.message}`))
    logBytes = dirBytes(join(tmp.dir, 'telemetry'))
    if (!args.keep) tmp.remove()
    else log(`kept ${tmp.dir}`)
  }

  const hubS = summary(hubRounds)
  const aedesS = summary(aedesRounds)
  const ratio = round((hubS['cpuUsPerMsg'] as number) / (aedesS['cpuUsPerMsg'] as number), 2)
  const result = {
    bench: 'telemetry',
    listener: 'plain MQTT (TCP, no TLS) for both',
    devices, messages, rounds: nRounds, window, payloadBytes, qos: 1,
    hub: { ...hubS, connect: hubConnect, fsync: 'on (hub default)' },
    bareAedes: { ...aedesS, connect: aedesConnect, subscriber: 'one QoS 1 subscriber on devices/+/messages/events/#' },
    cpuRatio: ratio,
    hubTelemetryLogBytes: logBytes,
    profiled: args.cpuProf !== null,
    target: 'hub CPU per message <= 2x bare aedes (medians)',
    pass: ratio <= 2 && hubS['errors'] === 0,
    machine: machine(),
    date: new Date().toISOString()
  }
  emit(result)
  return result
}

if (isMain(import.meta.url)) {
  await runTelemetry(parseArgs())
}
