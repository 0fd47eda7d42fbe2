// `sitehub serve`: the headless hub. One stdout line `sitehub ready {endpoints}` once every
// listener is up; logs on stderr and in DIR/logs/; SIGTERM/SIGINT close cleanly (exit 0).
import { mkdir, readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { choiceOpt, portOpt, stringOpt, type CommandSpec, type OptionValues } from '../args.js'
import { dataDirOf, dataDirOption } from '../common.js'
import { CliError, UsageError, describeSystemError } from '../errors.js'
import { DEFAULT_SETTINGS, writeServeSettings } from '../serve-config.js'
import type { HubConfig } from '../../hub/services.js'

const PATH = 'serve'
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/
const LEVELS = ['debug', 'info', 'warn', 'error'] as const

export function serveConfig (values: OptionValues): HubConfig {
  const hostName = stringOpt(values, 'host-name') ?? DEFAULT_SETTINGS.hostName
  if (!HOST_NAME.test(hostName) && isIP(hostName) === 0) {
    throw new UsageError(`--host-name must be a DNS name or an IP address, not '${hostName}'`, PATH)
  }
  const bind = stringOpt(values, 'bind') ?? DEFAULT_SETTINGS.bind
  if (isIP(bind) === 0) throw new UsageError(`--bind must be an IP address (0.0.0.0 for every interface), not '${bind}'`, PATH)
  return {
    dataDir: dataDirOf(values),
    hostName,
    bind,
    mqttsPort: portOpt(values, 'mqtts-port', PATH) ?? DEFAULT_SETTINGS.mqttsPort,
    httpsPort: portOpt(values, 'https-port', PATH) ?? DEFAULT_SETTINGS.httpsPort,
    mqttPort: portOpt(values, 'mqtt-port', PATH) ?? null,
    role: choiceOpt(values, 'role', ['edge', 'cloud'] as const, PATH) ?? DEFAULT_SETTINGS.role
  }
}

/** The technician UI's port when `--ui-port` is not given. */
export const DEFAULT_UI_PORT = 8090

const isLoopbackIp = (ip: string): boolean => ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip)

/**
 * `--ui-port N [--ui-bind IP]`: the browser UI, served from the built renderer (out/renderer).
 * On by default at 127.0.0.1:8090 (or on the hub's own --bind address when that is a loopback
 * address, so hubs on different 127.x addresses never clash); a default port that is taken
 * is skipped with a warning instead of failing the hub. `--ui-port off` turns it off.
 * A non-loopback --ui-bind (the LAN) serves HTTPS + WSS with the hub's certificate; sign-in
 * is always required once an account exists, and the first admin can only be created from
 * the hub machine (loopback) or with `sitehub account add`.
 */
