// `sitehub serial list|add|remove|status|ports|profiles|profile-check`: serial ports of a hub.
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { stringOpt, type CommandSpec } from '../args.js'
import { dataDirOf, dataDirOption, jsonOption } from '../common.js'
import { CliError, UsageError } from '../errors.js'
import { table } from '../format.js'
import { withHub } from '../hub-access.js'
import type { SerialDeviceBinding, SerialPortInput, SerialPortStatus } from '../../hub/serial/types.js'

const common = { 'data-dir': dataDirOption }

function intOpt (v: string | boolean | undefined, name: string, cmd: string): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number`, cmd)
  return Number(v)
}

/** `id[@address][:profile]`, comma-separated. */
export function parseDevices (text: string, cmd = 'serial add'): SerialDeviceBinding[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((item) => {
    const m = /^([^@:]+)(?:@(\d+))?(?::([A-Za-z0-9._-]+))?$/.exec(item)
    if (m === null) throw new UsageError(`--devices item '${item}' is not ID[@ADDRESS][:PROFILE]`, cmd)
    const b: SerialDeviceBinding = { deviceId: m[1] as string }
    if (m[2] !== undefined) b.address = Number(m[2])
    if (m[3] !== undefined) b.profile = m[3]
    return b
  })
}

function statusText (ports: SerialPortStatus[]): string {
  if (ports.length === 0) return 'no serial ports configured (add one with: sitehub serial add PATH)'
  const out: string[] = []
  for (const p of ports) {
    const c = p.counters
    out.push(`${p.name}  ${p.path}  ${p.protocol}  ${p.state} since ${p.since}${p.retryAt === null ? '' : ` (retry at ${p.retryAt})`}`)
    out.push(`  frames in/out ${c.framesIn}/${c.framesOut}  bytes in/out ${c.bytesIn}/${c.bytesOut}  garbage ${c.garbage}  bad checksum ${c.badChecksum}  retransmits ${c.retransmits}  oversize ${c.oversize}  timeouts ${c.timeouts}  port errors ${c.portErrors}  opens ${c.opens}  auth failures ${c.authFailures}`)
    if (p.lastError !== null) out.push(`  last error: ${p.lastError}`)
    if (p.devices.length > 0) {
      out.push(table(['  DEVICE', 'ADDRESS', 'STATE', 'LAST ACTIVITY', 'ERRORS', 'LAST ERROR'], p.devices.map((d) => [
        `  ${d.deviceId}`, d.address === undefined ? '-' : String(d.address), d.connected ? 'connected' : 'disconnected',
        d.lastActivity ?? '-', String(d.errors), d.lastError ?? '-'
      ])))
    }
  }
  return out.join('\n')
}

const list: CommandSpec = {
  path: 'serial list',
  summary: 'List the configured serial ports.',
  options: { ...common, json: jsonOption },
  examples: ['sitehub serial list'],
  async run ({ values, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      const ports = await hub.call('serial.list', {})
      if (values['json'] === true) { io.out(JSON.stringify(ports, null, 2)); return 0 }
      io.out(ports.length === 0
        ? 'no serial ports configured'
        : table(['NAME', 'PATH', 'PROTOCOL', 'BAUD', 'FRAMING', 'ENABLED', 'DEVICES'], ports.map((p) => [
          p.name, p.path, p.protocol, String(p.baudRate), `${p.dataBits}${p.parity[0]?.toUpperCase() ?? 'N'}${p.stopBits}`, p.enabled ? 'yes' : 'no',
          p.devices.map((d) => `${d.deviceId}${d.address === undefined ? '' : '@' + d.address}${d.profile === undefined ? '' : ':' + d.profile}`).join(',') || '(any)'
        ])))
      return 0
    })
  }
}

const add: CommandSpec = {
  path: 'serial add',
  summary: 'Configure a serial port (a device path, COM port or pty); the running hub opens it at once.',
  description: 'Line-protocol ports accept any registered device that identifies with its key, unless --devices lists them. ' +
    'On an RS-485 multidrop line give every device an address. Modbus ports need ID@UNIT:PROFILE for each device.',
  args: [{ name: 'path', description: 'port path, e.g. /dev/ttyUSB0, COM3, /tmp/x/ttyA' }],
  options: {
    ...common,
    name: { type: 'string', value: 'NAME', description: 'port name (default: the path\'s base name)' },
    protocol: { type: 'string', value: 'line|modbus', description: 'Sitehub line protocol v1 or Modbus RTU', default: 'line' },
    baud: { type: 'string', value: 'N', description: 'baud rate', default: '115200' },
    'data-bits': { type: 'string', value: 'N', description: '5-8', default: '8' },
    'stop-bits': { type: 'string', value: 'N', description: '1 or 2', default: '1' },
    parity: { type: 'string', value: 'P', description: 'none, even, odd, mark, space', default: 'none' },
    devices: { type: 'string', value: 'LIST', description: 'ID[@ADDRESS][:PROFILE],...' },
    'keep-alive': { type: 'string', value: 'SECONDS', description: 'line protocol: ping a silent device after this long', default: '30' },
    'timeout-ms': { type: 'string', value: 'MS', description: 'Modbus request timeout', default: '1000' },
    disabled: { type: 'boolean', description: 'store the port without opening it' },
    json: jsonOption
  },
  examples: [
    'sitehub serial add /dev/ttyUSB0 --name press-line',
    'sitehub serial add /dev/ttyRS485 --protocol modbus --baud 9600 --parity even --devices tc-1@1:generic-temperature-controller,tc-2@2:generic-temperature-controller'
  ],
  async run ({ values, args, io }) {
    const cmd = 'serial add'
    const path = args[0] ?? ''
    const input: SerialPortInput = { path }
    const name = stringOpt(values, 'name')
    if (name !== undefined) input.name = name
    const protocol = stringOpt(values, 'protocol')
    if (protocol !== undefined) input.protocol = protocol
    const parity = stringOpt(values, 'parity')
    if (parity !== undefined) input.parity = parity
    const nums: Array<[string, keyof SerialPortInput]> = [['baud', 'baudRate'], ['data-bits', 'dataBits'], ['stop-bits', 'stopBits'], ['keep-alive', 'keepAliveSec'], ['timeout-ms', 'timeoutMs']]
    for (const [opt, field] of nums) {
      const n = intOpt(values[opt], opt, cmd)
      if (n !== undefined) (input as unknown as Record<string, number>)[field] = n
    }
    const devices = stringOpt(values, 'devices')
    if (devices !== undefined) input.devices = parseDevices(devices, cmd)
    if (values['disabled'] === true) input.enabled = false
    return await withHub(dataDirOf(values), async (hub) => {
      const cfg = await hub.call('serial.add', input)
      io.out(values['json'] === true ? JSON.stringify(cfg, null, 2) : `added serial port ${cfg.name} (${cfg.path}, ${cfg.protocol}, ${cfg.baudRate} baud)${hub.mode === 'offline' ? '; it opens when the hub starts' : ''}`)
      return 0
    })
  }
}

const remove: CommandSpec = {
  path: 'serial remove',
  summary: 'Remove a serial port (its devices are disconnected).',
  args: [{ name: 'name', description: 'port name' }],
  options: common,
  examples: ['sitehub serial remove press-line'],
  async run ({ values, args, io }) {
    const name = args[0] ?? ''
    return await withHub(dataDirOf(values), async (hub) => {
      await hub.call('serial.remove', { name })
      io.out(`removed serial port ${name}`)
      return 0
    })
  }
}

const status: CommandSpec = {
  path: 'serial status',
  summary: 'State, error counters and devices of every serial port (live from a running hub).',
  options: { ...common, json: jsonOption },
  examples: ['sitehub serial status', 'sitehub serial status --json'],
  async run ({ values, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      const ports = await hub.call('serial.status', {})
      if (values['json'] === true) io.out(JSON.stringify(ports, null, 2))
      else io.out((hub.mode === 'offline' ? 'the hub is not running: ports are closed\n' : '') + statusText(ports))
      return 0
    })
  }
}

const ports: CommandSpec = {
  path: 'serial ports',
  summary: 'List the serial ports this machine has (ptys are never listed: give their path to serial add).',
  options: { ...common, json: jsonOption },
  examples: ['sitehub serial ports'],
  async run ({ values, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      const res = await hub.call('serial.machinePorts', {})
      if (values['json'] === true) { io.out(JSON.stringify(res, null, 2)); return 0 }
      if (res.error !== undefined) io.err(`note: ${res.error}`)
      io.out(res.ports.length === 0 ? 'no serial ports listed' : table(['PATH', 'MANUFACTURER', 'SERIAL', 'VID:PID'], res.ports.map((p) => [
        p.path, p.manufacturer ?? '-', p.serialNumber ?? '-', p.vendorId === undefined ? '-' : `${p.vendorId}:${p.productId ?? ''}`
      ])))
      return 0
    })
  }
}

const profiles: CommandSpec = {
  path: 'serial profiles',
  summary: 'List the Modbus profiles the hub can use, and whether each file is valid.',
  options: { ...common, json: jsonOption },
  examples: ['sitehub serial profiles'],
  async run ({ values, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      const list = await hub.call('serial.profiles', {})
      if (values['json'] === true) { io.out(JSON.stringify(list, null, 2)); return 0 }
      io.out(list.length === 0 ? 'no Modbus profiles found' : table(['NAME', 'FILE', 'VALID'], list.map((p) => [p.name, p.file, p.errors === null ? 'yes' : `no: ${p.errors.join('; ')}`])))
      return 0
    })
  }
}

const profileCheck: CommandSpec = {
  path: 'serial profile-check',
  summary: 'Validate a Modbus profile file and print every problem (no hub needed).',
  args: [{ name: 'file', description: 'profile JSON file' }],
  options: {},
  examples: ['sitehub serial profile-check ./my-meter.json'],
  async run ({ args, io }) {
    const file = args[0] ?? ''
    const { parseProfileText } = await import('../../hub/serial/modbus-profile.js')
    let text: string
    try { text = await readFile(file, 'utf8') } catch (err) { throw new CliError(`cannot read ${file}: ${(err as Error).message}`) }
    const res = parseProfileText(text, basename(file).replace(/\.json$/, ''))
    if ('errors' in res) {
      io.err(`${file} is not a valid Modbus profile:\n${res.errors.map((e) => `  ${e}`).join('\n')}`)
      return 1
    }
    const p = res.profile
    io.out(`${file}: profile ${p.name} is valid: ${p.registers.length} registers, methods: ${Object.keys(p.methods).join(', ') || 'none'}`)
    return 0
  }
}

export const serialCommands: CommandSpec[] = [list, add, remove, status, ports, profiles, profileCheck]
