// Per-process CPU and memory, read from /proc (Linux) so that the measured process needs no
// cooperation. utime/stime are in clock ticks (USER_HZ, 100 on Linux): 10 ms resolution, which
// is fine for runs lasting seconds. Where the child runs bench/lib/probe.mjs, process.cpuUsage()
// over IPC gives microseconds too (see ChildProbe).
import { readFileSync } from 'node:fs'

const USER_HZ = 100

/** utime+stime of a process (all its threads), in microseconds. */
export function procCpuMicros (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may contain spaces; fields after the closing paren are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state), so utime (field 14) is rest[11], stime (15) is rest[12].
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  return ((utime + stime) * 1e6) / USER_HZ
}

/** Resident set size in bytes (VmRSS) and peak (VmHWM). */
export function procRss (pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)
    return m ? Number(m[1]) * 1024 : NaN
  }
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}