/** `--audit-max-entries N`, `--audit-max-days N`: how much of the UI audit log is kept. */
function auditOption (values: OptionValues): { audit?: { maxEntries?: number; maxAgeDays?: number } } {
  const num = (name: string, max: number): number | undefined => {
    const v = stringOpt(values, name)
    if (v === undefined) return undefined
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}, not '${v}'`, PATH)
    return Number(v)
  }
  const maxEntries = num('audit-max-entries', 10_000_000)
  const maxAgeDays = num('audit-max-days', 36_500)
  if (maxEntries === undefined && maxAgeDays === undefined) return {}
  return { audit: { ...(maxEntries === undefined ? {} : { maxEntries }), ...(maxAgeDays === undefined ? {} : { maxAgeDays }) } }
}

function uiOption (values: OptionValues, config: HubConfig): { ui?: { port: number; bind: string; staticDir: string; optional?: boolean; auth?: { audit?: { maxEntries?: number; maxAgeDays?: number } } } } {
  const raw = stringOpt(values, 'ui-port')
  if (raw === 'off') return {}
  const port = raw === undefined ? DEFAULT_UI_PORT : raw === '0' ? 0 : portOpt(values, 'ui-port', PATH)
  if (port === undefined) return {}
  const bind = stringOpt(values, 'ui-bind') ?? (isLoopbackIp(config.bind) ? config.bind : '127.0.0.1')
  if (isIP(bind) === 0) throw new UsageError(`--ui-bind must be an IP address (0.0.0.0 for every interface), not '${bind}'`, PATH)
  const audit = auditOption(values)
  return {
    ui: {
      port, bind, staticDir: fileURLToPath(new URL('../../../../out/renderer', import.meta.url)), ...(raw === undefined ? { optional: true } : {}),
      ...(audit.audit === undefined ? {} : { auth: audit })
    }
  }
}

/** `--upstream CS [--upstream-ca FILE]`: the cloud hub to sync with (hub.sync.configure, persisted in the store). */
async function upstreamOption (values: OptionValues, config: HubConfig): Promise<{ connectionString: string; ca?: string } | undefined> {
  const cs = stringOpt(values, 'upstream')
  const caFile = stringOpt(values, 'upstream-ca')
  if (cs === undefined) {
    if (caFile !== undefined) throw new UsageError('--upstream-ca needs --upstream', PATH)
    return undefined
  }
  if (config.role === 'cloud') throw new UsageError('a cloud-role hub has no upstream: drop --upstream or use --role edge', PATH)
  if (!/HostName=/.test(cs) || !/SharedAccessKey=/.test(cs)) throw new UsageError('--upstream must be a service connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...)', PATH)
  if (caFile === undefined) return { connectionString: cs }
  try {
    return { connectionString: cs, ca: await readFile(caFile, 'utf8') }
  } catch (err) {
    throw new CliError(`cannot read --upstream-ca ${caFile}: ${describeSystemError(err) ?? (err as Error).message}`)
  }
}

function waitForSignal (): { promise: Promise<NodeJS.Signals>; dispose(): void } {
  let resolveSignal: (s: NodeJS.Signals) => void = () => {}
  const promise = new Promise<NodeJS.Signals>((resolve) => { resolveSignal = resolve })
  let received = false
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal while shutting down means "now": do not wait for a stuck close.
    if (received) process.exit(1)
    received = true
    resolveSignal(signal)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  return { promise, dispose: () => { process.off('SIGTERM', onSignal); process.off('SIGINT', onSignal) } }
}

export const serveCommand: CommandSpec = {
  path: PATH,
  summary: 'Run the hub (MQTT over TLS, HTTPS with MQTT over WebSocket) until stopped.',
  description: 'Prints one line "sitehub ready {...endpoints}" on stdout once every listener is up.\n' +
    'Logs go to stderr and to DIR/logs/sitehub.log. SIGTERM or SIGINT stop it cleanly.',
  options: {
    'data-dir': dataDirOption,
    'host-name': { type: 'string', value: 'NAME', description: 'host name devices and apps use (in the certificate and connection strings)', default: 'localhost' },
    bind: { type: 'string', value: 'IP', description: 'address to listen on', default: '0.0.0.0' },
    'mqtts-port': { type: 'string', value: 'N', description: 'MQTT over TLS port', default: '8883' },
    'https-port': { type: 'string', value: 'N', description: 'HTTPS port (REST API and MQTT over WebSocket)', default: '443' },
    'mqtt-port': { type: 'string', value: 'N', description: 'plain MQTT port, for LAN sensors that cannot do TLS', default: 'off' },
    role: { type: 'string', value: 'ROLE', description: 'edge (a site hub) or cloud (the hub edges sync with)', default: 'edge' },
    upstream: { type: 'string', value: 'CS', description: 'service connection string of the cloud hub to sync with (Azure IoT Hub or a Sitehub --role cloud; ' +
      'policy with RegistryRead, RegistryWrite, ServiceConnect). Kept in the store: a later serve without --upstream keeps syncing; ' +
      'change or turn it off in the UI (Cloud sync) without a restart. docs/sync.md' },
    'upstream-ca': { type: 'string', value: 'FILE', description: 'PEM CA that signed the cloud hub\'s certificate (default: the system CAs)' },
    'log-level': { type: 'string', value: 'LEVEL', description: 'debug, info, warn or error', default: 'info' },
    'ui-port': { type: 'string', value: 'N', description: 'technician UI in a browser at http://127.0.0.1:N/ (0 = any free port; off = no UI). A taken default port is skipped with a warning. ' +
      'Sign-in is required once an account exists (sitehub account add, or the first-run setup on the hub machine)', default: String(DEFAULT_UI_PORT) },
    'audit-max-entries': { type: 'string', value: 'N', description: 'UI audit log: keep the newest N entries', default: '20000' },
    'audit-max-days': { type: 'string', value: 'N', description: 'UI audit log: drop entries older than N days', default: '365' },
    'ui-bind': { type: 'string', value: 'IP', description: 'address of the technician UI. A loopback address serves plain HTTP; any other (the LAN, 0.0.0.0) serves only HTTPS + WSS ' +
      'with the hub\'s certificate (browsers must trust DIR/tls/ca.pem), and the first admin can then only be created from the hub machine or with sitehub account add', default: '--bind if loopback, else 127.0.0.1' }
  },
  examples: ['sitehub serve --data-dir /var/lib/sitehub --host-name hub.plant.local --bind 0.0.0.0',
    'sitehub serve --data-dir /var/lib/sitehub --host-name hub.plant.local --ui-bind 0.0.0.0   # UI on the LAN: https://hub.plant.local:8090/',
    'sitehub serve --data-dir /var/lib/sitehub --upstream "HostName=cloud.example;SharedAccessKeyName=iothubowner;SharedAccessKey=..." --upstream-ca /etc/sitehub/cloud-ca.pem'],
  async run ({ values, io }) {
    const config = serveConfig(values)
    const upstream = await upstreamOption(values, config)
    const ui = uiOption(values, config)
    const level = choiceOpt(values, 'log-level', LEVELS, PATH) ?? 'info'
    const signal = waitForSignal() // from the start: a stop during startup still ends cleanly
    try {
      await mkdir(config.dataDir, { recursive: true })
    } catch (err) {
      signal.dispose()
      throw new CliError(`cannot create the data directory ${config.dataDir}: ${describeSystemError(err) ?? (err as Error).message}`)
    }
    const [{ startServer }, { createLogger }] = await Promise.all([import('../../hub/server.js'), import('../../hub/logger.js')])
    const logger = createLogger({ level, file: join(config.dataDir, 'logs', 'sitehub.log') })
    let running: Awaited<ReturnType<typeof startServer>>
    try {
      running = await startServer({ config, logger, ...ui })
    } catch (err) {
      signal.dispose()
      logger.error('start failed', { error: (err as Error).message })
      logger.close()
      const plain = describeSystemError(err)
      throw new CliError(plain ?? `the hub could not start: ${(err as Error).message}`)
    }
    if (upstream !== undefined) {
      try {
        await running.hub.sync.configure(upstream)
      } catch (err) {
        signal.dispose()
        await running.close()
        logger.close()
        throw new CliError(`--upstream: ${(err as Error).message}`)
      }
    }
    await writeServeSettings(config).catch((err: Error) => { logger.warn('could not save serve.json', { error: err.message }) })
    io.out(`sitehub ready ${JSON.stringify(running.endpoints)}`)
    logger.info('hub ready', { ...running.endpoints })

    const received = await signal.promise
    logger.info('stopping', { signal: received })
    try {
      await running.close()
      logger.info('stopped')
      return 0
    } catch (err) {
      logger.error('shutdown failed', { error: (err as Error).message })
      return 1
    } finally {
      signal.dispose()
      logger.close()
    }
  }
}
