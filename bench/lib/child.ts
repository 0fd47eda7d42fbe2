// Benchmark child processes: the hub (`node bin/sitehub.mjs serve`) and bare aedes
// (bench/lib/aedes-child.mjs). Both are preloaded with bench/lib/probe.mjs so that the bench can
// ask them for process.cpuUsage()/memoryUsage() (after a GC) over IPC.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { freePort, log, repoRoot } from './common.js'
import { procCpuMicros, procRss } from './proc.js'
import type { Endpoints } from '../../src/main/hub/server.js'

export interface ProbeReply {
  pid: number
  gc: boolean
  cpu: { user: number; system: number }
  mem: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number }
}

/** The JSON of the hub's `sitehub ready` line. */
export type ReadyInfo = Endpoints

export interface BenchChild {
  proc: ChildProcess
  pid: number
  /** ms from spawn() to the ready line / ready message. */
  startupMs: number
  /** CPU (user+system, all threads) in microseconds: IPC probe when available, else /proc. */
  cpuMicros(): Promise<number>
  probe(opts?: { gc?: boolean }): Promise<ProbeReply>
  /** In-process V8 CPU profiler (bench/lib/probe.mjs): profile just a measured phase. */
  startProfile(): Promise<void>
  stopProfile(file: string): Promise<void>
  rss(): number
  stderrTail(): string
  stop(): Promise<number | null>
}

const probeUrl = pathToFileURL(join(repoRoot, 'bench', 'lib', 'probe.mjs')).href

function wrap (proc: ChildProcess, pid: number, startupMs: number, tail: string[]): BenchChild {
  let seq = 0
  const request = <T>(type: string, extra: Record<string, unknown> = {}): Promise<T> => new Promise((resolve, reject) => {
    if (!proc.connected) { reject(new Error('child has no IPC channel')); return }
    const id = ++seq
    const timer = setTimeout(() => { proc.off('message', onMsg); reject(new Error(`${type} timeout`)) }, 60_000)
    const onMsg = (m: unknown): void => {
      const msg = m as { type?: string; id?: number }
      if (msg?.type !== type || msg.id !== id) return
      clearTimeout(timer)
      proc.off('message', onMsg)
      resolve(msg as T)
    }
    proc.on('message', onMsg)
    proc.send({ type, id, ...extra })
  })
  const probe = (opts: { gc?: boolean } = {}): Promise<ProbeReply> => request<ProbeReply>('probe', { gc: opts.gc === true })
  const profileCall = async (type: string, extra: Record<string, unknown> = {}): Promise<void> => {
    const r = await request<{ ok: boolean; error?: string }>(type, extra)
    if (!r.ok) throw new Error(`${type}: ${r.error ?? 'failed'}`)
  }
  return {
    proc,
    pid,
    startupMs,
    async cpuMicros () {
      if (proc.connected && proc.pid === pid) {
        try {
          const r = await probe()
          return r.cpu.user + r.cpu.system
        } catch { /* fall back to /proc */ }
      }
      return procCpuMicros(pid)
    },
    probe,
    startProfile: () => profileCall('profile-start'),
    async stopProfile (file) {
      mkdirSync(dirname(file), { recursive: true })
      await profileCall('profile-stop', { file })
      log(`wrote ${file}`)
    },
    rss: () => procRss(pid).rss,
    stderrTail: () => tail.join(''),
    stop () {
      return new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) { resolve(proc.exitCode); return }
        const kill = setTimeout(() => { log('child did not exit on SIGTERM in 30 s, SIGKILL'); proc.kill('SIGKILL') }, 30_000)
        proc.once('exit', (code) => { clearTimeout(kill); resolve(code) })
        if (proc.connected) proc.disconnect()
        proc.kill('SIGTERM')
      })
    }
  }
}

function collectTail (proc: ChildProcess, tail: string[]): void {
  proc.stderr?.setEncoding('utf8')
  proc.stderr?.on('data', (d: string) => {
    tail.push(d)
    if (tail.length > 50) tail.shift()
    if (process.env['BENCH_CHILD_STDERR']) process.stderr.write(d)
  })
}

