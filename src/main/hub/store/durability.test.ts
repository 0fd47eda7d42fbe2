// Crash safety of the durable store: SIGKILL mid-stream, torn tails, compaction under writes.
import { appendFile, readdir, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openStore } from './durable-store.js'
import { crashImage, runAndKill, tempDir } from './test-helpers.js'

const fixture = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url))

function checkAcked (lines: string[], has: (id: string) => boolean): number {
  let n = 0
  for (const line of lines) {
    const [kind, id] = line.split(' ')
    if (id === undefined) continue
    if (kind === 'ack') { expect(has(id), `acknowledged ${id} lost`).toBe(true); n++ }
    if (kind === 'batch') { expect(has(`${id}-a`) && has(`${id}-b`), `acknowledged batch ${id} lost`).toBe(true); n++ }
  }
  return n
}

describe('durable store: crashes', () => {
  it.each([
    ['no compaction', 64 * 1024 * 1024],
    ['compacting every 256 KiB', 256 * 1024]
  ])('every acknowledged write survives SIGKILL (%s)', async (_, compactAfter) => {
    const dir = await tempDir()
    const lines = await runAndKill(fixture, [dir, String(compactAfter)], 20_000, /^(ack|batch) /)
    const store = await openStore({ dir })
    try {
      const n = checkAcked(lines, (id) => store.has('meta', id))
      expect(n).toBeGreaterThanOrEqual(20_000)
      // Batches are atomic: never half of one, acknowledged or not.
      for (const [id] of store.entries('meta')) {
        if (id.endsWith('-a')) expect(store.has('meta', `${id.slice(0, -2)}-b`)).toBe(true)
      }
      console.log(`SIGKILL (${_}): ${n} acked writes checked, replayed ${store.recovery.replayed}, dropped ${store.recovery.droppedBytes} torn bytes`)
      expect(store.recovery.problems).toEqual([])
    } finally { await store.close() }
  })

  it('a torn or garbage tail is cut off and reported; data before it is intact', async () => {
    const dir = await tempDir()
    const store = await openStore({ dir })
    for (let i = 0; i < 100; i++) await store.put('meta', `k${i}`, { i })
    const image = await crashImage(dir)
    await store.close()
    const journal = (await readdir(join(image, 'store'))).filter((f) => f.startsWith('journal-')).sort().pop() as string
    const path = join(image, 'store', journal)
    const before = (await stat(path)).size
    // A partial frame header claiming 1000 bytes, then only 30 of them.
    const torn = Buffer.alloc(38, 0x41)
    torn.writeUInt32BE(1000, 4)
    await appendFile(path, torn)
    const reopened = await openStore({ dir: image })
    try {
      expect(reopened.size('meta')).toBe(100)
      expect(reopened.get('meta', 'k99')).toEqual({ i: 99 })
      expect(reopened.recovery.droppedBytes).toBe(38)
      expect(reopened.recovery.replayed).toBe(100)
      expect((await stat(path)).size).toBe(before)
      // Writes continue after recovery, seq continues.
      await reopened.put('meta', 'after', { ok: true })
    } finally { await reopened.close() }
    const again = await openStore({ dir: image })
    expect(again.get('meta', 'after')).toEqual({ ok: true })
    expect(again.recovery.droppedBytes).toBe(0)
    await again.close()
  })

  it('a corrupt record (bad checksum) at the tail is dropped', async () => {
    const dir = await tempDir()
    const store = await openStore({ dir })
    for (let i = 0; i < 10; i++) await store.put('meta', `k${i}`, { i })
    const image = await crashImage(dir)
    await store.close()
    const journal = (await readdir(join(image, 'store'))).filter((f) => f.startsWith('journal-')).sort().pop() as string
    const path = join(image, 'store', journal)
    const frame = Buffer.from('ABCD\u0000\u0000\u0000\u0004junk', 'latin1')
    await appendFile(path, frame)
    const reopened = await openStore({ dir: image })
    expect(reopened.size('meta')).toBe(10)
    expect(reopened.recovery.droppedBytes).toBe(frame.length)
    expect(reopened.recovery.problems.join(' ')).toMatch(/checksum/)
    await reopened.close()
  })

  it('compaction under 1,000 concurrent writers loses nothing; prints throughput', async () => {
    const dir = await tempDir()
    const store = await openStore({ dir, compactAfterBytes: 2 * 1024 * 1024 })
    const pad = 'y'.repeat(450)
    const perWriter = 20
    const t0 = performance.now()
    await Promise.all(Array.from({ length: 1000 }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) await store.put('twins', `w${w}`, { w, i, pad } as never)
    }))
    const secs = (performance.now() - t0) / 1000
    const s = store.stats()
    console.log(`durable store: ${Math.round(20_000 / secs)} writes/s (1000 concurrent writers, ~500 B docs, fsync on), ` +
      `${s.fsyncs} fsyncs, ${s.compactions} compactions`)
    expect(s.compactions).toBeGreaterThan(0)
    const image = await crashImage(dir)
    await store.close()
    for (const d of [dir, image]) {
      const reopened = await openStore({ dir: d })
      expect(reopened.size('twins')).toBe(1000)
      for (let w = 0; w < 1000; w++) expect((reopened.get('twins', `w${w}`) as unknown as { i: number }).i).toBe(perWriter - 1)
      await reopened.close()
    }
  })
})
