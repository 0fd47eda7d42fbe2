// Two-hub sync harness: a cloud-role hub and an edge hub on their own loopback IPs, a
// test-controlled TCP proxy between them (the cloud's public address), and helpers.
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { CLI, REPO_ROOT } from '../helpers/hub.js'
import { startServer, type RunningHub } from '../../src/main/hub/server.js'
import type { SyncOptions } from '../../src/main/hub/sync/service.js'
import { randomLoopbackIp } from '../support/service-hub.js'

export const FAST_SYNC: SyncOptions = { heartbeatMs: 500, failuresToOffline: 2, minBackoffMs: 200, maxBackoffMs: 1500, requestTimeoutMs: 2000, resyncMs: 1500, deviceKeepaliveSeconds: 2 }

export function testCa (): string {
  const caDir = process.env['SITEHUB_TEST_CA_DIR']
  if (caDir === undefined) throw new Error('test/support/global-setup.ts did not run')
  return readFileSync(join(caDir, 'tls', 'ca.pem'), 'utf8')
}

export interface TestHub {
  ip: string
  dataDir: string
  running: RunningHub
  restart(): Promise<void>
  stop(): Promise<void>
  close(): Promise<void>
}

/** A hub bound to `ip`; `hostName` is its public name (the cloud's is the proxy address). */
export async function startTestHub (opts: { role: 'edge' | 'cloud'; ip?: string; hostName?: string; sync?: SyncOptions; dataDir?: string; telemetry?: { maxBytes?: number; maxAgeMs?: number } }): Promise<TestHub> {
  const caDir = process.env['SITEHUB_TEST_CA_DIR'] as string
  const ip = opts.ip ?? randomLoopbackIp()
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `sitehub-sync-${opts.role}-`))
  mkdirSync(join(dataDir, 'tls'), { recursive: true })
  for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(caDir, 'tls', f), join(dataDir, 'tls', f))
  const config = { dataDir, hostName: opts.hostName ?? ip, bind: ip, mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: opts.role }
  const start = async (): Promise<RunningHub> => await startServer({ config, fsync: false, ...(opts.sync === undefined ? {} : { sync: opts.sync }), ...(opts.telemetry === undefined ? {} : { telemetry: opts.telemetry }) })
  let running: RunningHub | null = await start()
  const self: TestHub = {
    ip,
    dataDir,
    get running () { if (running === null) throw new Error('hub stopped'); return running },
    async stop () { if (running !== null) { const r = running; running = null; await r.close() } },
    async restart () { await self.stop(); running = await start() },
    async close () {
      await self.stop()
      if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true })
    }
  }
  return self
}

/** A TCP proxy on `ip` for the given ports, forwarding to `target`. pause() black-holes every byte. */
export interface Proxy {
  ip: string
  paused: boolean
  pause(): void
  resume(): void
  close(): Promise<void>
}

export async function startProxy (target: string, ports: number[], ip = randomLoopbackIp()): Promise<Proxy> {
  const servers: Server[] = []
  const pairs = new Set<{ a: Socket; b: Socket | null }>()
  const self: Proxy = {
    ip,
    paused: false,
    pause () {
      self.paused = true
      for (const p of pairs) { p.a.pause(); p.b?.pause() } // held open, silent: a dead link, not a refusal
    },
    resume () {
      self.paused = false
      for (const p of pairs) { p.a.destroy(); p.b?.destroy() }
      pairs.clear()
    },
    async close () {
      self.resume()
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
    }
  }
  for (const port of ports) {
    const server = createServer((a) => {
      const pair: { a: Socket; b: Socket | null } = { a, b: null }
      pairs.add(pair)
      a.on('error', () => {})
      a.on('close', () => { pair.b?.destroy(); pairs.delete(pair) })
      if (self.paused) { a.pause(); return }
      const b = connect(port, target)
      pair.b = b
      b.on('error', () => { a.destroy() })
      b.on('close', () => { a.destroy() })
      a.pipe(b)
      b.pipe(a)
    })
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, ip, () => resolve()) })
    servers.push(server)
  }
  return self
}

/**
 * A cloud-role hub on its own loopback IP that edges reach through a test proxy (which the
 * test pauses to cut the link); `cloudCs` reaches the cloud directly, never through the proxy
 * (for back ends on the official SDK). Both close with `defer`.
 */
export async function startCloudBehindProxy (defer: (fn: () => unknown) => void): Promise<{ cloud: TestHub; proxy: Proxy; cloudCs: string }> {
  const cloudIp = randomLoopbackIp()
  const proxyIp = randomLoopbackIp()
  const cloud = await startTestHub({ role: 'cloud', ip: cloudIp, hostName: proxyIp })
  defer(() => cloud.close())
  const proxy = await startProxy(cloudIp, [443, 8883], proxyIp)
  defer(() => proxy.close())
  const key = cloud.running.hub.registry.policies.get('iothubowner')?.primaryKey ?? ''
  return { cloud, proxy, cloudCs: `HostName=${cloudIp};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}` }
}

export async function waitFor<T> (what: string, fn: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined && v !== null && v !== false) return v as NonNullable<T>
    } catch (err) { last = err }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${(last as Error).message}`}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** `sitehub serve ...args` as a child process; resolves once it printed its ready line. */
export function serve (args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`edge did not start: ${err}`)) }, 45_000)
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('sitehub ready ')) { clearTimeout(t); resolve(child) }
    })
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`edge exited ${String(code)}: ${err}`)) })
  })
}
/** SIGKILL (if still running) and wait for the exit. */
export const killed = (c: ChildProcess): Promise<void> => new Promise((resolve) => {
  if (c.exitCode !== null || c.signalCode !== null) { resolve(); return }
  c.once('exit', () => resolve())
  c.kill('SIGKILL')
})
