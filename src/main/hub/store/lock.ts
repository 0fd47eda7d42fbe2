// One process per data dir. The LOCK file holds the owner's pid and start time; a lock whose
// process is gone (killed, crashed) is stale and taken over, so a crash never blocks a restart.
import { readFile, unlink, writeFile } from 'node:fs/promises'
import { isCode } from './fs-util.js'

export interface DirLock {
  release(): Promise<void>
}

interface LockBody { pid: number; startedAt: number; host?: string }

const processStartedAt = (): number => Math.round(Date.now() - process.uptime() * 1000)

export async function acquireLock (path: string): Promise<DirLock> {
  const body: LockBody = { pid: process.pid, startedAt: processStartedAt() }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, JSON.stringify(body), { flag: 'wx' })
      return { release: async () => { await unlink(path).catch(() => {}) } }
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw err
    }
    const holder = await readHolder(path)
    if (holder !== null && isAlive(holder)) throw new Error(`data dir in use by pid ${holder.pid} (lock file ${path})`)
    // Stale (or unreadable: a crash while writing it). Remove and retry the exclusive create,
    // so two processes racing for a stale lock still end with one owner.
    await unlink(path).catch((err: unknown) => { if (!isCode(err, 'ENOENT')) throw err })
  }
  throw new Error(`could not take the lock ${path}`)
}

async function readHolder (path: string): Promise<LockBody | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockBody>
    if (typeof parsed.pid !== 'number') return null
    return { pid: parsed.pid, startedAt: typeof parsed.startedAt === 'number' ? parsed.startedAt : 0 }
  } catch {
    return null
  }
}

function isAlive (holder: LockBody): boolean {
  if (holder.pid === process.pid) {
    // Our own pid: either this process opened the store twice, or a previous container run
    // had the same pid (pid 1 in Docker). The start time tells them apart.
    return Math.abs(holder.startedAt - processStartedAt()) < 2000
  }
  try {
    process.kill(holder.pid, 0)
    return true
  } catch (err) {
    return isCode(err, 'EPERM') // exists but belongs to another user
  }
}
