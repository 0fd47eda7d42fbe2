// An append-only file with group commit: every append() issued while a write+fdatasync is in
// flight joins the next single write+fdatasync. Each append's promise resolves only once its
// bytes are on disk, so callers may acknowledge when it resolves. Shared by the store journal
// and the telemetry log.
import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fsyncDir } from './fs-util.js'

export interface AppendFileOptions {
  path: string
  /** fdatasync before resolving (default true). Off only for tests and throwaway data. */
  fsync?: boolean
  /** Create a new file (fails if it exists) starting with this frame; else open an existing one. */
  header?: Buffer
  /** When reopening: the length of the valid prefix to append after. */
  existingSize?: number
}

export interface AppendFile {
  readonly path: string
  /** Bytes appended so far, durable or not. */
  readonly size: number
  /** Bytes known to be on disk; readers must not look past this. */
  readonly durableSize: number
  /** Number of write+fdatasync rounds (one per group commit). */
  readonly commits: number
  /** Resolves when `frame` (and everything before it) is durable. */
  append(frame: Buffer): Promise<void>
  /** Resolves when everything appended so far is durable; rejects if the file is broken. */
  drain(): Promise<void>
  close(): Promise<void>
}

interface Batch { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void }

function newBatch (): Batch {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

export function openAppendFile (opts: AppendFileOptions): AppendFile {
  const fsync = opts.fsync ?? true
  let fh: FileHandle | null = null
  let pending: Buffer[] = []
  let pendingBytes = 0
  // One promise per group commit rather than one per append: cheaper on the hot path.
  let next: Batch | null = null
  let inflight: Promise<void> | null = null
  let writePos = opts.header?.length ?? opts.existingSize ?? 0
  let size = writePos
  let durable = opts.header !== undefined ? 0 : writePos
  let commits = 0
  let broken: Error | null = null
  let closed = false

  const ready = (async () => {
    if (opts.header !== undefined) {
      fh = await open(opts.path, 'wx')
      await writeAll(fh, opts.header, 0)
      if (fsync) { await fh.datasync(); await fsyncDir(dirname(opts.path)) }
      durable = opts.header.length
    } else {
      fh = await open(opts.path, 'r+')
      // Cut any torn bytes the caller found past the valid prefix before appending after it.
      await fh.truncate(writePos)
    }
  })()
  ready.catch(() => {}) // reported to the first append through flushLoop

  async function flushLoop (): Promise<void> {
    try {
      await ready
    } catch (err) {
      broken = err as Error
    }
    while (pending.length > 0) {
      const bufs = pending
      const bytes = pendingBytes
      const batch = next as Batch
      pending = []
      pendingBytes = 0
      next = null
      if (broken !== null) { batch.reject(broken); continue }
      try {
        const handle = fh as FileHandle
        await writeAll(handle, bufs.length === 1 ? bufs[0] as Buffer : Buffer.concat(bufs, bytes), writePos)
        if (fsync) await handle.datasync()
        writePos += bytes
        durable = writePos
        commits++
        batch.resolve()
      } catch (err) {
        size -= bytes
        // Never leave a half-written batch between good frames: a reader stops at the first bad
        // frame, which would hide every later acknowledged write. Cut back, or stop writing.
        try { await (fh as FileHandle).truncate(writePos) } catch { broken = err as Error }
        batch.reject(err as Error)
      }
    }
    inflight = null
  }

  return {
    path: opts.path,
    get size () { return size },
    get durableSize () { return durable },
    get commits () { return commits },
    append (frame) {
      if (closed) return Promise.reject(new Error(`append to closed file ${opts.path}`))
      if (broken !== null) return Promise.reject(broken)
      pending.push(frame)
      pendingBytes += frame.length
      size += frame.length
      next ??= newBatch()
      const p = next.promise
      inflight ??= flushLoop()
      return p
    },
    async drain () {
      if (next !== null) await next.promise
      else if (inflight !== null) await inflight
      else await ready
      if (broken !== null) throw broken
    },
    async close () {
      if (closed) return
      try { await this.drain() } catch { /* already reported to the writers */ }
      closed = true
      try { await ready } catch { return }
      await (fh as FileHandle).close()
    }
  }
}

async function writeAll (fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let off = 0
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, position + off)
    if (bytesWritten === 0) throw new Error('short write (disk full?)')
    off += bytesWritten
  }
}
