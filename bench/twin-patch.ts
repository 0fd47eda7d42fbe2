// Benchmark 2: reported-property patches over MQTT (A.7). 1,000 devices connected to the hub
// child (plain MQTT listener), each subscribed to $iothub/twin/res/# and keeping one
// $iothub/twin/PATCH/properties/reported/?$rid=N outstanding; the 204 reply carrying $version is
// the durable ack (the hub awaits the store's group commit, fsync on, before replying).
// Measures durable patches/s over the whole run and p50/p99 ack latency (send -> 204).
import { join } from 'node:path'
import { startHubChild } from './lib/child.js'
import { emit, isMain, latencySummary, log, machine, num, parseArgs, round, tempDir, type BenchArgs } from './lib/common.js'
import { closeAll, connectDevices, deviceIdsFor, patchReported, subscribeTwinResponses } from './lib/load.js'
import { provision } from './lib/provision.js'

export async function runTwinPatch (args: BenchArgs): Promise<Record<string, unknown>> {
  const devices = num(args, 'devices', 1000, 200)
  const patches = num(args, 'patches', 30_000, 4_000)
  const target = 5000
  const ids = deviceIdsFor('twin', devices)
  const tmp = tempDir('twin')
  log(`twin-patch: ${devices} devices, ${patches} reported patches (1 outstanding per device)`)
  try {
    await provision({ dataDir: tmp.dir, deviceIds: ids })
    const hub = await startHubChild({ dataDir: tmp.dir })
    try {
      const url = hub.ready.mqtt
      if (!url) throw new Error('hub has no plain MQTT listener (--mqtt-port)')
      const cc0 = await hub.cpuMicros()
      const tc0 = performance.now()
      const clients = await connectDevices({ url, hostName: hub.ready.hostName, deviceIds: ids })
      await subscribeTwinResponses(clients)
      const connectMs = performance.now() - tc0
      const connectCpu = (await hub.cpuMicros()) - cc0
      const warm = await patchReported(clients, Math.max(devices, Math.round(patches / 10)))
      log(`warm-up: ${warm.ok} ok, ${warm.failed} failed ${JSON.stringify(warm.statuses)}`)
      if (args.cpuProf) await hub.startProfile()
      const c0 = await hub.cpuMicros()
      const l0 = process.cpuUsage()
      const r = await patchReported(clients, patches)
      const cpu = (await hub.cpuMicros()) - c0
      const l1 = process.cpuUsage(l0)
      if (args.cpuProf) await hub.stopProfile(join(args.cpuProf, 'twin-patch-hub.cpuprofile'))
      await closeAll(clients)
      const perSec = round(r.ok / (r.elapsedMs / 1000), 0)
      const result = {
        bench: 'twin-patch',
        listener: 'plain MQTT (TCP, no TLS)',
        devices, patches,
        patchesPerSec: perSec,
        latency: latencySummary(r.latenciesMs),
        ok: r.ok, failed: r.failed, missingVersion: r.missingVersion, statuses: r.statuses,
        hubCpuUsPerPatch: round(cpu / patches, 1),
        // What one fully available core would sustain at this CPU cost (the hub's JS is one
        // thread): robust to a busy machine, unlike patchesPerSec.
        oneCoreCapacityPerSec: round(patches / (cpu / 1e6), 0),
        connectMs: round(connectMs, 0),
        hubCpuUsPerConnect: round(connectCpu / devices, 0),
        hubCores: round(cpu / 1000 / r.elapsedMs, 2),
        loadGenCores: round((l1.user + l1.system) / 1000 / r.elapsedMs, 2),
        elapsedMs: round(r.elapsedMs, 0),
        profiled: args.cpuProf !== null,
        target: `>= ${target} durable patches/s`,
        pass: perSec >= target && r.failed === 0 && r.missingVersion === 0,
        machine: machine(),
        date: new Date().toISOString()
      }
      emit(result)
      return result
    } finally {
      const code = await hub.stop()
      if (code !== 0) log(`hub exited with ${code}; stderr tail:\n${hub.stderrTail()}`)
    }
  } finally {
    if (!args.keep) tmp.remove()
    else log(`kept ${tmp.dir}`)
  }
}

if (isMain(import.meta.url)) {
  await runTwinPatch(parseArgs())
}
