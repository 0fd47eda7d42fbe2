// Test helpers for the store and the telemetry log: temp dirs, crash images, killable children.
import { spawn } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

export async function tempDir (prefix = 'sitehub-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/**
 * A copy of a live data dir as a crash would leave it (everything flushed is there, the LOCK
 * belongs to a process that is "gone"): lets a test crash a store without killing itself.
 */
export async function crashImage (dir: string): Promise<string> {
  // A background compaction may delete a journal between the copy's listing and its read
  // (ENOENT): that copy is torn in a way no real crash leaves, so take it again.
  for (let attempt = 1; ; attempt++) {
    const copy = await tempDir('sitehub-crash-')
    try {
      await cp(dir, copy, { recursive: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10) throw err
      continue
    }
    await rm(join(copy, 'store', 'LOCK'), { force: true })
    return copy
  }
}

/**
 * Runs a fixture script in a child process, collects its stdout lines, and SIGKILLs it once
 * `killAfter` lines matching `count` were printed. Resolves with every line printed.
 */
export async function runAndKill (script: string, args: string[], killAfter: number, count: RegExp): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let seen = 0
  let rest = ''
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  return await new Promise<string[]>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const parts = (rest + d.toString()).split('\n')
      rest = parts.pop() ?? ''
      for (const line of parts) {
        lines.push(line)
        if (count.test(line) && ++seen === killAfter) child.kill('SIGKILL')
      }
    })
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lines)
      else reject(new Error(`child exited (${String(code)}) before it was killed: ${stderr}`))
    })
  })
}
