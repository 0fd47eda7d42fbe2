// The document snapshot (db.json), read and written through lowdb's TextFile adapter (steno:
// temp file + atomic rename). steno does not fsync, so we fsync the file and the directory
// ourselves, and keep the previous snapshot (db.prev.json, a hard link) until the new one is
// safely down.
import { link, rename, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { TextFile } from 'lowdb/node'
import { fsyncDir, fsyncPath, isCode } from './fs-util.js'
import { COLLECTIONS, SCHEMA_VERSION } from './migrations.js'

export type SnapshotRead =
  | { kind: 'missing' }
  | { kind: 'ok'; data: Record<string, unknown>; bytes: number }
  | { kind: 'corrupt'; reason: string }

export async function readSnapshot (path: string): Promise<SnapshotRead> {
  let text: string | null
  try {
    text = await new TextFile(path).read()
  } catch (err) {
    return { kind: 'corrupt', reason: (err as Error).message }
  }
  if (text === null) return { kind: 'missing' }
  try {
    const data: unknown = JSON.parse(text)
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return { kind: 'corrupt', reason: 'not a JSON object' }
    return { kind: 'ok', data: data as Record<string, unknown>, bytes: Buffer.byteLength(text) }
  } catch (err) {
    return { kind: 'corrupt', reason: `${(err as Error).message} (${text.length} chars)` }
  }
}

/** Moves an unreadable snapshot aside (never deletes it) and returns the new name. */
export async function setAside (path: string, now: number): Promise<string> {
  const aside = `${path}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`
  await rename(path, aside)
  return aside
}

/** Documents captured at the compaction cut: [id, doc] per collection. */
export type Capture = Record<string, Array<[string, unknown]>>

export interface SnapshotWriter {
  /** Writes the snapshot durably; returns its size in bytes. */
  write(capture: Capture, journalSeq: number, journalGen: number): Promise<number>
}

export function createSnapshotWriter (path: string, prevPath: string, fsync: boolean): SnapshotWriter {
  const adapter = new TextFile(path)
  return {
    async write (capture, journalSeq, journalGen) {
      const text = await serialize(capture, journalSeq, journalGen)
      await keepPrevious(path, prevPath)
      await adapter.write(text)
      if (fsync) { await fsyncPath(path); await fsyncDir(dirname(path)) }
      return (await stat(path)).size
    }
  }
}

async function keepPrevious (path: string, prevPath: string): Promise<void> {
  // Link to a temp name, then rename over the old prev: there is never a moment without a
  // readable previous snapshot. No db.json (set aside as corrupt): keep the prev we have.
  const tmp = `${prevPath}.tmp`
  await unlink(tmp).catch(() => {})
  try {
    await link(path, tmp)
  } catch (err) {
    if (isCode(err, 'ENOENT')) return
    throw err
  }
  await rename(tmp, prevPath)
}

const CHUNK = 2000

/**
 * One document per line, built in chunks with a yield between them: at 100,000 twins a single
 * JSON.stringify of the whole state would stall the event loop (and every MQTT client) for
 * about a second. Docs are immutable once put (the HubStore rule), so the captured references
 * stay consistent while we yield.
 */
async function serialize (capture: Capture, journalSeq: number, journalGen: number): Promise<string> {
  const parts: string[] = [`{"schemaVersion":${SCHEMA_VERSION},"journalSeq":${journalSeq},"journalGen":${journalGen},"collections":{`]
  for (const [ci, name] of COLLECTIONS.entries()) {
    parts.push(`${ci === 0 ? '' : ','}\n${JSON.stringify(name)}:{`)
    const docs = capture[name] ?? []
    for (let i = 0; i < docs.length; i += CHUNK) {
      const lines: string[] = []
      for (const [id, doc] of docs.slice(i, i + CHUNK)) lines.push(`${JSON.stringify(id)}:${JSON.stringify(doc)}`)
      parts.push((i === 0 ? '\n' : ',\n') + lines.join(',\n'))
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    parts.push('}')
  }
  parts.push('}}\n')
  return parts.join('')
}
