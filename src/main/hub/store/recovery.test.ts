// Recovery rules: corrupt snapshots, schema versions, the data dir lock.
import { spawnSync } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openStore } from './durable-store.js'
import { encodeHeader, encodeRecord, journalPath } from './journal.js'
import { tempDir } from './test-helpers.js'

async function twoGenerations (dir: string): Promise<void> {
  // Two closes = two snapshots (db.json and db.prev.json), plus journals since the older one.
  let s = await openStore({ dir })
  await s.put('meta', 'first', { n: 1 })
  await s.close()
  s = await openStore({ dir })
  await s.put('meta', 'second', { n: 2 })
  await s.close()
}

describe('durable store: recovery', () => {
  it('a corrupt snapshot is kept aside and the previous snapshot + journals recover everything', async () => {
    const dir = await tempDir()
    await twoGenerations(dir)
    await writeFile(join(dir, 'store', 'db.json'), '{"schemaVersion":1,"collections":{"meta":{"fir')
    const s = await openStore({ dir })
    try {
      expect(s.get('meta', 'first')).toEqual({ n: 1 })
      expect(s.get('meta', 'second')).toEqual({ n: 2 })
      expect(s.recovery.problems.join('\n')).toMatch(/db\.json is unreadable.*kept as db\.json\.corrupt-/)
      expect((await readdir(join(dir, 'store'))).some((f) => f.startsWith('db.json.corrupt-'))).toBe(true)
    } finally { await s.close() }
    // It wrote a fresh snapshot at once: the next open is clean.
    const again = await openStore({ dir })
    expect(again.recovery.problems).toEqual([])
    expect(again.get('meta', 'second')).toEqual({ n: 2 })
    await again.close()
  })

  it('with both snapshots unreadable it starts from the journals and says what is lost', async () => {
    const dir = await tempDir()
    await twoGenerations(dir)
    await writeFile(join(dir, 'store', 'db.json'), 'garbage')
    await writeFile(join(dir, 'store', 'db.prev.json'), 'garbage')
    const s = await openStore({ dir })
    expect(s.recovery.problems.join('\n')).toMatch(/no readable snapshot/)
    expect(s.get('meta', 'second')).toEqual({ n: 2 }) // still in the kept journal
    await s.close()
  })

  it('migrates a v0 (pre-release) data dir and rewrites it as v1', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'store'), { recursive: true })
    await writeFile(join(dir, 'store', 'db.json'), JSON.stringify({ devices: {}, meta: { changeFeed: { seq: 7 } } }))
    const s = await openStore({ dir })
    expect(s.recovery.fromSchemaVersion).toBe(0)
    expect(s.recovery.schemaVersion).toBe(1)
    expect(s.get('meta', 'changeFeed')).toEqual({ seq: 7 })
    await s.close()
    const onDisk = JSON.parse(await readFile(join(dir, 'store', 'db.json'), 'utf8')) as { schemaVersion: number }
    expect(onDisk.schemaVersion).toBe(1)
  })

  it('refuses a snapshot from a newer schema, with a plain message, and leaves it alone', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'store'), { recursive: true })
    const text = JSON.stringify({ schemaVersion: 99, journalSeq: 0, collections: {} })
    await writeFile(join(dir, 'store', 'db.json'), text)
    await expect(openStore({ dir })).rejects.toThrow(/schema v99.*only knows up to v1/)
    expect(await readFile(join(dir, 'store', 'db.json'), 'utf8')).toBe(text)
    // The lock was released: a fixed build could open it.
    await writeFile(join(dir, 'store', 'db.json'), JSON.stringify({ schemaVersion: 1, journalSeq: 0, collections: {} }))
    await (await openStore({ dir })).close()
  })

  it('refuses a journal from a newer schema', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'store'), { recursive: true })
    await writeFile(journalPath(join(dir, 'store'), 0), Buffer.concat([encodeHeader(0, 2, Date.now()), encodeRecord(1, [])]))
    await expect(openStore({ dir })).rejects.toThrow(/schema v2/)
  })

  it('replays a v0 journal through the op migrations', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'store'), { recursive: true })
    await writeFile(journalPath(join(dir, 'store'), 0), Buffer.concat([
      encodeHeader(0, 0, Date.now()),
      encodeRecord(1, [{ op: 'put', c: 'meta', id: 'x', doc: { v: 1 } }])
    ]))
    const s = await openStore({ dir })
    expect(s.get('meta', 'x')).toEqual({ v: 1 })
    expect(s.recovery.replayed).toBe(1)
    await s.close()
  })

  it('one process per data dir; a stale lock does not block start', async () => {
    const dir = await tempDir()
    const s = await openStore({ dir })
    await expect(openStore({ dir })).rejects.toThrow(`data dir in use by pid ${process.pid}`)
    await s.close()
    // A lock left by a process that no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    await writeFile(join(dir, 'store', 'LOCK'), JSON.stringify({ pid: Number(dead), startedAt: 0 }))
    const t = await openStore({ dir })
    await t.close()
    await writeFile(join(dir, 'store', 'LOCK'), 'half-writ')
    await (await openStore({ dir })).close()
  })
})
