// Shared helpers for the benchmarks: argument parsing, JSON-line output, percentiles, ports,
// temporary directories. Everything human-readable goes to stderr; stdout carries only the
// one-JSON-object-per-line results.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface BenchArgs {
  quick: boolean
  /** Run the hub child under `node --cpu-prof`, writing profiles to this directory. */
  cpuProf: string | null
  keep: boolean
  /** Free-form `--name=value` overrides (e.g. --devices=100 --messages=10000). */
  values: Map<string, string>
}

/**
 * The script's own arguments: whatever follows the .ts entry in process.argv. Works whether
 * bin/run-ts.mjs leaves argv as [node, run-ts.mjs, entry, ...args] or rewrites it to
 * [node, entry, ...args].
 */
function scriptArgs (): string[] {
  const i = process.argv.findIndex((a, k) => k > 0 && /\.[mc]?ts$/.test(a))
  return process.argv.slice(i >= 0 ? i + 1 : 2)
}

export function parseArgs (argv: string[] = scriptArgs()): BenchArgs {
  const values = new Map<string, string>()
  let quick = false
  let keep = false
  let cpuProf: string | null = null
  for (const a of argv) {
    if (a === '--quick') quick = true
    else if (a === '--keep') keep = true
    else if (a.startsWith('--cpu-prof')) cpuProf = resolve(a.includes('=') ? a.slice(a.indexOf('=') + 1) : 'bench/profiles')
    else if (a.startsWith('--') && a.includes('=')) values.set(a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1))
  }
  return { quick, keep, cpuProf, values }
}

export function num (args: BenchArgs, name: string, full: number, quick: number): number {
  const v = args.values.get(name)
  if (v !== undefined) return Number(v)
  return args.quick ? quick : full
}

export function emit (result: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(result) + '\n')
}

export function log (...parts: unknown[]): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${parts.map(String).join(' ')}\n`)
}

export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx] as number
}

export function latencySummary (samplesMs: number[]): { n: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number; meanMs: number } {
  const s = [...samplesMs].sort((a, b) => a - b)
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)
  return {
    n: s.length,
    p50Ms: round(percentile(s, 50), 3),
    p90Ms: round(percentile(s, 90), 3),
    p99Ms: round(percentile(s, 99), 3),
    maxMs: round(s[s.length - 1] ?? NaN, 3),
    meanMs: round(mean, 3)
  }
}

export function round (x: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export function freePort (host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export function tempDir (prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sitehub-bench-${prefix}-`))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Run `fn` over items with at most `limit` promises in flight. */
export async function pool<T, R> (items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** True when this module is the script started by bin/run-ts.mjs (so each bench runs alone). */
export function isMain (metaUrl: string): boolean {
  const self = fileURLToPath(metaUrl)
  return process.argv.slice(1, 3).some((a) => resolve(a) === self)
}

export function machine (): { node: string; cpus: number; cpuModel: string; memGB: number; loadavg1m: number } {
  const c = cpus()
  return { node: process.version, cpus: c.length, cpuModel: c[0]?.model ?? 'unknown', memGB: round(totalmem() / 2 ** 30, 1), loadavg1m: round(loadavg()[0] ?? 0, 2) }
}

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}
