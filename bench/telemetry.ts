// Benchmark 1: telemetry throughput and broker CPU per message, Sitehub vs bare aedes.
//
// The same load generator (mqtt.js v5 clients in this process, SAS CONNECT as a device would,
// QoS 1 to devices/{id}/messages/events/{bag}, at most `window` un-acked messages per client)
// drives, one after the other in the same run:
//   - bare aedes (`await Aedes.createBroker()` on a net.Server, child process) with one QoS 1
//     subscriber here that receives every message (aedes relays the same load);
//   - the hub child (`node bin/sitehub.mjs serve`), plain MQTT listener, which appends every
//     message to its durable telemetry log before the PUBACK (fsync: the hub's default).
// Both brokers are measured on plain TCP (no TLS) so the CPU figures compare like with like.
// The figure of merit is broker CPU (user+system, all threads, process.cpuUsage() of the child)
// per message over the measured phase; connect and warm-up are excluded.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { startAedesChild, startHubChild, type BenchChild } from './lib/child.js'
import { emit, isMain, log, machine, num, parseArgs, round, tempDir, type BenchArgs } from './lib/common.js'
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

async function measure (child: BenchChild, run: () => Promise<{ elapsedMs: number; errors: number }>, messages: number): Promise<PhaseResult> {
  const c0 = await child.cpuMicros()
  const l0 = process.cpuUsage()
  const { elapsedMs, errors } = await run()
  const c1 = await child.cpuMicros()
  const l1 = process.cpuUsage(l0)
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
  const warmup = Math.max(devices, Math.round(messages / 10))
  const ids = deviceIdsFor('tel', devices)
  log(`telemetry: ${devices} devices, ${messages} msgs (QoS 1, window ${window}/client, ${payloadBytes} B), warm-up ${warmup}`)

  // --- bare aedes ---
  const aedes = await startAedesChild({ cpuProf: args.cpuProf ? join(args.cpuProf, 'aedes') : null })
  let aedesResult: PhaseResult
  try {
    const url = `mqtt://127.0.0.1:${aedes.port}`
    const sub = await subscriber(url, 1)
    const clients = await connectDevices({ url, hostName: 'localhost', deviceIds: ids })
    await publishTelemetry(clients, ids, warmup, window, payloadBytes)
    await sub.waitFor(warmup)
    aedesResult = await measure(aedes, async () => {
      const t0 = performance.now()
      const r = await publishTelemetry(clients, ids, messages, window, payloadBytes)
      const tRecv = await sub.waitFor(warmup + messages)
      return { elapsedMs: Math.max(r.elapsedMs, tRecv - t0), errors: r.errors }
    }, messages)
    log(`bare aedes: ${JSON.stringify(aedesResult)}`)
    await closeAll(clients)
    await sub.client.endAsync(true)
  } finally {
    await aedes.stop()
  }

  // --- hub ---
  const tmp = tempDir('telemetry')
  let hubResult: PhaseResult
  let logBytes = 0
  try {
    await provision({ dataDir: tmp.dir, deviceIds: ids })
    const hub = await startHubChild({ dataDir: tmp.dir, cpuProf: args.cpuProf ? join(args.cpuProf, 'hub-telemetry') : null })
    try {
      const url = hub.ready.mqtt
      if (!url) throw new Error('hub has no plain MQTT listener (--mqtt-port)')
      const clients = await connectDevices({ url, hostName: hub.ready.hostName, deviceIds: ids })
      const w = await publishTelemetry(clients, ids, warmup, window, payloadBytes)
      if (w.errors) log(`warm-up: ${w.errors} publish errors`)
      hubResult = await measure(hub, () => publishTelemetry(clients, ids, messages, window, payloadBytes), messages)
      log(`hub: ${JSON.stringify(hubResult)}`)
      await closeAll(clients)
    } finally {
      const code = await hub.stop()
      if (code !== 0) log(`hub exited with ${code}; stderr tail:\n${hub.stderrTail()}`)
    }
    logBytes = dirBytes(join(tmp.dir, 'telemetry'))
  } finally {
    if (!args.keep) tmp.remove()
    else log(`kept ${tmp.dir}`)
  }

  const ratio = round(hubResult.cpuUsPerMsg / aedesResult.cpuUsPerMsg, 2)
  const result = {
    bench: 'telemetry',
    listener: 'plain MQTT (TCP, no TLS) for both',
    devices, messages, window, payloadBytes, qos: 1,
    hub: hubResult,
    bareAedes: { ...aedesResult, subscriber: 'one QoS 1 subscriber on devices/+/messages/events/#' },
    cpuRatio: ratio,
    hubTelemetryLogBytes: logBytes,
    target: 'hub CPU per message <= 2x bare aedes',
    pass: ratio <= 2 && hubResult.errors === 0,
    machine: machine(),
    date: new Date().toISOString()
  }
  emit(result)
  return result
}

if (isMain(import.meta.url)) {
  await runTelemetry(parseArgs())
}
