// Benchmark 4: memory and start-up of a hub process holding many registered devices.
// For each size the data dir is provisioned first (in-process createHub with fsync OFF,
// registry.create + patchTags + patchReported in concurrent batches: every device gets tags and
// four reported properties). Then `node --expose-gc bin/sitehub.mjs serve` is spawned; start-up
// is spawn -> `sitehub ready` line; RSS and heap are read in the child after two full GCs
// (bench/lib/probe.mjs over IPC), with no client connected.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { startHubChild } from './lib/child.js'
import { emit, isMain, log, machine, parseArgs, round, sleep, tempDir, type BenchArgs } from './lib/common.js'
import { deviceIdsFor } from './lib/load.js'
import { provision } from './lib/provision.js'

const MB = 2 ** 20

function dirBytes (dir: string): number {
  let total = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size
  }
  return total
}

interface SizeResult { devices: number; startupMs: number; rssMB: number; heapUsedMB: number; externalMB: number; provisionMs: number; dataDirMB: number }

async function measureSize (args: BenchArgs, devices: number): Promise<SizeResult> {
  const tmp = tempDir(`mem${devices}`)
  try {
    const prov = devices > 0 ? await provision({ dataDir: tmp.dir, deviceIds: deviceIdsFor('mem', devices), smallTwin: true, batch: 1000 }) : { ms: 0 }
    const dataDirMB = round(dirBytes(tmp.dir) / MB, 1)
    const hub = await startHubChild({ dataDir: tmp.dir, nodeArgs: ['--expose-gc'], readyTimeoutMs: 900_000, cpuProf: args.cpuProf ? join(args.cpuProf, `hub-startup-${devices}`) : null })
    try {
      await sleep(1000)
      const p = await hub.probe({ gc: true })
      const r: SizeResult = {
        devices,
        startupMs: round(hub.startupMs, 0),
        rssMB: round(p.mem.rss / MB, 1),
        heapUsedMB: round(p.mem.heapUsed / MB, 1),
        externalMB: round(p.mem.external / MB, 1),
        provisionMs: prov.ms,
        dataDirMB
      }
      if (!p.gc) log('warning: GC not exposed in the hub child')
      log(`memory ${devices}: ${JSON.stringify(r)}`)
      return r
    } finally {
      await hub.stop()
    }
  } finally {
    if (!args.keep) tmp.remove()
    else log(`kept ${tmp.dir}`)
  }
}

export async function runMemory (args: BenchArgs): Promise<Record<string, unknown>> {
  const sizes = args.values.get('sizes')?.split(',').map(Number) ?? (args.quick ? [0, 1_000, 10_000] : [0, 10_000, 100_000])
  const results: SizeResult[] = []
  for (const n of sizes) results.push(await measureSize(args, n))
  if (results.length !== 3) {
    const result = { bench: 'memory', sizes: results, target: 'report only', pass: true, machine: machine(), date: new Date().toISOString() }
    emit(result)
    return result
  }
  const [empty, small, large] = results as [SizeResult, SizeResult, SizeResult]
  const result = {
    bench: 'memory',
    provisioning: 'in-process createHub, fsync off, registry.create + patchTags + patchReported in batches of 1000',
    empty, small, large,
    bytesPerDevice: round(((large.rssMB - small.rssMB) * MB) / (large.devices - small.devices), 0),
    heapBytesPerDevice: round(((large.heapUsedMB - small.heapUsedMB) * MB) / (large.devices - small.devices), 0),
    target: 'report RSS at 10k and 100k devices and start-up time at 100k (no target set)',
    pass: true,
    machine: machine(),
    date: new Date().toISOString()
  }
  emit(result)
  return result
}

if (isMain(import.meta.url)) {
  await runMemory(parseArgs())
}
