// A small JSON-lines logger to stderr and, optionally, a file. No dependencies.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { dirname } from 'node:path'
import type { Logger } from './types.js'

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const
export type LogLevel = keyof typeof LEVELS

export function createLogger (opts: { level?: LogLevel; file?: string; stderr?: boolean } = {}): Logger & { close(): void } {
  const min = LEVELS[opts.level ?? (process.env['SITEHUB_LOG_LEVEL'] as LogLevel | undefined) ?? 'info'] ?? LEVELS.info
  let file: WriteStream | undefined
  if (opts.file !== undefined) {
    mkdirSync(dirname(opts.file), { recursive: true })
    file = createWriteStream(opts.file, { flags: 'a' })
  }
  const out = (level: LogLevel, msg: string, data?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return
    const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...data }) + '\n'
    if (opts.stderr !== false) process.stderr.write(line)
    file?.write(line)
  }
  return {
    debug: (m, d) => out('debug', m, d),
    info: (m, d) => out('info', m, d),
    warn: (m, d) => out('warn', m, d),
    error: (m, d) => out('error', m, d),
    close: () => file?.end()
  }
}

export const silentLogger: Logger = { debug () {}, info () {}, warn () {}, error () {} }
