// One configured port kept open: opens it, reports its bytes, and when it fails to open or
// disappears (cable pulled, socat gone) closes it, counts it and retries with backoff.
import { stat } from 'node:fs/promises'
import { SerialPort } from 'serialport'
import type { SerialPortConfig } from '../../serial/types.js'
import type { Logger } from '../../types.js'

/** What the link needs of a port: serialport's SerialPort, or SerialPortMock in framing tests. */
export interface SerialLike {
  readonly isOpen: boolean
  open(cb: (err: Error | null) => void): void
  close(cb?: (err: Error | null) => void): void
  /** `cb` runs once the bytes were handed to the OS (or the write failed). */
  write(buf: Buffer, cb?: (err: Error | null | undefined) => void): boolean
  /** Waits until written bytes have left (tcdrain). */
  drain?(cb: (err: Error | null) => void): void
  on(event: string, listener: (...args: any[]) => void): unknown
  removeAllListeners(event: string): unknown
}

export interface PortLinkEvents {
  onOpen(): void
  onData(chunk: Buffer): void
  /** The port closed or failed; `err` is null for a close the link asked for. */
  onDown(err: Error | null): void
  onRetry(retryAt: number, attempt: number): void
}

export interface PortLink {
  write(buf: Buffer): boolean
  isOpen(): boolean
  close(): Promise<void>
}

export interface BackoffOptions {
  initialMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 5_000 }

/**
 * How often an open port's device node is checked. A pulled USB adapter (or a socat pty pair
 * that went away) removes the node, but the open descriptor does not always report it: a read
 * can stay pending with no error, and the line would look open until the keep-alive gives up.
 */
const PATH_CHECK_MS = 1_000

/** How long close() waits for frames already written (the "bye") to leave; a stuck line must not block shutdown. */
const FLUSH_ON_CLOSE_MS = 2_000

export type PortFactory = (cfg: SerialPortConfig) => SerialLike

export const defaultPortFactory: PortFactory = (cfg) => new SerialPort({
  path: cfg.path, baudRate: cfg.baudRate, dataBits: cfg.dataBits, stopBits: cfg.stopBits, parity: cfg.parity, autoOpen: false
})

export function openPortLink (cfg: SerialPortConfig, ev: PortLinkEvents, opts: { log: Logger; backoff?: BackoffOptions; factory?: PortFactory }): PortLink {
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const factory = opts.factory ?? defaultPortFactory
  let port: SerialLike | null = null
  let closed = false
  let attempt = 0
  let timer: NodeJS.Timeout | null = null
  let watch: NodeJS.Timeout | null = null
  /** Settles when the latest write has been handed to the OS. */
  let lastWrite: Promise<void> = Promise.resolve()

  function retry (): void {
    if (closed || timer !== null) return
    // exponential backoff with jitter, capped: a pulled cable must not spin the CPU
    const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 16))
    const delay = Math.round(base * (0.75 + Math.random() * 0.5))
    attempt++
    ev.onRetry(Date.now() + delay, attempt)
    timer = setTimeout(() => { timer = null; open() }, delay)
    timer.unref()
  }

  /** While `p` is open: is its device node still there? (POSIX paths only: COM ports have none to stat.) */
  function watchPath (p: SerialLike): void {
    stopWatch()
    // only for real ports: a custom factory (SerialPortMock in tests) has no device node
    if (opts.factory !== undefined || !cfg.path.startsWith('/')) return
    watch = setInterval(() => {
      stat(cfg.path).then(() => {}, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' && port === p) down(p, new Error(`${cfg.path} is gone (device unplugged?)`))
      })
    }, PATH_CHECK_MS)
    watch.unref()
  }

  function stopWatch (): void {
    if (watch !== null) clearInterval(watch)
    watch = null
  }

  function down (p: SerialLike, err: Error | null): void {
    if (port !== p) return
    port = null
    stopWatch()
    p.removeAllListeners('data')
    // keep an error listener: a late 'error' on a dead port must not become an uncaught exception
    p.removeAllListeners('close')
    if (p.isOpen) p.close(() => {})
    ev.onDown(err)
    retry()
  }

  function open (): void {
    if (closed) return
    let p: SerialLike
    try {
      p = factory(cfg)
    } catch (err) {
      ev.onDown(err as Error)
      retry()
      return
    }
    port = p
    p.on('error', (err: Error) => { down(p, err) })
    p.on('close', (err: Error | null) => { down(p, err ?? new Error('port closed')) })
    p.on('data', (chunk: Buffer) => { ev.onData(chunk) })
    p.open((err: Error | null) => {
      if (port !== p) return
      if (err) { down(p, err); return }
      attempt = 0
      watchPath(p)
      ev.onOpen()
    })
  }

  open()
  return {
    write (buf) {
      const p = port
      if (p === null || !p.isOpen) return false
      lastWrite = new Promise<void>((resolve) => { p.write(buf, () => { resolve() }) })
      return true
    },
    isOpen: () => port?.isOpen === true,
    close () {
      closed = true
      stopWatch()
      if (timer !== null) clearTimeout(timer)
      timer = null
      const p = port
      port = null
      if (p === null) return Promise.resolve()
      p.removeAllListeners('data')
      p.removeAllListeners('close')
      // serialport's close() does not wait for writes in progress (they fail with EBADF): flush,
      // so that the "bye" of a hub shutting down or reconfiguring the port reaches the line
      const flushed = lastWrite.then(() => new Promise<void>((resolve) => {
        if (!p.isOpen || p.drain === undefined) { resolve(); return }
        p.drain(() => { resolve() })
      }))
      let t: NodeJS.Timeout | undefined
      const bounded = new Promise<void>((resolve) => { t = setTimeout(resolve, FLUSH_ON_CLOSE_MS) })
      return Promise.race([flushed, bounded]).then(() => new Promise<void>((resolve) => {
        clearTimeout(t)
        if (!p.isOpen) { resolve(); return }
        p.close(() => { resolve() })
      }))
    }
  }
}
