// `sitehub device add|list|show|remove|enable|disable|connection-string` (import and export: device-io.ts).
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { choiceOpt, stringOpt, type CommandSpec } from '../args.js'
import { dataDirOf, dataDirOption, jsonOption } from '../common.js'
import { UsageError } from '../errors.js'
import { deviceDetails, deviceTable } from '../format.js'
import { withHub } from '../hub-access.js'
import { deviceIoCommands } from './device-io.js'
import { normalizeThumbprint } from '../../hub/tls/thumbprint.js'
import type { DeviceCreateInput } from '../../hub/services.js'

const idArg = { name: 'id', description: 'device id' }
const common = { 'data-dir': dataDirOption }

async function writeDeviceCert (dataDir: string, deviceId: string, outDir: string): Promise<{ thumbprint: string; files: string[] }> {
  const { issueDeviceCertificate } = await import('../../hub/tls/device-cert.js')
  const issued = await issueDeviceCertificate(dataDir, deviceId)
  await mkdir(outDir, { recursive: true })
  const certFile = join(outDir, `${deviceId}.pem`)
  const keyFile = join(outDir, `${deviceId}-key.pem`)
  await writeFile(certFile, issued.cert)
  await writeFile(keyFile, issued.key, { mode: 0o600 })
  await chmod(keyFile, 0o600)
  return { thumbprint: issued.thumbprints.sha1, files: [certFile, keyFile] }
}

const add: CommandSpec = {
  path: 'device add',
  summary: 'Register a device and print its connection string.',
  description: 'Without X.509 options the device gets generated symmetric keys (SAS).',
  args: [idArg],
  options: {
    ...common,
    status: { type: 'string', value: 'STATUS', description: 'enabled or disabled', default: 'enabled' },
    'x509-thumbprint': { type: 'string', value: 'HEX', description: 'authenticate by the SHA-1 or SHA-256 thumbprint of the device certificate' },
    'x509-cert-out': { type: 'string', value: 'DIR', description: 'create a device certificate (signed by the hub CA) and key in DIR, and register its thumbprint' },
    edge: { type: 'boolean', description: 'mark the device as an IoT Edge device' }
  },
  examples: ['sitehub device add pump-7', 'sitehub device add cam-2 --x509-thumbprint 9A1B...C3 --status disabled'],
  async run ({ values, args, io }) {
    const deviceId = args[0] ?? ''
    const status = choiceOpt(values, 'status', ['enabled', 'disabled'] as const, 'device add')
    const typed = stringOpt(values, 'x509-thumbprint')
    const certOut = stringOpt(values, 'x509-cert-out')
    if (typed !== undefined && certOut !== undefined) throw new UsageError('use either --x509-thumbprint or --x509-cert-out, not both', 'device add')
    let thumbprint = typed === undefined ? undefined : normalizeThumbprint(typed)
    if (thumbprint === null) throw new UsageError(`--x509-thumbprint must be 40 or 64 hex digits, not '${typed ?? ''}'`, 'device add')
    const dataDir = dataDirOf(values)
    return await withHub(dataDir, async (hub) => {
      let files: string[] = []
      if (certOut !== undefined) ({ thumbprint, files } = await writeDeviceCert(dataDir, deviceId, resolve(certOut)))
      const input: DeviceCreateInput = { deviceId }
      if (status !== undefined) input.status = status
      if (thumbprint !== undefined) input.authentication = { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: thumbprint } }
      if (values['edge'] === true) input.capabilities = { iotEdge: true }
      await hub.call('registry.create', input)
      io.out(await hub.call('registry.deviceConnectionString', { deviceId }))
      for (const f of files) io.err(`wrote ${f}`)
      return 0
    })
  }
}

const list: CommandSpec = {
  path: 'device list',
  summary: 'List the devices.',
  options: { ...common, json: jsonOption },
  examples: ['sitehub device list', 'sitehub device list --json'],
  async run ({ values, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      const devices = await hub.call('registry.list', {})
      io.out(values['json'] === true ? JSON.stringify(devices, null, 2) : deviceTable(devices))
      return 0
    })
  }
}

const show: CommandSpec = {
  path: 'device show',
  summary: 'Show one device, keys included.',
  args: [idArg],
  options: { ...common, json: jsonOption },
  examples: ['sitehub device show pump-7'],
  async run ({ values, args, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      const device = await hub.call('registry.get', { deviceId: args[0] ?? '' })
      io.out(values['json'] === true ? JSON.stringify(device, null, 2) : deviceDetails(device))
      return 0
    })
  }
}

const remove: CommandSpec = {
  path: 'device remove',
  summary: 'Delete a device, its twin and its queued messages; a connected device is disconnected.',
  args: [idArg],
  options: common,
  examples: ['sitehub device remove pump-7'],
  async run ({ values, args, io }) {
    const deviceId = args[0] ?? ''
    return await withHub(dataDirOf(values), async (hub) => {
      await hub.call('registry.remove', { deviceId })
      io.out(`removed device ${deviceId}`)
      return 0
    })
  }
}

const enable: CommandSpec = {
  path: 'device enable',
  summary: 'Allow a device to connect again.',
  args: [idArg],
  options: common,
  examples: ['sitehub device enable pump-7'],
  async run ({ values, args, io }) {
    const deviceId = args[0] ?? ''
    return await withHub(dataDirOf(values), async (hub) => {
      await hub.call('registry.setStatus', { deviceId, status: 'enabled', statusReason: null })
      io.out(`device ${deviceId} is enabled`)
      return 0
    })
  }
}

const disable: CommandSpec = {
  path: 'device disable',
  summary: 'Stop a device from connecting (a connected device is disconnected).',
  args: [idArg],
  options: { ...common, reason: { type: 'string', value: 'TEXT', description: 'why, kept as the status reason' } },
  examples: ['sitehub device disable pump-7 --reason "seal replacement"'],
  async run ({ values, args, io }) {
    const deviceId = args[0] ?? ''
    const reason = stringOpt(values, 'reason')
    return await withHub(dataDirOf(values), async (hub) => {
      await hub.call('registry.setStatus', { deviceId, status: 'disabled', statusReason: reason ?? null })
      io.out(`device ${deviceId} is disabled${reason === undefined ? '' : ` (${reason})`}`)
      return 0
    })
  }
}

const connectionString: CommandSpec = {
  path: 'device connection-string',
  summary: "Print a device's connection string.",
  args: [idArg],
  options: { ...common, secondary: { type: 'boolean', description: 'use the secondary key instead of the primary' } },
  examples: ['sitehub device connection-string pump-7'],
  async run ({ values, args, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      io.out(await hub.call('registry.deviceConnectionString', { deviceId: args[0] ?? '', which: values['secondary'] === true ? 'secondary' : 'primary' }))
      return 0
    })
  }
}

export const deviceCommands: CommandSpec[] = [add, list, show, remove, enable, disable, connectionString, ...deviceIoCommands]
