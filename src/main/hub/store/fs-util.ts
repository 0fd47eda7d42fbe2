// Small fsync helpers. Node's writeFile/rename never fsync; durability needs the file AND its
// directory entry flushed (a renamed or created file can vanish on power loss otherwise).
import { open, rename, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export async function fsyncPath (path: string): Promise<void> {
  const fh = await open(path, 'r')
  try { await fh.sync() } finally { await fh.close() }
}

/** fsync a directory so that creates, renames and unlinks inside it are durable. */
export async function fsyncDir (dir: string): Promise<void> {
  try {
    await fsyncPath(dir)
  } catch (err) {
    // Some platforms (Windows) cannot open a directory for fsync; there rename is already durable enough.
    if (!isCode(err, 'EISDIR') && !isCode(err, 'EPERM') && !isCode(err, 'EINVAL')) throw err
  }
}

/** Write to a temp file, fsync it, rename over `path`, fsync the directory. */
export async function writeFileAtomic (path: string, data: string | Buffer, fsync = true): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`)
  await writeFile(tmp, data)
  if (fsync) await fsyncPath(tmp)
  await rename(tmp, path)
  if (fsync) await fsyncDir(dirname(path))
}

export function isCode (err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code
}
