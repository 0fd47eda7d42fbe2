// `sitehub firmware add|list|remove`: the hub's firmware library (docs/firmware.md). A running hub
// is reached over its HTTPS API with the iothubowner policy (obtained through the owner-only
// admin socket), so big images stream instead of crossing the admin socket's line protocol; with
// no hub running, the data dir is opened in this process.
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { request } from 'node:https'
import { basename, join } from 'node:path'
import { stringOpt, type CommandSpec } from '../args.js'
import { dataDirOf, dataDirOption, jsonOption } from '../common.js'
import { CliError, UsageError } from '../errors.js'
import type { FirmwareImage } from '../../hub/firmware/types.js'
import type { Hub } from '../../hub/services.js'

interface Remote {
  call(method: string, path: string, opts?: { file?: string; size?: number; headers?: Record<string, string> }): Promise<{ status: number; body: unknown }>
}

type Target = { kind: 'running'; remote: Remote } | { kind: 'offline'; hub: Hub; close: () => Promise<void> }

async function openTarget (dataDir: string): Promise<Target> {
  const [{ createAdminClient, HubNotRunningError }, { createSasToken }] = await Promise.all([
    import('../../hub/admin/client.js'), import('../../hub/registry/sas.js')
  ])
  let admin
  try {
    admin = await createAdminClient(dataDir)
  } catch (err) {
    if (!(err instanceof HubNotRunningError)) throw err
    return await openOffline(dataDir)
  }
  try {
    const status = await admin.call('hub.status', {})
    const policy = (await admin.call('policies.list', {})).find((p) => p.keyName === 'iothubowner')
    if (policy === undefined) throw new CliError('the hub has no iothubowner policy to upload with')
    const ca = await readFile(join(dataDir, 'tls', 'ca.pem'))
    const host = status.bind === '0.0.0.0' || status.bind === '::' ? status.hostName : status.bind
    const remote: Remote = {
      call: (method, path, opts = {}) => new Promise((resolve, reject) => {
        const token = createSasToken({ resource: status.hostName, key: policy.primaryKey, keyName: 'iothubowner', expiry: Math.floor(Date.now() / 1000) + 3600, encodeResource: false })
        const headers: Record<string, string | number> = { Authorization: token, ...opts.headers }
        if (opts.size !== undefined) { headers['Content-Length'] = opts.size; headers['Content-Type'] = 'application/octet-stream' }
        const req = request({ host, port: status.ports.https, method, path, headers, ca }, (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => { text += c })
          res.on('end', () => {
            let body: unknown = text
            try { body = text === '' ? null : JSON.parse(text) } catch { /* plain text */ }
            resolve({ status: res.statusCode ?? 0, body })
          })
          res.on('error', reject)
        })
        req.on('error', reject)
        if (opts.file !== undefined) createReadStream(opts.file).on('error', reject).pipe(req)
        else req.end()
      })
    }
    return { kind: 'running', remote }
  } finally {
    await admin.close()
  }
}

async function openOffline (dataDir: string): Promise<Target> {
  const [{ createHub }, { createLogger }, { readServeSettings }] = await Promise.all([
    import('../../hub/index.js'), import('../../hub/logger.js'), import('../serve-config.js')
  ])
  const logger = createLogger({ level: 'warn' })
  const hub = await createHub({ config: { dataDir, ...await readServeSettings(dataDir) }, logger })
  return { kind: 'offline', hub, close: async () => { await hub.close(); logger.close() } }
}

/** Library errors (offline) and REST error bodies (running) in plain words. */
function failure (status: number, body: unknown): CliError {
  const msg = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
    ? (body as { message: string }).message
    : String(body)
  return new CliError(`${msg} (HTTP ${status})`)
}

async function withTarget<T> (dataDir: string, fn: (t: Target) => Promise<T>): Promise<T> {
  const t = await openTarget(dataDir)
  try {
    return await fn(t)
  } catch (err) {
    if (err instanceof Error && err.name === 'FirmwareError') throw new CliError(err.message)
    throw err
  } finally {
    if (t.kind === 'offline') await t.close()
  }
}

