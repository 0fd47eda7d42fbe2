// Child process for the telemetry durability test: 200 concurrent appenders printing every
// acknowledged seq; the parent SIGKILLs it mid-stream. Usage: node --import tsx <this> <dir>
import { openTelemetryLog } from './log.js'

const [dir] = process.argv.slice(2)
if (dir === undefined) throw new Error('usage: crash-appender <dir>')
const log = await openTelemetryLog({ dir, segmentBytes: 256 * 1024 })
let out: string[] = []
setInterval(() => { if (out.length > 0) { process.stdout.write(out.join('')); out = [] } }, 5).unref()

async function device (d: number): Promise<void> {
  for (let i = 0; ; i++) {
    const body = Buffer.alloc(200, d % 256)
    const seq = await log.append({ deviceId: `dev${d}`, systemProperties: { messageId: `${d}-${i}` }, properties: { i: String(i) }, body, enqueuedTime: new Date().toISOString(), transport: 'mqtt' })
    out.push(`ack ${seq} dev${d} ${i}\n`)
  }
}
await Promise.all(Array.from({ length: 200 }, async (_, d) => { await device(d) }))
