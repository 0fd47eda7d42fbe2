import { appendFile, copyFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runAndKill, tempDir } from '../store/test-helpers.js'
import type { HubEvents, TelemetryMessage } from '../types.js'
import { openTelemetryLog } from './log.js'
import type { TelemetryLogOptions } from './log.js'

const T0 = Date.parse('2024-05-01T00:00:00Z')

function msg (deviceId: string, i: number, at = T0, bodyBytes = 100, moduleId?: string): TelemetryMessage {
  const m: TelemetryMessage = {
    deviceId,
    systemProperties: { messageId: `${deviceId}-${i}`, contentType: 'application/json' },
    properties: { i: String(i), flag: null },
    body: Buffer.alloc(bodyBytes, i % 251),
    enqueuedTime: new Date(at).toISOString(),
    transport: 'mqtt'
  }
  if (moduleId !== undefined) m.moduleId = moduleId
  return m
}

async function open (dir: string, extra: Partial<TelemetryLogOptions> = {}): ReturnType<typeof openTelemetryLog> {
  // Messages are stamped T0; a clock at T0 keeps age retention out of tests that are not about it.
  return await openTelemetryLog({ dir, retentionIntervalMs: 0, clock: { now: () => T0 }, ...extra })
}

describe('telemetry log', () => {
  it('append, read from a cursor, per-device history', async () => {
    const dir = await tempDir()
    const log = await open(dir, { segmentBytes: 8192 })
    const seqs = await Promise.all(Array.from({ length: 300 }, async (_, i) =>
      await log.append(msg(i % 3 === 2 ? 'gw' : `d${i % 3}`, i, T0, 100, i % 3 === 2 ? 'mod' : undefined))))
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    const all = await log.read(1, 1000)
    expect(all.map((r) => r.seq)).toEqual(seqs)
    expect(all[5]).toMatchObject({ deviceId: 'gw', moduleId: 'mod', properties: { i: '5', flag: null }, systemProperties: { messageId: 'gw-5' } })
    expect(all[5]?.body.equals(Buffer.alloc(100, 5))).toBe(true)
    expect((await log.read(150, 10)).map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 150 + i))
    expect(await log.read(301, 10)).toEqual([])
    const h = await log.history('d1', 5)
    expect(h.map((r) => r.systemProperties['messageId'])).toEqual(['d1-286', 'd1-289', 'd1-292', 'd1-295', 'd1-298'])
    expect((await log.history('gw/mod', 2)).map((r) => r.seq)).toEqual([297, 300])
    expect(await log.history('nobody', 5)).toEqual([])
    expect(log.stats()).toMatchObject({ messages: 300, oldestSeq: 1, newestSeq: 300, droppedBySize: 0 })
    await log.close()
  })

  it('history deeper than the in-memory index falls back to a scan', async () => {
    const dir = await tempDir()
    const log = await open(dir, { segmentBytes: 8192 })
    for (let i = 0; i < 250; i++) await log.append(msg(i % 2 === 0 ? 'a' : 'b', i))
    const h = await log.history('a', 120)
    expect(h).toHaveLength(120)
    expect(h[h.length - 1]?.seq).toBe(249)
    expect(h[0]?.seq).toBe(249 - 2 * 119)
    await log.close()
  })

  it('retention by size drops whole oldest segments and counts exactly, per device, across restarts', async () => {
    const dir = await tempDir()
    const events: Array<HubEvents['telemetry.dropped']> = []
    const opts = { maxBytes: 64 * 1024, segmentBytes: 8192, onDrop: (e: HubEvents['telemetry.dropped']) => events.push(e) }
    let log = await open(dir, opts)
    const N = 1000
    for (let i = 0; i < N; i++) await log.append(msg(`d${i % 4}`, i))
    await log.retain()
    let s = log.stats()
    expect(s.droppedBySize).toBeGreaterThan(0)
    expect(s.bytes).toBeLessThanOrEqual(64 * 1024)
    expect(s.messages + s.droppedBySize).toBe(N)
    expect(s.oldestSeq).toBe(s.droppedBySize + 1)
    expect(Object.values(s.droppedPerDevice).reduce((a, b) => a + b, 0)).toBe(s.droppedBySize)
    expect(events.reduce((n, e) => n + e.count, 0)).toBe(s.droppedBySize)
    expect(events.every((e) => e.reason === 'size')).toBe(true)
    const remaining = await log.read(0, N)
    expect(remaining.map((r) => r.seq)).toEqual(Array.from({ length: s.messages }, (_, i) => s.droppedBySize + 1 + i))
    // Per device exactly: device k had seqs with (seq - 1) % 4 === k.
    for (let k = 0; k < 4; k++) {
      const dropped = Array.from({ length: s.droppedBySize }, (_, i) => i).filter((i) => i % 4 === k).length
      expect(s.droppedPerDevice[`d${k}`] ?? 0).toBe(dropped)
    }
    await log.close()
    log = await open(dir, opts)
    const again = log.stats()
    expect(again).toEqual(s)
    expect(await log.append(msg('d0', N))).toBe(N + 1)
    s = log.stats()
    await log.close()
  })

  it('a drop interrupted between counting and deleting is not counted twice', async () => {
    const dir = await tempDir()
    const opts = { maxBytes: 64 * 1024, segmentBytes: 8192 }
    const log = await open(dir, opts)
    const first = (): Promise<string> => readdir(dir).then((n) => n.filter((x) => x.startsWith('seg-')).sort()[0] as string)
    for (let i = 0; i < 400; i++) await log.append(msg('d', i))
    const name = await first()
    await copyFile(join(dir, name), join(dir, 'saved'))
    for (let i = 400; i < 1000; i++) await log.append(msg('d', i))
    await log.retain()
    const before = log.stats()
    await log.close()
    await copyFile(join(dir, 'saved'), join(dir, name)) // as if the crash came before the unlink
    const reopened = await open(dir, opts)
    expect(reopened.stats()).toEqual(before)
    expect(await first()).not.toBe(name)
    await reopened.close()
  })

  it('retention by age with a fake clock, including an idle active segment', async () => {
    const dir = await tempDir()
    let now = T0
    const clock = { now: () => now }
    const hour = 3600_000
    const log = await open(dir, { clock, maxAgeMs: 2 * hour, segmentBytes: 8192 })
    for (let i = 0; i < 200; i++) await log.append(msg(`d${i % 2}`, i, T0))
    now = T0 + hour
    for (let i = 200; i < 400; i++) await log.append(msg(`d${i % 2}`, i, now))
    now = T0 + 2.5 * hour
    await log.retain()
    let s = log.stats()
    expect(s.droppedByAge).toBeGreaterThan(100)
    expect(s.droppedByAge).toBeLessThanOrEqual(200) // only segments whose newest message is too old
    expect(s.messages + s.droppedByAge).toBe(400)
    expect(s.droppedPerDevice['d0']! + s.droppedPerDevice['d1']!).toBe(s.droppedByAge)
    now = T0 + 10 * hour
    await log.retain()
    s = log.stats()
    expect(s).toMatchObject({ messages: 0, droppedByAge: 400, droppedBySize: 0, oldestSeq: null })
    expect(await log.append(msg('d0', 400, now))).toBe(401) // seq never reused
    await log.close()
    const reopened = await open(dir, { clock, maxAgeMs: 2 * hour })
    expect(reopened.stats()).toMatchObject({ messages: 1, droppedByAge: 400, oldestSeq: 401 })
    expect(await reopened.append(msg('d0', 401, now))).toBe(402)
    await reopened.close()
  })

  it('restart: seq continues, history is rebuilt', async () => {
    const dir = await tempDir()
    let log = await open(dir, { segmentBytes: 8192 })
    for (let i = 0; i < 150; i++) await log.append(msg('d', i))
    await log.close()
    log = await open(dir, { segmentBytes: 8192 })
    expect(log.recovery).toMatchObject({ messages: 150, droppedBytes: 0, problems: [] })
    expect((await log.history('d', 3)).map((r) => r.seq)).toEqual([148, 149, 150])
    expect(await log.append(msg('d', 150))).toBe(151)
    expect((await log.read(149, 10)).map((r) => r.seq)).toEqual([149, 150, 151])
    await log.close()
  })

  it('a torn tail is truncated on open and seq continues after the last good record', async () => {
    const dir = await tempDir()
    let log = await open(dir)
    for (let i = 0; i < 20; i++) await log.append(msg('d', i))
    await log.close()
    const seg = (await readdir(dir)).filter((n) => n.startsWith('seg-')).sort().pop() as string
    const torn = Buffer.alloc(50, 7)
    torn.writeUInt32BE(500, 4)
    await appendFile(join(dir, seg), torn)
    log = await open(dir)
    expect(log.recovery.droppedBytes).toBe(50)
    expect(log.recovery.problems).toEqual([])
    expect(await log.append(msg('d', 20))).toBe(21)
    expect((await log.read(1, 100)).map((r) => r.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1))
    await log.close()
  })

  it('every acknowledged append survives SIGKILL', async () => {
    const dir = await tempDir()
    const fixture = fileURLToPath(new URL('./crash-appender.fixture.ts', import.meta.url))
    const lines = await runAndKill(fixture, [dir], 10_000, /^ack /)
    const log = await open(dir)
    const all = new Map((await log.read(0, 1e9)).map((r) => [r.seq, r]))
    let n = 0
    for (const line of lines) {
      const [kind, seq, dev, i] = line.split(' ')
      if (kind !== 'ack') continue
      const r = all.get(Number(seq))
      expect(r, `acked seq ${String(seq)} lost`).toBeDefined()
      expect(r?.deviceId).toBe(dev)
      expect(r?.properties['i']).toBe(i)
      n++
    }
    expect(n).toBeGreaterThanOrEqual(10_000)
    const seqs = [...all.keys()]
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1)) // contiguous
    console.log(`telemetry SIGKILL: ${n} acked appends checked, ${all.size} stored, ${log.recovery.droppedBytes} torn bytes dropped`)
    await log.close()
  })

  it('throughput sanity (printed, not asserted)', async () => {
    const dir = await tempDir()
    const log = await open(dir)
    const devices = 500
    const perDevice = 40
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await Promise.all(Array.from({ length: devices }, async (_, d) => {
      for (let i = 0; i < perDevice; i++) await log.append(msg(`dev${d}`, i, T0, 200))
    }))
    const secs = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const n = devices * perDevice
    console.log(`telemetry: ${Math.round(n / secs)} appends/s (500 concurrent devices, 200 B bodies, fsync on), ` +
      `${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU per append`)
    expect(log.stats().messages).toBe(n)
    await log.close()
  })
})
