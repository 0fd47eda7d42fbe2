// Integration-test harness: a hub as a child process (the real CLI) or in-process (startServer),
// each on its own loopback IP with a fresh data dir, plus small waiting helpers.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import type { Hub, HubConfig } from '../../src/main/hub/services.js'
import type { Endpoints, RunningHub } from '../../src/main/hub/server.js'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CLI = join(REPO_ROOT, 'bin', 'sitehub.mjs')

/** Registers a cleanup step. Defaults to `onTestFinished`; suites pass `CleanupStack.defer`. */
export type Defer = (fn: () => unknown) => void

/** Cleanup steps for suite-scoped resources (beforeAll): run in reverse order from afterAll. */
export class CleanupStack {
  private readonly steps: Array<() => unknown> = []
  readonly defer: Defer = (fn) => { this.steps.push(fn) }
  async run (): Promise<void> {
    const errors: unknown[] = []
    for (const step of this.steps.splice(0).reverse()) {
      try { await step() } catch (err) { errors.push(err) }
    }
    if (errors.length > 0) throw errors[0]
  }
}

const defaultDefer: Defer = (fn) => { onTestFinished(async () => { await fn() }) }

const rand = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1))

/** A random loopback address 127.<20-250>.<0-255>.<1-254>: fixed ports per hub without collisions. */
export function randomLoopback (): string {
  return `127.${rand(20, 250)}.${rand(0, 255)}.${rand(1, 254)}`
}

