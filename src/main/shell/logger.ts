// JSON-lines logger for the desktop process: <dataDir>/logs/desktop.log, echoed to stderr.
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../hub/types.js'

export function createFileLogger (logsDir: string): Logger & { close(): void } {
  const stream = createWriteStream(join(logsDir, 'desktop.log'), { flags: 'a' })
  stream.on('error', err => { console.error('[sitehub] log file error:', err.message) })
  const write = (level: string) => (msg: string, data?: Record<string, unknown>): void => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...data })
    stream.write(line + '\n')
    if (level !== 'debug') console.error(line)
  }
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    close: () => { stream.end() }
  }
}
