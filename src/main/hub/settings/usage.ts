// How much disk the whole data dir takes: the store (journal + snapshots), the telemetry log,
// the firmware library and everything else (TLS files, Modbus profiles, logs), plus the free
// space of the file system it lives on. Apparent sizes (what `ls -l` shows), symlinks not followed.
import { lstat, readdir, statfs } from 'node:fs/promises'
import { join } from 'node:path'

export interface DataDirUsage {
  /** Bytes of every file under the data dir. */
  usedBytes: number
  parts: { store: number; telemetry: number; firmware: number; other: number }
  /** Free bytes of the file system holding the data dir (null where statfs is unavailable). */
  diskFreeBytes: number | null
  /** Size of that file system. */
  diskTotalBytes: number | null
  files: number
}

const PARTS: Record<string, keyof DataDirUsage['parts']> = { store: 'store', telemetry: 'telemetry', firmware: 'firmware' }

async function sizeOf (path: string, count: { files: number }): Promise<number> {
  let st
  try { st = await lstat(path) } catch { return 0 } // removed while we walked (retention, compaction)
  if (st.isFile()) { count.files++; return st.size }
  if (!st.isDirectory()) return 0
  let names: string[]
  try { names = await readdir(path) } catch { return 0 }
  let total = 0
  for (const n of names) total += await sizeOf(join(path, n), count)
  return total
}

export async function measureDataDir (dir: string): Promise<DataDirUsage> {
  const parts = { store: 0, telemetry: 0, firmware: 0, other: 0 }
  const count = { files: 0 }
  let names: string[] = []
  try { names = await readdir(dir) } catch { /* a missing dir uses nothing */ }
  for (const n of names) parts[PARTS[n] ?? 'other'] += await sizeOf(join(dir, n), count)
  let diskFreeBytes: number | null = null
  let diskTotalBytes: number | null = null
  try {
    const fs = await statfs(dir)
    diskFreeBytes = fs.bavail * fs.bsize
    diskTotalBytes = fs.blocks * fs.bsize
  } catch { /* not every platform has statfs */ }
  return { usedBytes: parts.store + parts.telemetry + parts.firmware + parts.other, parts, diskFreeBytes, diskTotalBytes, files: count.files }
}
