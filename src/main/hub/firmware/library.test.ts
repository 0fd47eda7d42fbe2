import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../logger.js'
import { createMemoryStore } from '../store/memory-store.js'
import type { HubStore } from '../store/types.js'
import { createFirmwareLibrary } from './library.js'
import { parseRange } from './range.js'
import { FirmwareError } from './types.js'

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const dirs: string[] = []
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

async function make (opts: { store?: HubStore; inUse?: string[]; maxBytes?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'sitehub-fw-'))
  dirs.push(dir)
  const store = opts.store ?? createMemoryStore()
  const query = { run: () => (opts.inUse ?? []).map((deviceId) => ({ deviceId })) }
  const lib = await createFirmwareLibrary({
    dir, store, clock: { now: () => Date.UTC(2024, 0, 1) }, logger: silentLogger, fsync: false, query,
    baseUrl: () => 'https://hub.local', ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes })
  })
  return { dir, store, lib }
}

async function rejects (p: Promise<unknown>): Promise<FirmwareError> {
  try { await p } catch (err) { expect(err).toBeInstanceOf(FirmwareError); return err as FirmwareError }
  throw new Error('expected a rejection')
}

describe('firmware library', () => {
  it('stores a streamed image content-addressed with its metadata', async () => {
    const { dir, lib } = await make()
    const bytes = Buffer.alloc(300_000, 7)
    const chunks = Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)])
    const { image, created } = await lib.add({ name: 'pump-fw', version: '1.2.0', data: chunks })
    expect(created).toBe(true)
    expect(image).toMatchObject({ name: 'pump-fw', version: '1.2.0', size: 300_000, sha256: sha(bytes), uploadedAt: '2024-01-01T00:00:00.000Z' })
    expect(await readFile(join(dir, sha(bytes)))).toEqual(bytes)
    expect(await readdir(join(dir, '.incoming'))).toEqual([])
    expect(lib.list().map((i) => i.version)).toEqual(['1.2.0'])
    expect(lib.updatePayload('pump-fw', '1.2.0')).toEqual({
      name: 'pump-fw', version: '1.2.0', url: 'https://hub.local/firmware/pump-fw/1.2.0/image', sha256: sha(bytes), size: 300_000
    })
  })

  it('is idempotent for the same bytes and refuses different bytes under the same version', async () => {
    const { lib } = await make()
    await lib.add({ name: 'a', version: '1', data: Buffer.from('one') })
    expect((await lib.add({ name: 'a', version: '1', data: Buffer.from('one') })).created).toBe(false)
    expect((await rejects(lib.add({ name: 'a', version: '1', data: Buffer.from('two') }))).status).toBe(409)
  })

  it('checks the expected sha256 and size, the size limit and the names', async () => {
    const { dir, lib } = await make({ maxBytes: 10 })
    expect((await rejects(lib.add({ name: 'a', version: '1', data: Buffer.from('abc'), expectedSha256: 'f'.repeat(64) }))).errorName).toBe('Sha256Mismatch')
    expect((await rejects(lib.add({ name: 'a', version: '1', data: Buffer.from('abc'), expectedSize: 4 }))).status).toBe(400)
    expect((await rejects(lib.add({ name: 'a', version: '1', data: Buffer.alloc(11) }))).status).toBe(413)
    expect((await rejects(lib.add({ name: '../x', version: '1', data: Buffer.from('abc') }))).status).toBe(400)
    expect((await rejects(lib.add({ name: 'a', version: 'a/b', data: Buffer.from('abc') }))).status).toBe(400)
    expect(await readdir(join(dir, '.incoming'))).toEqual([])
    expect(lib.list()).toEqual([])
  })

  it('removes the bytes only when no other entry shares them', async () => {
    const { dir, lib } = await make()
    const b = Buffer.from('shared bytes')
    await lib.add({ name: 'a', version: '1', data: b })
    await lib.add({ name: 'b', version: '1', data: b })
    await lib.remove('a', '1')
    expect(await readFile(join(dir, sha(b)))).toEqual(b)
    await lib.remove('b', '1')
    expect((await readdir(dir)).filter((f) => f !== '.incoming')).toEqual([])
    expect((await rejects(lib.remove('b', '1'))).status).toBe(404)
  })

  it('refuses to remove an image devices are installing, unless forced', async () => {
    const { lib } = await make({ inUse: ['d1'] })
    await lib.add({ name: 'a', version: '1', data: Buffer.from('x') })
    const err = await rejects(lib.remove('a', '1'))
    expect([err.status, err.errorName]).toEqual([409, 'FirmwareInUse'])
    await lib.remove('a', '1', { force: true })
    expect(lib.get('a', '1')).toBeUndefined()
  })

  it('drops unreferenced blobs and partial uploads on start', async () => {
    const { dir, store, lib } = await make()
    await lib.add({ name: 'a', version: '1', data: Buffer.from('kept') })
    await writeFile(join(dir, 'e'.repeat(64)), 'orphan')
    await writeFile(join(dir, '.incoming', 'x.part'), 'half')
    await createFirmwareLibrary({ dir, store, clock: { now: () => 0 }, logger: silentLogger, fsync: false, baseUrl: () => '' })
    expect((await readdir(dir)).sort()).toEqual(['.incoming', sha(Buffer.from('kept'))].sort())
    expect(await readdir(join(dir, '.incoming'))).toEqual([])
  })
})

describe('parseRange', () => {
  it.each([
    [undefined, { kind: 'full' }],
    ['bytes=0-99', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=500-', { kind: 'partial', start: 500, end: 999 }],
    ['bytes=900-5000', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-100', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', { kind: 'full' }],
    ['items=0-1', { kind: 'full' }]
  ])('%s', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected)
  })
})