const describe = (img: FirmwareImage): string => `${img.name} ${img.version}  ${img.size} bytes  sha256 ${img.sha256}  uploaded ${img.uploadedAt}`
const seg = encodeURIComponent

const addCommand: CommandSpec = {
  path: 'firmware add',
  summary: 'Add a firmware image to the hub\'s library (served to devices over HTTPS)',
  args: [{ name: 'FILE', description: 'the image file' }],
  options: {
    name: { type: 'string', value: 'NAME', description: 'image name (default: the file name without extension)' },
    version: { type: 'string', value: 'VERSION', description: 'image version (required)' },
    description: { type: 'string', value: 'TEXT', description: 'release notes or build id' },
    'data-dir': dataDirOption,
    json: jsonOption
  },
  examples: ['sitehub firmware add ./pump-2.1.0.bin --name pump-fw --version 2.1.0'],
  async run ({ values, args, io }) {
    const file = args[0] as string
    const version = stringOpt(values, 'version')
    if (version === undefined) throw new UsageError('missing --version', 'firmware add')
    const name = stringOpt(values, 'name') ?? basename(file).replace(/\.[^.]*$/, '')
    const description = stringOpt(values, 'description')
    const size = (await stat(file).catch(() => { throw new CliError(`cannot read ${file}`) })).size
    const image = await withTarget(dataDirOf(values), async (t) => {
      if (t.kind === 'offline') {
        return (await t.hub.firmware.add({ name, version, data: createReadStream(file), expectedSize: size, ...(description === undefined ? {} : { description }) })).image
      }
      const res = await t.remote.call('PUT', `/firmware/${seg(name)}/${seg(version)}`, {
        file, size, ...(description === undefined ? {} : { headers: { 'x-ms-firmware-description': encodeURIComponent(description) } })
      })
      if (res.status !== 200 && res.status !== 201) throw failure(res.status, res.body)
      return res.body as FirmwareImage
    })
    io.out(values['json'] === true ? JSON.stringify(image, null, 2) : `added ${describe(image)}`)
    return 0
  }
}

const listCommand: CommandSpec = {
  path: 'firmware list',
  summary: 'List the firmware images in the hub\'s library',
  options: { 'data-dir': dataDirOption, json: jsonOption },
  examples: ['sitehub firmware list --json'],
  async run ({ values, io }) {
    const images = await withTarget(dataDirOf(values), async (t) => {
      if (t.kind === 'offline') return t.hub.firmware.list()
      const res = await t.remote.call('GET', '/firmware')
      if (res.status !== 200) throw failure(res.status, res.body)
      return res.body as FirmwareImage[]
    })
    if (values['json'] === true) io.out(JSON.stringify(images, null, 2))
    else io.out(images.length === 0 ? 'no firmware images' : images.map(describe).join('\n'))
    return 0
  }
}

const removeCommand: CommandSpec = {
  path: 'firmware remove',
  summary: 'Remove a firmware image (refused while devices are installing it, unless --force)',
  args: [{ name: 'NAME', description: 'image name' }, { name: 'VERSION', description: 'image version' }],
  options: { force: { type: 'boolean', description: 'remove even while devices are installing it' }, 'data-dir': dataDirOption },
  examples: ['sitehub firmware remove pump-fw 2.0.0'],
  async run ({ values, args, io }) {
    const [name, version] = args as [string, string]
    const force = values['force'] === true
    await withTarget(dataDirOf(values), async (t) => {
      if (t.kind === 'offline') { await t.hub.firmware.remove(name, version, { force }); return }
      const res = await t.remote.call('DELETE', `/firmware/${seg(name)}/${seg(version)}${force ? '?force=true' : ''}`)
      if (res.status !== 204) throw failure(res.status, res.body)
    })
    io.out(`removed ${name} ${version}`)
    return 0
  }
}

export const firmwareCommands: CommandSpec[] = [addCommand, listCommand, removeCommand]
