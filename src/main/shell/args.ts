// Command-line options of the desktop app: the same names and defaults as `sitehub serve`.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { HubConfig } from '../hub/services.js'

export interface DesktopArgs {
  dataDir: string | undefined
  hub: Omit<HubConfig, 'dataDir'>
}

function port (value: unknown, name: string, fallback: number): number {
  if (typeof value !== 'string') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number (0-65535), got "${value}"`)
  return n
}

/** `argv` is the user part of the command line. Unknown switches (Chromium's) are ignored. */
export function parseDesktopArgs (argv: string[]): DesktopArgs {
  const { values } = parseArgs({
    args: argv,
    strict: false,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      bind: { type: 'string' },
      'mqtts-port': { type: 'string' },
      'https-port': { type: 'string' },
      'mqtt-port': { type: 'string' }
    }
  })
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
  const dataDir = str(values['data-dir'])
  return {
    dataDir: dataDir === undefined ? undefined : resolve(dataDir),
    hub: {
      hostName: str(values['host']) ?? 'localhost',
      bind: str(values['bind']) ?? '0.0.0.0',
      mqttsPort: port(values['mqtts-port'], 'mqtts-port', 8883),
      httpsPort: port(values['https-port'], 'https-port', 443),
      mqttPort: typeof values['mqtt-port'] === 'string' ? port(values['mqtt-port'], 'mqtt-port', 1883) : null,
      role: 'edge'
    }
  }
}
