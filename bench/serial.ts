// Serial transport benchmark: frames per second that the line protocol transport parses and
// applies through the core into the durable store (telemetry log / store journal, fsync on, the
// hub's default), on 1 port and on 8 ports, and the hub's CPU per frame.
//
// The hub runs in this process (createHub + createSerialTransport, nothing else); each port is
// a socat pty pair. The devices run in a child process (the reference serial device,
// src/main/sim/serial/device.ts), each keeping `window` requests un-acked, so the hub, not
// the generator, is the limit. Phases: `tel` (telemetry frames, acked after the durable append)
// and `rep` (reported patches, acked after the store commit). CPU per frame = this process's
// user+system CPU over the measured phase / frames acked.
//   node bin/run-ts.mjs bench/serial.ts [--quick] [--frames=20000] [--window=32] [--ports=1,8]
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { emit, isMain, log, machine, num, parseArgs, repoRoot, round, tempDir, type BenchArgs } from './lib/common.js'

interface ChildSpec { ports: Array<{ path: string; deviceId: string; key: string }>; window: number }

// --- child: the devices ------------------------------------------------------------------------

async function runChild (spec: ChildSpec): Promise<void> {
  const { SerialDevice } = await import('../src/main/sim/serial/device.js')
  const devs = spec.ports.map((p) => new SerialDevice({ path: p.path, deviceId: p.deviceId, key: p.key, ackTimeoutMs: 30_000, retries: 0 }))
  await Promise.all(devs.map((d) => d.start(30_000)))
  process.stdout.write('ready\n')
  const rl = createInterface({ input: process.stdin })
  for await (const line of rl) {
    const [cmd, kind, countText] = line.split(' ')
    if (cmd === 'quit') break
    const perDevice = Math.ceil(Number(countText) / devs.length)
    const t0 = process.hrtime.bigint()
    let seq = 0
    await Promise.all(devs.map(async (d) => {
      let sent = 0
      const worker = async (): Promise<void> => {
        while (sent < perDevice) {
          sent++
          const n = seq++
          if (kind === 'tel') await d.sendTelemetry({ temperature: 20 + (n % 100) / 10, n, line: 'bench' })
          else await d.reportProperties({ counter: n, state: n % 2 === 0 ? 'run' : 'idle' })
        }
      }
      await Promise.all(Array.from({ length: spec.window }, worker))
    }))
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6
    process.stdout.write(`done ${JSON.stringify({ frames: perDevice * devs.length, elapsedMs })}\n`)
  }
  await Promise.all(devs.map((d) => d.close()))
  process.exit(0)
}

// --- parent: the hub ---------------------------------------------------------------------------

async function socatPair (dir: string, i: number): Promise<{ a: string; b: string; proc: ChildProcess }> {
  const a = join(dir, `tty${i}A`)
  const b = join(dir, `tty${i}B`)
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' })
  for (let k = 0; k < 250 && !(existsSync(a) && existsSync(b)); k++) await new Promise((resolve) => setTimeout(resolve, 20))
  return { a, b, proc }
}

async function runPorts (args: BenchArgs, nPorts: number): Promise<void> {
  const frames = num(args, 'frames', 20_000, 3_000)
  const window = num(args, 'window', 32, 16)
  const tmp = tempDir('serial')
  const { createHub } = await import('../src/main/hub/index.js')
  const { createSerialTransport } = await import('../src/main/hub/transports/serial/index.js')
  const hub = await createHub({ config: { dataDir: join(tmp.dir, 'hub'), hostName: 'bench', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role: 'edge' } })
  const transport = createSerialTransport(hub)
  const pairs = await Promise.all(Array.from({ length: nPorts }, (_, i) => socatPair(tmp.dir, i)))
  const spec: ChildSpec = { ports: [], window }
  for (const [i, p] of pairs.entries()) {
    const deviceId = `bench-serial-${i}`
    const doc = await hub.registry.create({ deviceId })
    await hub.serial.add({ name: `p${i}`, path: p.a, keepAliveSec: 600 })
    spec.ports.push({ path: p.b, deviceId, key: doc.authentication.symmetricKey.primaryKey ?? '' })
  }
  const child = spawn(process.execPath, [join(repoRoot, 'bin/run-ts.mjs'), join(repoRoot, 'bench/serial.ts'), '--child', `--spec=${Buffer.from(JSON.stringify(spec)).toString('base64')}`], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  const next = async (): Promise<string> => { const r = await lines.next(); if (r.done === true) throw new Error('device child exited'); return r.value }
  try {
    if (await next() !== 'ready') throw new Error('device child did not get ready')
    for (const kind of ['tel', 'rep'] as const) {
      // warm-up, then the measured phase
      child.stdin?.write(`go ${kind} ${Math.min(1000, frames)}\n`)
      await next()
      const c0 = process.cpuUsage()
      child.stdin?.write(`go ${kind} ${frames}\n`)
      const done = JSON.parse((await next()).slice(5)) as { frames: number; elapsedMs: number }
      const cpu = process.cpuUsage(c0)
      const cpuUs = cpu.user + cpu.system
      const st = hub.serial.status()
      const errors = st.reduce((n, p) => n + p.counters.garbage + p.counters.badChecksum + p.counters.oversize, 0)
      const result = {
        bench: 'serial',
        kind: kind === 'tel' ? 'telemetry' : 'reported',
        ports: nPorts,
        window,
        frames: done.frames,
        framesPerSec: round(done.frames / (done.elapsedMs / 1000), 0),
        hubCpuUsPerFrame: round(cpuUs / done.frames, 1),
        hubCores: round(cpuUs / 1000 / done.elapsedMs, 2),
        elapsedMs: round(done.elapsedMs, 0),
        frameErrors: errors,
        fsync: true,
        machine: machine()
      }
      log(`serial ${nPorts} port(s) ${result.kind}: ${result.framesPerSec} frames/s, ${result.hubCpuUsPerFrame} us hub CPU/frame`)
      emit(result)
    }
    // every acked telemetry frame is in the durable log (warm-up + measured phase)
    if (hub.telemetry.stats().messages < frames) throw new Error(`telemetry log holds ${hub.telemetry.stats().messages} messages, fewer than the ${frames} acked`)
  } finally {
    child.stdin?.write('quit\n')
    await new Promise((resolve) => { child.once('exit', resolve); setTimeout(resolve, 3000).unref() })
    await transport.close()
    await hub.close()
    for (const p of pairs) p.proc.kill('SIGTERM')
    if (!args.keep) tmp.remove()
  }
}

export async function runSerial (args: BenchArgs): Promise<void> {
  const portCounts = (args.values.get('ports') ?? '1,8').split(',').map(Number)
  for (const n of portCounts) await runPorts(args, n)
}

if (isMain(import.meta.url)) {
  const args = parseArgs()
  const specText = args.values.get('spec')
  if (process.argv.includes('--child') && specText !== undefined) {
    await runChild(JSON.parse(Buffer.from(specText, 'base64').toString()) as ChildSpec)
  } else {
    await runSerial(args)
    process.exit(0)
  }
}
