import { existsSync } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HubError } from '../errors.js'
import { fakeHub } from './fake-hub.js'
import { adminSocketPath, createAdminClient, HubNotRunningError, startAdminServer, type AdminClient } from './index.js'

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sitehub-admin-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

async function started (): Promise<{ dir: string; client: AdminClient; path: string }> {
  const dir = await tempDir()
  const server = await startAdminServer(fakeHub({ dataDir: dir }), dir)
  onTestFinished(async () => { await server.close() })
  const client = await createAdminClient(dir)
  onTestFinished(async () => { await client.close() })
  return { dir, client, path: server.path }
}

/** Sends raw lines and collects the replies (for wire-level checks). */
async function raw (path: string, text: string, replies: number): Promise<unknown[]> {
  return await new Promise((resolve, reject) => {
    const socket = connect(path)
    let buf = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buf += chunk
      const lines = buf.split('\n').filter((l) => l !== '')
      if (lines.length >= replies) { socket.destroy(); resolve(lines.map((l) => JSON.parse(l) as unknown)) }
    })
    socket.on('error', reject)
    socket.write(text)
  })
}

describe.skipIf(process.platform === 'win32')('admin socket', () => {
  it('listens on DIR/admin.sock, owner-only (0600)', async () => {
    const { dir, path } = await started()
    expect(path).toBe(join(dir, 'admin.sock'))
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('runs registry methods and returns results', async () => {
    const { client } = await started()
    const created = await client.call('registry.create', { deviceId: 'd1' })
    expect(created.deviceId).toBe('d1')
    expect((await client.call('registry.list', {})).map((d) => d.deviceId)).toEqual(['d1'])
    expect(await client.call('registry.deviceConnectionString', { deviceId: 'd1' })).toBe('HostName=hub.test;DeviceId=d1;SharedAccessKey=cHJpbWFyeQ==')
    expect(await client.call('registry.deviceConnectionString', { deviceId: 'd1', which: 'secondary' })).toMatch(/SharedAccessKey=c2Vjb25kYXJ5$/)
    const disabled = await client.call('registry.setStatus', { deviceId: 'd1', status: 'disabled', statusReason: 'maintenance' })
    expect([disabled.status, disabled.statusReason]).toEqual(['disabled', 'maintenance'])
    expect(await client.call('registry.remove', { deviceId: 'd1' })).toBeNull()
    expect(await client.call('registry.list', {})).toEqual([])
  })

  it('answers policies and hub status', async () => {
    const { client, dir } = await started()
    expect((await client.call('policies.list', {})).map((p) => p.keyName)).toEqual(['iothubowner'])
    expect(await client.call('policies.connectionString', { name: 'iothubowner' })).toBe('HostName=hub.test;SharedAccessKeyName=iothubowner;SharedAccessKey=b3duZXI=')
    const status = await client.call('hub.status', {})
    expect(status).toMatchObject({ hostName: 'hub.test', dataDir: dir, pid: process.pid, devices: { total: 0 }, connections: 0 })
  })

  it('turns hub errors into {code, name, message} and back into HubError', async () => {
    const { client, path } = await started()
    const err = await client.call('registry.get', { deviceId: 'nope' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HubError)
    expect(err).toMatchObject({ code: 404001, errorName: 'DeviceNotFound' })
    const replies = await raw(path, '{"id":7,"method":"registry.get","params":{"deviceId":"nope"}}\n', 1)
    expect(replies[0]).toEqual({ id: 7, error: { code: 404001, name: 'DeviceNotFound', message: 'Device nope not found.' } })
  })

  it('rejects bad params, unknown methods and malformed lines in plain words', async () => {
    const { client, path } = await started()
    await expect(client.call('registry.get', {} as never)).rejects.toThrow(/deviceId must be a non-empty string/)
    await expect(client.call('registry.setStatus', { deviceId: 'x', status: 'off' as never })).rejects.toThrow(/status must be one of enabled, disabled/)
    await expect(client.call('nope.nope' as never, {} as never)).rejects.toThrow(/unknown admin method 'nope.nope'/)
    const replies = await raw(path, 'not json\n{"id":"a","method":"hub.status"}\n', 2)
    expect(replies).toContainEqual(expect.objectContaining({ id: null, error: expect.objectContaining({ code: 400004 }) }))
    expect(replies).toContainEqual(expect.objectContaining({ id: 'a', result: expect.objectContaining({ hostName: 'hub.test' }) }))
  })

  it('imports a batch of ExportImportDevice items, reporting each failed item by index', async () => {
    const { client } = await started()
    await client.call('registry.create', { deviceId: 'taken' })
    const res = await client.call('registry.importItems', {
      mode: 'createOrUpdate',
      items: [
        { id: 'd1', status: 'disabled', tags: { site: 'p2' }, properties: { desired: { interval: 30 } } },
        { id: 'taken', importMode: 'create' },
        'not an object',
        { id: 'd2', importMode: 'Create' }
      ]
    })
    expect(res.imported).toBe(2)
    expect(res.errors).toEqual([
      { index: 1, code: 409001, name: 'DeviceAlreadyExists', message: 'Device taken already exists.' },
      { index: 2, code: 400004, name: 'ArgumentInvalid', message: 'Each item must be a JSON object.' }
    ])
    expect((await client.call('registry.get', { deviceId: 'd1' })).status).toBe('disabled')
    await expect(client.call('registry.importItems', { items: new Array(501).fill({ id: 'x' }) })).rejects.toThrow(/at most 500 per call/)
    await expect(client.call('registry.importItems', { items: [], mode: 'upsert' })).rejects.toThrow(/mode must be one of/)
    await expect(client.call('registry.importItems', { items: 'x' } as never)).rejects.toThrow(/items must be a list/)
  })

  it('exports devices.txt lines page by page with a cursor', async () => {
    const { client } = await started()
    for (const id of ['c', 'a', 'e', 'b', 'd']) await client.call('registry.create', { deviceId: id })
    await client.call('registry.importItems', { items: [{ id: 'a', importMode: 'updateTwin', tags: { t: 1 } }] })
    const ids: string[] = []
    let after: string | undefined
    let pages = 0
    for (;;) {
      const page = await client.call('registry.exportItems', after === undefined ? { limit: 2, excludeKeys: true } : { limit: 2, after, excludeKeys: true })
      pages++
      ids.push(...page.items.map((i) => String(i['id'])))
      if (page.items[0]?.['id'] === 'a') {
        expect(page.items[0]).toMatchObject({ tags: { t: 1 }, authentication: { symmetricKey: { primaryKey: null, secondaryKey: null } } })
      }
      if (page.next === null) break
      after = page.next
    }
    expect(ids).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(pages).toBe(3)
    const all = await client.call('registry.exportItems', {})
    expect(all.next).toBeNull()
    expect(all.items[0]).toMatchObject({ id: 'a', authentication: { symmetricKey: { primaryKey: 'cHJpbWFyeQ==' } } })
    await expect(client.call('registry.exportItems', { limit: 5000 })).rejects.toThrow(/limit must be from 1 to 1000/)
  })

  it('handles concurrent calls on one connection', async () => {
    const { client } = await started()
    await Promise.all(['a', 'b', 'c'].map(async (id) => await client.call('registry.create', { deviceId: id })))
    expect((await client.call('registry.list', {})).length).toBe(3)
  })

  it('reports HubNotRunningError when nothing listens, including a stale socket file', async () => {
    const dir = await tempDir()
    await expect(createAdminClient(dir)).rejects.toBeInstanceOf(HubNotRunningError)
    const stale = createServer()
    await new Promise<void>((resolve) => stale.listen(adminSocketPath(dir), resolve))
    await new Promise<void>((resolve) => stale.close(() => { resolve() }))
    await writeFile(adminSocketPath(dir), '') // a leftover file, as after a crash
    await expect(createAdminClient(dir)).rejects.toBeInstanceOf(HubNotRunningError)
    const server = await startAdminServer(fakeHub(), dir) // replaces the stale file
    onTestFinished(async () => { await server.close() })
    const client = await createAdminClient(dir)
    await client.close()
  })

  it('refuses to start a second admin server on the same data dir, and removes its socket on close', async () => {
    const dir = await tempDir()
    const first = await startAdminServer(fakeHub(), dir)
    await expect(startAdminServer(fakeHub(), dir)).rejects.toThrow(/another Sitehub is already running with data dir/)
    await first.close()
    expect(existsSync(join(dir, 'admin.sock'))).toBe(false)
  })

  it('closes while a client is connected; the client call then fails in plain words', async () => {
    const dir = await tempDir()
    const server = await startAdminServer(fakeHub(), dir)
    const client = await createAdminClient(dir)
    await server.close()
    await expect(client.call('hub.status', {})).rejects.toThrow(/closed|EPIPE|ECONNRESET/)
  })

  it('derives a named pipe on Windows and a short path for deep data dirs', () => {
    expect(adminSocketPath('C:\\Data\\Hub', 'win32')).toMatch(/^\\\\\.\\pipe\\sitehub-admin-[0-9a-f]{24}$/)
    expect(adminSocketPath('C:\\Data\\Hub', 'win32')).toBe(adminSocketPath('c:\\data\\hub', 'win32'))
    const deep = join('/tmp', 'x'.repeat(120))
    expect(adminSocketPath(deep, 'linux')).toMatch(/sitehub-admin-[0-9a-f]{24}\.sock$/)
  })
})
