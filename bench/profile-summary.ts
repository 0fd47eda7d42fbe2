// Summarise a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --cpu-prof`):
//   node bin/run-ts.mjs bench/profile-summary.ts <file.cpuprofile> [top=25]
// Prints the top functions by self time and the self time per source file (repo-relative),
// plus the inclusive time of src/main/hub files (time spent in or below them).
import { readFileSync } from 'node:fs'

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const rest = process.argv.slice(process.argv.findIndex((a, k) => k > 0 && /\.[mc]?ts$/.test(a)) + 1)
const file = rest[0]
const top = Number(rest[1] ?? 25)
if (!file) {
  console.error('usage: node bin/run-ts.mjs bench/profile-summary.ts <file.cpuprofile> [top]')
  process.exit(2)
}
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const self = new Map<number, number>()
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)))
// Percentages are of busy time: idle samples are reported once and left out of the rest.
// Samples under bench/lib/probe.mjs are the profiler's own start/stop: left out as well.
let idle = 0
let probe = 0
const underProbe = (id: number): boolean => {
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (byId.get(cur)?.callFrame.url.endsWith('bench/lib/probe.mjs')) return true
  return false
}
for (const [id, us] of self) {
  if (byId.get(id)?.callFrame.functionName === '(idle)') { idle += us; self.delete(id) } else if (underProbe(id)) { probe += us; self.delete(id) }
}
const total = [...self.values()].reduce((a, b) => a + b, 0)

const short = (url: string): string => {
  const u = url.replace(/^file:\/\//, '')
  const i = u.indexOf('/node_modules/')
  if (i >= 0) return u.slice(i + 1)
  const j = u.indexOf('/src/')
  if (j >= 0) return u.slice(j + 1)
  return u || '(native/vm)'
}
const pct = (us: number): string => `${((100 * us) / total).toFixed(1)}%`

const fnSelf = new Map<string, number>()
const fileSelf = new Map<string, number>()
const fileIncl = new Map<string, number>()
for (const [id, us] of self) {
  const n = byId.get(id)
  if (!n) continue
  const cf = n.callFrame
  const key = `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}`
  fnSelf.set(key, (fnSelf.get(key) ?? 0) + us)
  fileSelf.set(short(cf.url), (fileSelf.get(short(cf.url)) ?? 0) + us)
  // inclusive per file: charge each distinct file on the stack once
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = short(byId.get(cur)?.callFrame.url ?? '')
    if (f.startsWith('src/') && !seen.has(f)) { seen.add(f); fileIncl.set(f, (fileIncl.get(f) ?? 0) + us) }
  }
}
const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1])
console.log(`profile ${file}: ${(total / 1000).toFixed(0)} ms busy + ${(idle / 1000).toFixed(0)} ms idle (+ ${(probe / 1000).toFixed(0)} ms profiler start/stop) over ${((prof.endTime - prof.startTime) / 1000).toFixed(0)} ms (percentages of busy time)`)
console.log('\n-- top functions by self time --')
for (const [k, us] of sorted(fnSelf).slice(0, top)) console.log(`${pct(us).padStart(6)}  ${k}`)
console.log('\n-- self time by file --')
for (const [k, us] of sorted(fileSelf).slice(0, top)) console.log(`${pct(us).padStart(6)}  ${k}`)
console.log('\n-- inclusive time of hub source files --')
for (const [k, us] of sorted(fileIncl).slice(0, top)) console.log(`${pct(us).padStart(6)}  ${k}`)
