// Serial test harness: socat pty pairs (Debian socat), a hub on a fresh data dir with the
// serial transport, and a registered device with its key.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHub } from '../../src/main/hub/index.js'
import type { Hub } from '../../src/main/hub/services.js'
import { createSerialTransport, type SerialTransport, type SerialTransportOptions } from '../../src/main/hub/transports/serial/index.js'
import type { Defer } from '../helpers/hub.js'

export async function tmpDir (defer: Defer, prefix = 'sitehub-serial-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  defer(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export interface PtyPair {
  /** The hub's end and the device's end. */
  readonly a: string
  readonly b: string
  /** Kills socat: both ends disappear (a pulled cable). */
  stop(): Promise<void>
  /** Starts socat again on the same link paths. */
  start(): Promise<void>
}

async function until<T> (cond: () => T | Promise<T>, ms: number, what: string): Promise<NonNullable<T>> {
  const end = Date.now() + ms
  for (;;) {
    const v = await cond()
    if (v) return v as NonNullable<T>
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** `socat -d -d pty,raw,echo=0,link=DIR/ttyA pty,raw,echo=0,link=DIR/ttyB` */
export async function ptyPair (dir: string, defer: Defer, name = 'tty'): Promise<PtyPair> {
  const a = join(dir, `${name}A`)
  const b = join(dir, `${name}B`)
  let proc: ChildProcess | null = null
  const pair: PtyPair = {
    a,
    b,
    async start () {
      const p = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] })
      proc = p
      let log = ''
      p.stderr?.on('data', (d: Buffer) => { log += d.toString() })
      await until(() => /starting data transfer loop/.test(log) && existsSync(a) && existsSync(b), 5000, `socat pty pair (${log})`)
    },
    async stop () {
      const p = proc
      proc = null
      if (p === null || p.exitCode !== null) return
      const exited = new Promise((resolve) => p.once('exit', resolve))
      p.kill('SIGTERM')
      await exited
      await until(() => !existsSync(a) && !existsSync(b), 3000, 'socat links removed')
    }
  }
  await pair.start()
  defer(() => pair.stop())
  return pair
}

export interface SerialHub {
  hub: Hub
  transport: SerialTransport
  dataDir: string
}

export async function startSerialHub (defer: Defer, opts: SerialTransportOptions = {}): Promise<SerialHub> {
  const dataDir = await tmpDir(defer, 'sitehub-serial-hub-')
  const hub = await createHub({
    config: { dataDir, hostName: 'serial.test', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role: 'edge' },
    fsync: false
  })
  const transport = createSerialTransport(hub, { backoff: { initialMs: 50, maxMs: 400 }, ...opts })
  defer(async () => { await transport.close(); await hub.close() })
  return { hub, transport, dataDir }
}

/** Registers a SAS device; returns its primary key. */
export async function addDevice (hub: Hub, deviceId: string): Promise<string> {
  const doc = await hub.registry.create({ deviceId })
  return doc.authentication.symmetricKey.primaryKey ?? ''
}

export { until }
