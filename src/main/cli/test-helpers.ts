// Runs the real `sitehub` bin as a child process, as users and other tools do.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/sitehub.mjs')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export function runCli (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 99
      resolvePromise({ code, stdout, stderr })
    })
  })
}

export async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sitehub-cli-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export interface Served {
  child: ChildProcess
  endpoints: Record<string, unknown>
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/** Starts `sitehub serve`, resolves on its ready line; stops it (SIGTERM) when the test ends. */
export function serve (args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => { r(code) }))
  onTestFinished(async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited } })
  return new Promise((resolvePromise, reject) => {
    child.stderr.on('data', (c: Buffer) => { err += c.toString() })
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const line = out.split('\n').find((l) => l.startsWith('sitehub ready '))
      if (line !== undefined) {
        resolvePromise({
          child, endpoints: JSON.parse(line.slice('sitehub ready '.length)) as Record<string, unknown>, stdout: () => out, stderr: () => err, exited
        })
      }
    })
    void exited.then((code) => { reject(new Error(`serve exited (${code}) before ready: ${err}`)) })
  })
}
