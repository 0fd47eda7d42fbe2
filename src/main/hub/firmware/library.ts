// The firmware library: images stored content-addressed in DIR/firmware/{sha256}, metadata in
// the store's `firmware` collection keyed `name/version`. An upload streams to a temp file while
// hashing, is fsynced and renamed into place, and only then is the metadata written (durable
// before the ack). A crash between the two leaves an orphan blob, removed on the next start.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fsyncDir } from '../store/fs-util.js'
import type { HubEventBus } from '../events.js'
import type { QueryService } from '../query/twin-query.js'
import { FIRMWARE_IN_PROGRESS } from '../reports/layout.js'
import type { HubStore } from '../store/types.js'
import type { Clock, Logger } from '../types.js'
import { FirmwareError, type FirmwareAddInput, type FirmwareAddResult, type FirmwareImage, type FirmwareLibrary } from './types.js'

export interface FirmwareLibraryDeps {
  /** DIR/firmware. */
  dir: string
  store: HubStore
  clock: Clock
  logger: Logger
  fsync?: boolean
  /** Largest accepted image in bytes (default 1 GiB). */
  maxBytes?: number
  /** https://host[:port] of this hub, for update payload URLs. */
  baseUrl: () => string
  /** The query service, to find devices mid-update to an image (none are found without it). */
  query?: Pick<QueryService, 'run'>
  /** Announces added and removed images ('firmware.changed'), for live UIs. */
  events?: HubEventBus
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/
const SHA_RE = /^[0-9a-f]{64}$/
const DEFAULT_MAX = 1024 * 1024 * 1024

export const firmwareKey = (name: string, version: string): string => `${name}/${version}`

/** Names and versions become URL path segments and file-system-free keys: a conservative charset. */
export function validateImageId (value: unknown, what: 'name' | 'version'): string {
  if (typeof value !== 'string' || !NAME_RE.test(value)) {
    throw new FirmwareError(400, 'ArgumentInvalid', `The firmware ${what} must be 1-128 characters of A-Z a-z 0-9 . _ + - starting with a letter or digit (got ${JSON.stringify(value)}).`)
  }
  return value
}

export async function createFirmwareLibrary (deps: FirmwareLibraryDeps): Promise<FirmwareLibrary> {
  const { dir, store, clock, logger } = deps
  const fsync = deps.fsync ?? true
  const maxBytes = deps.maxBytes ?? DEFAULT_MAX
  const incoming = join(dir, '.incoming')
  const blobPath = (sha256: string): string => join(dir, sha256)
  await mkdir(incoming, { recursive: true })
  await cleanUp()

  // Renames, metadata writes and blob deletes run one at a time, so a delete never removes a
  // blob that a concurrent upload of the same bytes has just claimed.
  let chain: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn)
    chain = next.catch(() => {})
    return next
  }

  async function cleanUp (): Promise<void> {
    for (const f of await readdir(incoming)) await rm(join(incoming, f), { force: true })
    const referenced = new Set<string>()
    for (const [, img] of store.entries('firmware')) referenced.add(img.sha256)
    for (const f of await readdir(dir)) {
      if (SHA_RE.test(f) && !referenced.has(f)) {
        logger.info('firmware: removing an unreferenced image file (an upload interrupted before it was recorded)', { file: f })
        await rm(join(dir, f), { force: true })
      }
    }
    for (const sha of referenced) {
      if (!await stat(blobPath(sha)).then(() => true, () => false)) logger.warn('firmware: image file missing', { sha256: sha })
    }
  }

  /** Streams `data` into a temp file; returns its path, size and hash. The temp file is removed on failure. */
  async function receive (input: FirmwareAddInput): Promise<{ tmp: string; size: number; sha256: string }> {
    const tmp = join(incoming, `${randomBytes(8).toString('hex')}.part`)
    const fh = await open(tmp, 'wx')
    const hash = createHash('sha256')
    let size = 0
    try {
      const source = (Buffer.isBuffer(input.data) ? [input.data] : input.data) as AsyncIterable<Uint8Array>
      for await (const chunk of source) {
        size += chunk.length
        if (size > maxBytes) throw new FirmwareError(413, 'MessageTooLarge', `The image is larger than ${maxBytes} bytes.`)
        hash.update(chunk)
        await fh.write(chunk)
      }
      if (fsync) await fh.sync()
    } catch (err) {
      await fh.close().catch(() => {})
      await rm(tmp, { force: true })
      throw err
    }
    await fh.close()
    return { tmp, size, sha256: hash.digest('hex') }
  }

  const library: FirmwareLibrary = {
    dir,

    async add (input) {
      const name = validateImageId(input.name, 'name')
      const version = validateImageId(input.version, 'version')
      const expected = input.expectedSha256?.toLowerCase()
      if (expected !== undefined && !SHA_RE.test(expected)) throw new FirmwareError(400, 'ArgumentInvalid', 'The expected sha256 must be 64 hex digits.')
      const got = await receive(input)
      const discard = (): Promise<void> => rm(got.tmp, { force: true })
      if (input.expectedSize !== undefined && got.size !== input.expectedSize) {
        await discard()
        throw new FirmwareError(400, 'ArgumentInvalid', `The upload ended after ${got.size} of ${input.expectedSize} bytes.`)
      }
      if (expected !== undefined && expected !== got.sha256) {
        await discard()
        throw new FirmwareError(400, 'Sha256Mismatch', `The bytes hash to ${got.sha256}, not the expected ${expected}.`)
      }
      if (got.size === 0) {
        await discard()
        throw new FirmwareError(400, 'ArgumentInvalid', 'The image is empty.')
      }
      return await exclusive(async (): Promise<FirmwareAddResult> => {
        const existing = store.get('firmware', firmwareKey(name, version))
        if (existing !== undefined) {
          await discard()
          if (existing.sha256 === got.sha256) return { image: existing, created: false }
          throw new FirmwareError(409, 'FirmwareAlreadyExists',
            `${name} ${version} is already in the library with different bytes (sha256 ${existing.sha256}); remove it first or upload a new version.`)
        }
        // Content-addressed: identical bytes under another name share the file.
        await rename(got.tmp, blobPath(got.sha256))
        if (fsync) await fsyncDir(dir)
        const image: FirmwareImage = {
          name, version, size: got.size, sha256: got.sha256, uploadedAt: new Date(clock.now()).toISOString(),
          ...(input.description === undefined ? {} : { description: String(input.description).slice(0, 1024) })
        }
        await store.put('firmware', firmwareKey(name, version), image)
        logger.info('firmware: image added', { name, version, size: image.size, sha256: image.sha256 })
        deps.events?.emit('firmware.changed', { name, version, change: 'added' })
        return { image, created: true }
      })
    },

    list: () => [...store.entries('firmware')].map(([, img]) => img)
      .sort((a, b) => a.name.localeCompare(b.name) || a.uploadedAt.localeCompare(b.uploadedAt) || a.version.localeCompare(b.version)),

    get: (name, version) => store.get('firmware', firmwareKey(name, version)),

    mustGet (name, version) {
      const img = store.get('firmware', firmwareKey(name, version))
      if (img === undefined) throw new FirmwareError(404, 'FirmwareNotFound', `There is no firmware ${name} ${version} in the library.`)
      return img
    },

    open (name, version) {
      const image = library.mustGet(name, version)
      return { image, path: blobPath(image.sha256) }
    },

    inUseBy (name, version) {
      if (deps.query === undefined) return []
      // Names and versions are validated to a quote-free charset, so they embed safely.
      const R = 'properties.reported.firmware'
      const rows = deps.query.run(`SELECT deviceId FROM devices WHERE ${R}.pendingName = '${name}' AND ${R}.pending = '${version}' ` +
        `AND ${R}.status IN [${FIRMWARE_IN_PROGRESS.map((s) => `'${s}'`).join(', ')}]`)
      return rows.map((r) => String((r as { deviceId?: unknown }).deviceId))
    },

    async remove (name, version, opts = {}) {
      await exclusive(async () => {
        const image = library.mustGet(name, version)
        const users = library.inUseBy(name, version)
        if (users.length > 0 && opts.force !== true) {
          throw new FirmwareError(409, 'FirmwareInUse',
            `${name} ${version} is being installed by ${users.length} device(s) (${users.slice(0, 5).join(', ')}${users.length > 5 ? ', ...' : ''}); wait for them to finish, or force the removal.`)
        }
        await store.del('firmware', firmwareKey(name, version))
        const shared = [...store.entries('firmware')].some(([, img]) => img.sha256 === image.sha256)
        if (!shared) {
          await rm(blobPath(image.sha256), { force: true })
          if (fsync) await fsyncDir(dir)
        }
        logger.info('firmware: image removed', { name, version })
        deps.events?.emit('firmware.changed', { name, version, change: 'removed' })
      })
    },

    imagePath: (name, version) => `/firmware/${encodeURIComponent(name)}/${encodeURIComponent(version)}/image`,

    updatePayload (name, version) {
      const image = library.mustGet(name, version)
      return { name, version, url: deps.baseUrl() + library.imagePath(name, version), sha256: image.sha256, size: image.size }
    }
  }
  return library
}