export interface HubChildOptions {
  dataDir: string
  hostName?: string
  bind?: string
  /** Directory for `node --cpu-prof` output, or null. */
  cpuProf?: string | null
  nodeArgs?: string[]
  readyTimeoutMs?: number
}

export interface HubChild extends BenchChild {
  ready: ReadyInfo
}

export async function startHubChild (opts: HubChildOptions): Promise<HubChild> {
  const bind = opts.bind ?? '127.0.0.1'
  const [mqttsPort, httpsPort, mqttPort] = [await freePort(bind), await freePort(bind), await freePort(bind)]
  const nodeArgs = [...(opts.nodeArgs ?? []), '--import', probeUrl]
  if (opts.cpuProf) {
    mkdirSync(opts.cpuProf, { recursive: true })
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`)
  }
  // BENCH_HUB_ENTRY=<file.ts> runs that script (through bin/run-ts.mjs) instead of the CLI, with
  // the same `serve ...` arguments: for trying the bench against a work-in-progress hub.
  const entry = process.env['BENCH_HUB_ENTRY']
  const cli = entry ? [join(repoRoot, 'bin', 'run-ts.mjs'), entry] : [join(repoRoot, 'bin', 'sitehub.mjs')]
  const args = [...nodeArgs, ...cli, 'serve',
    '--data-dir', opts.dataDir, '--host-name', opts.hostName ?? 'localhost', '--bind', bind,
    '--mqtts-port', String(mqttsPort), '--https-port', String(httpsPort), '--mqtt-port', String(mqttPort)]
  const t0 = performance.now()
  const proc = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const tail: string[] = []
  collectTail(proc, tail)
  const ready = await new Promise<ReadyInfo>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(() => fail(new Error(`hub not ready after ${opts.readyTimeoutMs ?? 600_000} ms`)), opts.readyTimeoutMs ?? 600_000)
    const fail = (err: Error): void => {
      clearTimeout(timer)
      proc.kill('SIGKILL')
      reject(new Error(`${err.message}\n--- hub stderr ---\n${tail.join('')}\n--- hub stdout ---\n${buf}`))
    }
    proc.once('exit', (code, sig) => fail(new Error(`hub exited early (code ${code}, signal ${sig})`)))
    proc.stdout?.setEncoding('utf8')
    proc.stdout?.on('data', (d: string) => {
      buf += d
      const m = /^sitehub ready (\{.*\})\s*$/m.exec(buf)
      if (!m) return
      clearTimeout(timer)
      proc.removeAllListeners('exit')
      try { resolve(JSON.parse(m[1] as string) as ReadyInfo) } catch (err) { reject(err as Error) }
    })
  })
  const startupMs = performance.now() - t0
  if (ready.pid !== proc.pid) log(`note: hub reports pid ${ready.pid}, spawned ${proc.pid}; CPU read from /proc/${ready.pid}`)
  return { ...wrap(proc, ready.pid, startupMs, tail), ready }
}

export interface AedesChild extends BenchChild {
  port: number
}

export async function startAedesChild (opts: { cpuProf?: string | null } = {}): Promise<AedesChild> {
  const nodeArgs = ['--import', probeUrl]
  if (opts.cpuProf) {
    mkdirSync(opts.cpuProf, { recursive: true })
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`)
  }
  const t0 = performance.now()
  const proc = spawn(process.execPath, [...nodeArgs, join(repoRoot, 'bench', 'lib', 'aedes-child.mjs')], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
  const tail: string[] = []
  collectTail(proc, tail)
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`aedes child exited (${code}): ${tail.join('')}`)))
    const onMsg = (m: unknown): void => {
      const msg = m as { type?: string; port?: number }
      if (msg?.type !== 'ready') return
      proc.off('message', onMsg)
      proc.removeAllListeners('exit')
      resolve(msg.port as number)
    }
    proc.on('message', onMsg)
  })
  return { ...wrap(proc, proc.pid as number, performance.now() - t0, tail), port }
}
