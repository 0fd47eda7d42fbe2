// `sitehub simulate`: a fleet of simulated field devices (src/main/sim) against a running hub.
// A thin wrapper: provision, start the fleet, print a live status line, stop cleanly on a signal.
import { readFile } from 'node:fs/promises'
import { choiceOpt, stringOpt, type CommandSpec, type OptionValues } from '../args.js'
import { dataDirOf, dataDirOption } from '../common.js'
import { CliError, UsageError } from '../errors.js'
import { runSerialSimulation, serialSimulateOptions } from './simulate-serial.js'

const PATH = 'simulate'

/** The --serial mode's own options (its --connection-string is the shared one above), marked as such in help. */
const serialOnlyOptions = Object.fromEntries(Object.entries(serialSimulateOptions)
  .filter(([name]) => name !== 'connection-string')
  .map(([name, o]) => [name, name === 'serial' ? o : { ...o, description: `(--serial) ${o.description}` }]))

function numberOpt (values: OptionValues, name: string, min: number, max: number, integer: boolean): number | undefined {
  const raw = stringOpt(values, name)
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got '${raw}')`, PATH)
  }
  return n
}

export const simulateCommand: CommandSpec = {
  path: PATH,
  summary: 'Run simulated field devices (official device SDK) against a hub: the demo and the load generator.',
  description: [
    'Creates the devices PREFIX1..PREFIXN if they do not exist, connects them over MQTT/TLS and keeps',
    'them running until Ctrl-C (or --duration). Each device reports its capabilities and state, handles',
    'the reboot, factoryReset and firmwareUpdate direct methods, acknowledges desired `config` the IoT',
    'Plug and Play way and sends telemetry. A one-line status (connected, messages sent) goes to stderr.',
    'With --data-dir the hub running there is used through its admin socket and its CA is trusted;',
    'with --connection-string (a service policy) any IoT Hub-dialect hub is used. See docs/simulator.md.',
    'With --serial PATH it runs one serial device instead (the options of `sitehub simulate-serial`).'
  ].join('\n'),
  options: {
    devices: { type: 'string', short: 'n', value: 'N', description: 'how many devices (1-100000)' },
    'data-dir': dataDirOption,
    'connection-string': { type: 'string', value: 'CS', description: 'service connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...) instead of --data-dir; with --serial, the device\'s connection string' },
    ca: { type: 'string', value: 'FILE', description: 'CA certificate (PEM) to trust; default the data dir\'s tls/ca.pem' },
    prefix: { type: 'string', value: 'PREFIX', description: 'device id prefix', default: 'sim-' },
    rate: { type: 'string', value: 'SECONDS', description: 'seconds between telemetry messages per device (0 = none)', default: '10' },
    duration: { type: 'string', value: 'SECONDS', description: 'stop after this long (default: run until Ctrl-C)' },
    transport: { type: 'string', value: 'mqtt|ws', description: 'MQTT over TLS (8883) or MQTT over WebSocket (443)', default: 'mqtt' },
    concurrency: { type: 'string', value: 'N', description: 'devices connecting at the same time', default: '25' },
    firmware: { type: 'string', value: 'VERSION', description: 'factory firmware version the devices report', default: '1.0.0' },
    ...serialOnlyOptions
  },
  examples: [
    'sitehub simulate --devices 20',
    'sitehub simulate --devices 500 --rate 1 --data-dir ./hub',
    'sitehub simulate -n 5 --duration 60 --connection-string "HostName=hub.local;SharedAccessKeyName=iothubowner;SharedAccessKey=..." --ca ca.pem'
  ],
  async run ({ values, io }) {
    if (stringOpt(values, 'serial') !== undefined) return await runSerialSimulation(values, io, PATH)
    const count = numberOpt(values, 'devices', 1, 100_000, true)
    if (count === undefined) throw new UsageError('missing --devices N', PATH)
    const rate = numberOpt(values, 'rate', 0, 86_400, false) ?? 10
    if (rate !== 0 && rate < 0.1) throw new UsageError('--rate must be 0 (no telemetry) or at least 0.1 seconds', PATH)
    const duration = numberOpt(values, 'duration', 0.1, 7 * 86_400, false)
    const concurrency = numberOpt(values, 'concurrency', 1, 1000, true) ?? 25
    const transport = choiceOpt(values, 'transport', ['mqtt', 'ws'] as const, PATH) ?? 'mqtt'
    const prefix = stringOpt(values, 'prefix') ?? 'sim-'
    const serviceCs = stringOpt(values, 'connection-string')
    const caFile = stringOpt(values, 'ca')
    if (serviceCs !== undefined && stringOpt(values, 'data-dir') !== undefined) throw new UsageError('give either --data-dir or --connection-string, not both', PATH)

    const [{ fleetIds, provisionViaAdmin, provisionViaService }, { createFleet }, { HubNotRunningError }] = await Promise.all([
      import('../../sim/provision.js'), import('../../sim/fleet.js'), import('../../hub/admin/client.js')
    ])
    const ids = fleetIds(prefix, count)
    const ca = caFile === undefined ? undefined : await readFile(caFile, 'utf8')
    let provisioned
    if (serviceCs !== undefined) {
      provisioned = await provisionViaService(serviceCs, ids, ca)
    } else {
      const dataDir = dataDirOf(values)
      provisioned = await provisionViaAdmin(dataDir, ids).catch((err: unknown) => {
        if (err instanceof HubNotRunningError) {
          throw new CliError(`no hub is running with data dir ${dataDir}; start one first ('sitehub serve --data-dir ${dataDir}'), or pass --connection-string`)
        }
        throw err
      })
      if (ca !== undefined) provisioned.ca = ca
    }
    io.err(`sitehub simulate: ${count} device(s) ${prefix}1..${prefix}${count} (${provisioned.created} created), telemetry every ${rate}s; Ctrl-C stops`)

    const fleet = createFleet({
      connectionStrings: provisioned.connectionStrings, transport, concurrency, telemetryRateSeconds: rate,
      factoryFirmware: stringOpt(values, 'firmware') ?? '1.0.0', ...(provisioned.ca === undefined ? {} : { ca: provisioned.ca })
    })
    const tty = process.stderr.isTTY === true
    const line = (): string => {
      const s = fleet.stats()
      return `sitehub simulate: ${s.connected}/${s.devices} connected, ${s.messagesSent} messages sent, ${s.methodCalls} method calls, ${s.errors} errors` +
        (s.failedToStart > 0 ? `, ${s.failedToStart} failed to start` : '')
    }
    // A live line on a terminal; a plain line every few seconds when stderr is a file or a pipe.
    const timer = setInterval(() => {
      if (tty) process.stderr.write(`\r\x1b[K${line()}`)
      else io.err(line())
    }, tty ? 1000 : 5000)

    let finish!: (why: string) => void
    const finished = new Promise<string>((resolve) => { finish = resolve })
    const onSignal = (sig: NodeJS.Signals): void => finish(sig)
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    const stopTimer = duration === undefined ? undefined : setTimeout(() => finish('duration'), duration * 1000)
    try {
      const started = await Promise.race([fleet.start(), finished.then(() => undefined)])
      if (started !== undefined && started.failedToStart === count) {
        throw new CliError(`no device could connect: ${started.lastError ?? 'unknown error'}`)
      }
      if (started !== undefined && !tty) io.err(line())
      await finished
      return 0
    } finally {
      clearInterval(timer)
      if (stopTimer !== undefined) clearTimeout(stopTimer)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      await fleet.stop()
      if (tty) process.stderr.write('\r\x1b[K')
      io.err(`${line()} (stopped)`)
    }
  }
}
