// `npm run bench [-- --quick] [-- --cpu-prof[=dir]]`: every benchmark in turn, one JSON line per
// measurement on stdout (progress on stderr). A failing benchmark prints
// {bench, error, pass:false} and the others still run. Each benchmark also runs alone, e.g.
// `node bin/run-ts.mjs bench/telemetry.ts --quick`.
import { emit, log, parseArgs } from './lib/common.js'
import { runMemory } from './memory.js'
import { runMethods } from './methods.js'
import { runTelemetry } from './telemetry.js'
import { runTwinPatch } from './twin-patch.js'

const args = parseArgs()
const only = args.values.get('only')?.split(',')
const benches: Array<[string, (a: typeof args) => Promise<unknown>]> = [
  ['telemetry', runTelemetry],
  ['twin-patch', runTwinPatch],
  ['methods', runMethods],
  ['query', async (a) => await (await import('./query.js')).runQuery(a)],
  ['memory', runMemory],
  ['ui-table', async () => await (await import('./ui-table.js')).runUiTable()]
]
let failed = 0
for (const [name, run] of benches) {
  if (only && !only.includes(name)) continue
  try {
    await run(args)
  } catch (err) {
    failed++
    log(`${name} failed: ${(err as Error).stack ?? String(err)}`)
    emit({ bench: name, error: (err as Error).message.split('\n')[0], pass: false })
  }
}
// mqtt.js / SDK sockets that a failed bench left open must not keep the run alive.
process.exit(failed ? 1 : 0)
