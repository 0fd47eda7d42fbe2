// Child process for the durability test: many concurrent writers, prints every acknowledged
// write, and is SIGKILLed by the parent mid-stream. Usage: node --import tsx <this> <dataDir> <compactAfterBytes>
import { openStore } from './durable-store.js'

const [dir, compactArg] = process.argv.slice(2)
if (dir === undefined) throw new Error('usage: crash-writer <dir> [compactAfterBytes]')
const store = await openStore({ dir, compactAfterBytes: Number(compactArg ?? 64 * 1024 * 1024) })
const pad = 'x'.repeat(450)
let out: string[] = []
// Print in chunks: one write(2) per ack would dominate the run.
setInterval(() => { if (out.length > 0) { process.stdout.write(out.join('')); out = [] } }, 5).unref()
process.stdout.write('ready\n')

async function writer (w: number): Promise<void> {
  for (let i = 0; ; i++) {
    const id = `w${w}-${i}`
    if (i % 5 === 4) {
      // A batch: both docs or neither may survive, never one of them.
      await store.batch([{ op: 'put', c: 'meta', id: `${id}-a`, doc: { pad } }, { op: 'put', c: 'meta', id: `${id}-b`, doc: { pad } }])
      out.push(`batch ${id}\n`)
    } else {
      await store.put('meta', id, { w, i, pad })
      out.push(`ack ${id}\n`)
    }
  }
}
await Promise.all(Array.from({ length: 1000 }, async (_, w) => { await writer(w) }))
