// Running external command-line clients (mosquitto_pub / mosquitto_sub) to completion.
import { spawn, type ChildProcess } from 'node:child_process'
import type { Defer } from './hub.js'

export interface ProcResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface RunningProc {
  child: ChildProcess
  /** Output so far. */
  stdout(): string
  stderr(): string
  done: Promise<ProcResult>
}

/** Starts a command; `done` resolves when it exits (it is killed after `killAfterMs`). */
export function startProc (cmd: string, args: string[], opts: { killAfterMs?: number; defer?: Defer } = {}): RunningProc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8')
  child.stderr?.setEncoding('utf8')
  child.stdout?.on('data', (c: string) => { out += c })
  child.stderr?.on('data', (c: string) => { err += c })
  let exited = false
  const killer = setTimeout(() => { if (!exited) child.kill('SIGKILL') }, opts.killAfterMs ?? 60_000)
  const done = new Promise<ProcResult>((resolve) => {
    child.once('error', (e) => { err += `spawn error: ${e.message}\n` })
    child.once('close', (code, signal) => {
      exited = true
      clearTimeout(killer)
      resolve({ code, signal, stdout: out, stderr: err })
    })
  })
  opts.defer?.(async () => { if (!exited) { child.kill('SIGKILL'); await done } })
  return { child, stdout: () => out, stderr: () => err, done }
}

export async function runProc (cmd: string, args: string[], opts: { killAfterMs?: number; defer?: Defer } = {}): Promise<ProcResult> {
  return await startProc(cmd, args, opts).done
}