/** A unique id for devices, messages etc. */
export function uid (prefix = 'dev'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

/**
 * Polls `fn` until it returns something truthy (or resolves to it), for conditions no event
 * announces. Throws with `what` and the last error when the deadline passes.
 */
export async function waitFor<T> (fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition', intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let lastErr: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v as NonNullable<T>
    } catch (err) {
      lastErr = err
    }
    if (Date.now() >= deadline) {
      const detail = lastErr instanceof Error ? `: last error ${lastErr.message}` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`)
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** Resolves with the first event payload matching `pred`; rejects after timeoutMs. */
export function nextEvent<T> (
  on: (listener: (payload: T) => void) => () => void,
  pred: (payload: T) => boolean = () => true,
  timeoutMs = 15_000,
  what = 'event'
): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const off = on((payload) => {
      if (!pred(payload)) return
      clearTimeout(timer)
      off()
      resolvePromise(payload)
    })
    const timer = setTimeout(() => { off(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }, timeoutMs)
  })
}

/** A fresh mkdtemp data dir, removed at cleanup. */
export async function tempDataDir (defer: Defer = defaultDefer, prefix = 'sitehub-it-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  defer(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export interface HubOptions {
  /** Loopback IP to bind; random by default. */
  bind?: string
  /** Host name (put in connection strings, covered by the server certificate); defaults to the bind IP. */
  hostName?: string
  /** Existing data dir; a fresh one by default. */
  dataDir?: string
  mqttsPort?: number
  httpsPort?: number
  /** Plain MQTT listener: true = 1883, a number = that port; off by default. */
  mqttPort?: boolean | number
  defer?: Defer
}

function resolved (opts: HubOptions): { bind: string; hostName: string; mqttsPort: number; httpsPort: number; mqttPort: number | null } {
  const bind = opts.bind ?? randomLoopback()
  return {
    bind,
    hostName: opts.hostName ?? bind,
    mqttsPort: opts.mqttsPort ?? 8883,
    httpsPort: opts.httpsPort ?? 443,
    mqttPort: opts.mqttPort === true ? 1883 : typeof opts.mqttPort === 'number' ? opts.mqttPort : null
  }
}

// ---------------------------------------------------------------------------------------------
// Child process hub

/** The JSON of the `sitehub ready` line. */
export type ReadyInfo = Endpoints

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface HubProcess {
  readonly dataDir: string
  readonly bind: string
  readonly hostName: string
  /** The latest ready line. */
  readonly ready: ReadyInfo
  readonly caFile: string
  readonly child: ChildProcess
  /** Everything the current (and previous) processes wrote to stderr, for diagnostics. */
  stderr(): string
  stdout(): string
  /** Sends `signal` (SIGTERM by default) and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Starts the hub again on the same data dir, IP and ports (stops the running one first, with SIGTERM). */
  restart(): Promise<ReadyInfo>
  /** `sitehub device add <id>`; resolves with the device connection string. */
  addDevice(id: string, extraArgs?: string[]): Promise<string>
  /** Runs any CLI command with `--data-dir` of this hub appended. */
  cli(args: string[]): Promise<CliResult>
  readonly alive: boolean
}

/** Runs `node bin/sitehub.mjs ...args` to completion. */
export function runCli (args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT, timeout: opts.timeoutMs ?? 30_000, env: { ...process.env, ...opts.env }, maxBuffer: 16 * 1024 * 1024
    }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null
      resolvePromise({
        code: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
        signal: e?.signal ?? null,
        stdout: String(stdout),
        stderr: String(stderr)
      })
    })
  })
}

/** Finds the device connection string in CLI output. */
export function connectionStringIn (text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const m = /(HostName=[^\s]+)/.exec(line)
    if (m?.[1] !== undefined) return m[1]
  }
  return undefined
}

export async function startHubProcess (opts: HubOptions & { readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<HubProcess> {
  const defer = opts.defer ?? defaultDefer
  const r = resolved(opts)
  const dataDir = opts.dataDir ?? await tempDataDir(defer)
  let errText = ''
  let outText = ''
  let child!: ChildProcess
  let ready!: ReadyInfo
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: 0, signal: null })
  let alive = false

  const args = [
    CLI, 'serve', '--data-dir', dataDir, '--host-name', r.hostName, '--bind', r.bind,
    '--mqtts-port', String(r.mqttsPort), '--https-port', String(r.httpsPort),
    ...(r.mqttPort === null ? [] : ['--mqtt-port', String(r.mqttPort)])
  ]

  const spawnOnce = (): Promise<ReadyInfo> => new Promise<ReadyInfo>((resolvePromise, reject) => {
    const c = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } })
    child = c
    alive = true
    let settled = false
    const timeoutMs = opts.readyTimeoutMs ?? 45_000
    const timer = setTimeout(() => {
      if (settled) return
      settled = true
      c.kill('SIGKILL')
      reject(new Error(`hub did not print a ready line within ${timeoutMs} ms.\nstdout:\n${outText}\nstderr:\n${errText}`))
    }, timeoutMs)
    exited = new Promise((res) => {
      c.once('exit', (code, signal) => {
        alive = false
        clearTimeout(timer)
        if (!settled) {
          settled = true
          reject(new Error(`hub exited (code ${code}, signal ${signal}) before it was ready.\nstdout:\n${outText}\nstderr:\n${errText}`))
        }
        res({ code, signal })
      })
    })
    c.stderr?.setEncoding('utf8')
    c.stderr?.on('data', (chunk: string) => { errText += chunk })
    const lines = createInterface({ input: c.stdout! })
    lines.on('line', (line) => {
      outText += line + '\n'
      const m = /^sitehub ready (\{.*\})\s*$/.exec(line)
      if (m?.[1] === undefined || settled) return
      try {
        const info = JSON.parse(m[1]) as ReadyInfo
        settled = true
        clearTimeout(timer)
        resolvePromise(info)
      } catch (err) {
        settled = true
        clearTimeout(timer)
        reject(new Error(`unparsable ready line: ${line} (${(err as Error).message})`))
      }
    })
  })

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (alive) child.kill(signal)
    return await exited
  }

  ready = await spawnOnce()
  // Registered right after the process exists (the data dir's cleanup was registered first, so runs last).
  defer(async () => {
    if (!alive) return
    child.kill('SIGTERM')
    const t = setTimeout(() => { if (alive) child.kill('SIGKILL') }, 10_000)
    await exited
    clearTimeout(t)
  })

  const cli = (a: string[]): Promise<CliResult> => runCli([...a, '--data-dir', dataDir])

  const proc: HubProcess = {
    dataDir,
    bind: r.bind,
    hostName: r.hostName,
    get ready () { return ready },
    get caFile () { return ready.caFile },
    get child () { return child },
    get alive () { return alive },
    stderr: () => errText,
    stdout: () => outText,
    kill,
    async restart () {
      await kill('SIGTERM')
      errText += '\n--- restart ---\n'
      ready = await spawnOnce()
      return ready
    },
    async addDevice (id, extraArgs = []) {
      const res = await cli(['device', 'add', id, ...extraArgs])
      const cs = connectionStringIn(res.stdout)
      if (res.code !== 0 || cs === undefined) {
        throw new Error(`sitehub device add ${id} failed (code ${res.code}).\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`)
      }
      return cs
    },
    cli
  }
  return proc
}

// ---------------------------------------------------------------------------------------------
// In-process hub

export interface InProcessHub {
  /** The current hub (changes after restart()). */
  readonly hub: Hub
  readonly endpoints: Endpoints
  readonly config: HubConfig
  readonly dataDir: string
  readonly bind: string
  readonly hostName: string
  readonly caFile: string
  /** CA certificate (PEM) clients must trust. */
  ca(): Promise<string>
  close(): Promise<void>
  /** close() then startServer() again on the same data dir, IP and ports. */
  restart(): Promise<void>
  /** Registers a SAS device and returns its connection string. */
  addDevice(id: string): Promise<string>
}

export async function startHubInProcess (opts: HubOptions = {}): Promise<InProcessHub> {
  const defer = opts.defer ?? defaultDefer
  const r = resolved(opts)
  const dataDir = opts.dataDir ?? await tempDataDir(defer)
  const config: HubConfig = {
    dataDir, hostName: r.hostName, bind: r.bind, mqttsPort: r.mqttsPort, httpsPort: r.httpsPort, mqttPort: r.mqttPort, role: 'edge'
  }
  // Imported lazily so that a broken server module fails the tests that need it, not the whole file.
  const { startServer } = await import('../../src/main/hub/server.js')
  let running: RunningHub | null = await startServer({ config })
  let last: RunningHub = running
  defer(async () => { if (running !== null) { const r0 = running; running = null; await r0.close() } })

  const self: InProcessHub = {
    get hub () { return last.hub },
    get endpoints () { return last.endpoints },
    config,
    dataDir,
    bind: r.bind,
    hostName: r.hostName,
    get caFile () { return last.endpoints.caFile },
    ca: () => readFile(last.endpoints.caFile, 'utf8'),
    async close () {
      if (running === null) return
      const r0 = running
      running = null
      await r0.close()
    },
    async restart () {
      await self.close()
      running = await startServer({ config })
      last = running
    },
    async addDevice (id) {
      await last.hub.registry.create({ deviceId: id })
      return last.hub.registry.deviceConnectionString({ deviceId: id })
    }
  }
  return self
}
