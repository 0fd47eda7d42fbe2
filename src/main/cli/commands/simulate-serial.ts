// `sitehub simulate-serial --serial PATH ...`: the reference serial device (line protocol v1)
// or a Modbus RTU slave on a serial port or pty. `runSerialSimulation` is the hook for
// `sitehub simulate --serial PATH` (commands/simulate.ts, the simulator's own command).
import { stringOpt, type CommandSpec, type OptionSpec, type OptionValues } from '../args.js'
import { UsageError } from '../errors.js'
import type { CliIo } from '../io.js'

/** Options `simulate` adds for its --serial mode (merged into its own spec). */
export const serialSimulateOptions: Record<string, OptionSpec> = {
  serial: { type: 'string', value: 'PATH', description: 'serial port or pty the simulated device talks on' },
  'device-id': { type: 'string', value: 'ID', description: 'device id (line protocol)' },
  key: { type: 'string', value: 'KEY', description: 'device symmetric key (base64) for the identify proof' },
  'connection-string': { type: 'string', value: 'CS', description: 'device connection string (DeviceId and SharedAccessKey are used)' },
  address: { type: 'string', value: 'N', description: 'multidrop address (line protocol)' },
  baud: { type: 'string', value: 'N', description: 'baud rate', default: '115200' },
  interval: { type: 'string', value: 'MS', description: 'telemetry interval (line protocol; 0 = none)', default: '5000' },
  modbus: { type: 'string', value: 'UNITS', description: 'be a Modbus RTU slave with these unit ids instead (e.g. 1,2)' },
  count: { type: 'string', value: 'N', description: 'exit after N telemetry messages (line protocol)' }
}

function parseCs (cs: string): { deviceId?: string; key?: string } {
  const f = Object.fromEntries(cs.split(';').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)] }))
  return { ...(f['DeviceId'] === undefined ? {} : { deviceId: f['DeviceId'] }), ...(f['SharedAccessKey'] === undefined ? {} : { key: f['SharedAccessKey'] }) }
}

/** Runs until SIGINT/SIGTERM (or --count messages). */
export async function runSerialSimulation (values: OptionValues, io: CliIo, cmd = 'simulate-serial'): Promise<number> {
  const path = stringOpt(values, 'serial')
  if (path === undefined) throw new UsageError('missing --serial PATH', cmd)
  const baudRate = Number(stringOpt(values, 'baud') ?? '115200')
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  const units = stringOpt(values, 'modbus')
  if (units !== undefined) {
    const { startModbusSlave } = await import('../../sim/serial/modbus-slave.js')
    const ids = units.split(',').map((u) => Number(u.trim()))
    if (ids.some((u) => !Number.isInteger(u) || u < 1 || u > 247)) throw new UsageError('--modbus takes unit ids from 1 to 247', cmd)
    const slave = await startModbusSlave({ path, baudRate, units: ids })
    // a slowly changing process value in input register 0 of every unit
    const timer = setInterval(() => { for (const u of ids) slave.unit(u).input[0] = 200 + Math.round(Math.random() * 50) }, 1000)
    io.out(`modbus slave on ${path}, units ${ids.join(', ')}; Ctrl-C to stop`)
    await stop
    clearInterval(timer)
    await slave.close()
    return 0
  }
  const cs = stringOpt(values, 'connection-string')
  const fromCs = cs === undefined ? {} : parseCs(cs)
  const deviceId = stringOpt(values, 'device-id') ?? fromCs.deviceId
  const key = stringOpt(values, 'key') ?? fromCs.key
  if (deviceId === undefined || key === undefined) throw new UsageError('give --device-id and --key, or --connection-string', cmd)
  const address = stringOpt(values, 'address')
  const { SerialDevice } = await import('../../sim/serial/device.js')
  const dev = new SerialDevice({
    path, deviceId, key, baudRate,
    telemetryIntervalMs: Number(stringOpt(values, 'interval') ?? '5000'),
    ...(address === undefined ? {} : { address: Number(address) })
  })
  dev.on('welcome', () => { io.out(`${deviceId}: identified on ${path}`) })
  dev.on('down', () => { io.out(`${deviceId}: port lost; reopening`) })
  dev.on('desired', (patch: unknown) => { io.out(`${deviceId}: desired ${JSON.stringify(patch)}`) })
  dev.on('call', (name: string) => { io.out(`${deviceId}: method ${name}`) })
  dev.on('refused', (why: unknown) => { io.err(`${deviceId}: refused: ${String(why)}`) })
  const count = stringOpt(values, 'count')
  await dev.start(60_000).catch((err: Error) => { io.err(err.message) })
  if (count !== undefined) {
    for (let i = 0; i < Number(count); i++) await dev.sendTelemetry(dev.sample())
    io.out(`${deviceId}: sent ${count} messages`)
  } else {
    await stop
  }
  await dev.close()
  return 0
}

export const simulateSerialCommand: CommandSpec = {
  path: 'simulate-serial',
  summary: 'Run a simulated serial device (line protocol v1) or a Modbus RTU slave on a port or pty.',
  options: serialSimulateOptions,
  examples: [
    'sitehub simulate-serial --serial /tmp/x/ttyB --connection-string "HostName=...;DeviceId=press-1;SharedAccessKey=..."',
    'sitehub simulate-serial --serial /tmp/x/ttyB --modbus 1,2'
  ],
  run: async ({ values, io }) => await runSerialSimulation(values, io)
}
