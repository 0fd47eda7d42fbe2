// `sitehub device import|export` against a real hub: offline (data dir opened directly) and
// through a running `sitehub serve` (admin socket).
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, serve, tempDir } from './test-helpers.js'

const hubReady = await import('../hub/server.js').then(() => true, () => false)
const SLOW = 240_000
const LOOPBACK = ['--bind', '127.0.0.1', '--mqtts-port', '0', '--https-port', '0']
const THUMB = 'AB'.repeat(20)

type Item = Record<string, unknown> & { id: string }

/** What an import must preserve: no etags, no reported properties, no twin metadata. */
function essentials (jsonl: string): Item[] {
  return jsonl.trim().split('\n').map((l) => {
    const item = JSON.parse(l) as Item & { properties: { desired: Record<string, unknown> } }
    const desired = Object.fromEntries(Object.entries(item.properties.desired).filter(([k]) => !k.startsWith('$')))
    return { id: item.id, status: item.status, statusReason: item.statusReason, authentication: item['authentication'], capabilities: item['capabilities'], tags: item['tags'], desired }
  }).sort((a, b) => a.id.localeCompare(b.id))
}

async function exportJsonl (dir: string): Promise<string> {
  const file = join(dir, `export-${Date.now()}.jsonl`)
  const res = await runCli(['device', 'export', file, '--data-dir', dir])
  expect(res.stderr).toBe('')
  expect(res.code).toBe(0)
  return await readFile(file, 'utf8')
}

const SOURCE_CSV = [
  'id,status,statusReason,primaryKey,secondaryKey,primaryThumbprint,edge,tags.site,tags.line.number,tags.serial,desired.telemetry.interval,desired.mode',
  `pump-7,disabled,"seal swap, left side",${Buffer.from('p'.repeat(32)).toString('base64')},${Buffer.from('s'.repeat(32)).toString('base64')},,false,"Plant 2, hall ""B""",4,"""0042""",30,eco`,
  `cam-2,enabled,,,,${THUMB},true,Plant 3,,,,`,
  'plain-1,,,,,,,,,,,'
].join('\r\n') + '\r\n'

describe.skipIf(!hubReady)('device import/export on a stopped hub', () => {
  it('round-trips through JSON lines and CSV into fresh data dirs (ids, status, keys, tags, desired)', async () => {
    const src = await tempDir()
    await writeFile(join(src, 'in.csv'), '\ufeff' + SOURCE_CSV)
    const imported = await runCli(['device', 'import', join(src, 'in.csv'), '--data-dir', src])
    expect(imported.stderr).toBe('')
    expect(imported.stdout).toBe('imported 3, failed 0\n')
    expect(imported.code).toBe(0)
    expect((await runCli(['device', 'add', 'added-1', '--edge', '--data-dir', src])).code).toBe(0)
    const original = essentials(await exportJsonl(src))
    expect(original.map((i) => i.id)).toEqual(['added-1', 'cam-2', 'plain-1', 'pump-7'])
    expect(original.find((i) => i.id === 'pump-7')).toMatchObject({
      status: 'disabled', statusReason: 'seal swap, left side',
      tags: { site: 'Plant 2, hall "B"', line: { number: 4 }, serial: '0042' }, desired: { telemetry: { interval: 30 }, mode: 'eco' }
    })
    expect(original.find((i) => i.id === 'cam-2')).toMatchObject({ authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: THUMB } }, capabilities: { iotEdge: true } })

    for (const ext of ['jsonl', 'csv']) {
      const file = join(src, `devices.${ext}`)
      const exported = await runCli(['device', 'export', file, '--data-dir', src])
      expect(exported.stdout).toBe(`exported 4 devices to ${file}\n`)
      const fresh = join(await tempDir(), 'hub')
      await mkdir(fresh)
      const res = await runCli(['device', 'import', file, '--mode', 'create', '--data-dir', fresh])
      expect(res.stdout, ext).toBe('imported 4, failed 0\n')
      expect(res.code, ext).toBe(0)
      expect(essentials(await exportJsonl(fresh)), ext).toEqual(original)
    }
    const csv = await readFile(join(src, 'devices.csv'), 'utf8')
    expect(csv.split('\r\n')[0]).toBe('id,status,statusReason,authType,primaryKey,secondaryKey,primaryThumbprint,secondaryThumbprint,edge,' +
      'tags.line.number,tags.serial,tags.site,desired.mode,desired.telemetry.interval')
    expect(csv).toContain('"seal swap, left side"')
    expect(csv).toContain('"Plant 2, hall ""B"""')

    // --exclude-keys: no keys in the file; an import generates new ones.
    const noKeys = join(src, 'nokeys.jsonl')
    await runCli(['device', 'export', noKeys, '--exclude-keys', '--data-dir', src])
    expect(await readFile(noKeys, 'utf8')).toContain('"symmetricKey":{"primaryKey":null,"secondaryKey":null}')
  }, SLOW)

  it('checks the whole file first: bad rows are listed with line numbers, nothing is applied, exit 1', async () => {
    const dir = await tempDir()
    const file = join(dir, 'bad.csv')
    await writeFile(file, 'id,status,colour\nok-1,enabled,red\n,enabled,\nok-1,disabled,\nz,sleepy,\n')
    const res = await runCli(['device', 'import', file, '--data-dir', dir])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr).toBe([
      `${file} has 4 errors; nothing was imported:`,
      "  line 1: unknown column 'colour' (the columns are id, moduleId, status, statusReason, authType, primaryKey, secondaryKey, primaryThumbprint, secondaryThumbprint, edge, importMode, tags.<path> and desired.<path>)",
      '  line 3: missing id',
      '  line 4 (ok-1): duplicate id ok-1 in the file (first on line 2)',
      "  line 5 (z): status must be enabled or disabled, not 'sleepy'",
      'Fix these rows and run the import again (--dry-run checks a file without changing anything).',
      ''
    ].join('\n'))
    expect((await runCli(['device', 'list', '--data-dir', dir])).stdout).toBe('No devices.\n')
  }, SLOW)

  it('--dry-run shows counts per mode and the errors, and applies nothing', async () => {
    const dir = await tempDir()
    const good = join(dir, 'good.jsonl')
    await writeFile(good, '{"id":"a"}\n{"id":"b","importMode":"create"}\n\n{"id":"c","importMode":"delete"}\n{"id":"d"}\n')
    const res = await runCli(['device', 'import', good, '--dry-run', '--data-dir', dir])
    expect(res.stdout).toBe(`${good}: 4 valid rows (createOrUpdate 2, create 1, delete 1), 0 errors\nDry run: nothing was changed.\n`)
    expect(res.code).toBe(0)
    const bad = join(dir, 'bad.txt')
    await writeFile(bad, '{"id":"a"}\n{"id":\n')
    const badRes = await runCli(['device', 'import', bad, '--dry-run', '--mode', 'update', '--data-dir', dir])
    expect(badRes.code).toBe(1)
    expect(badRes.stdout).toMatch(/: 1 valid row \(update 1\), 1 error\nErrors:\n {2}line 2: bad JSON: .*\nDry run: nothing was changed\.\n$/)
    expect((await runCli(['device', 'list', '--data-dir', dir])).stdout).toBe('No devices.\n')
  }, SLOW)

  it('applies row by row; lists each failed row (line, id, error code, message) and exits 1', async () => {
    const dir = await tempDir()
    expect((await runCli(['device', 'add', 'taken', '--data-dir', dir])).code).toBe(0)
    const file = join(dir, 'rows.csv')
    await writeFile(file, 'id,importMode,primaryKey\nnew-1,,\ntaken,create,\ngone,delete,\nnew-2,,bm90IGtleQ\nnew-3,,\n')
    const res = await runCli(['device', 'import', file, '--data-dir', dir])
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(new RegExp([
      '^imported 2, failed 3',
      "  line 3 \\(taken\\): DeviceAlreadyExists \\(409001\\): .*taken.*",
      '  line 4 \\(gone\\): DeviceNotFound \\(404001\\): .*gone.*',
      '  line 5 \\(new-2\\): ArgumentInvalid \\(400004\\): .*key.*\n$'
    ].join('\n')))
    const list = (await runCli(['device', 'list', '--data-dir', dir])).stdout
    for (const id of ['taken', 'new-1', 'new-3']) expect(list).toContain(id)
    expect(list).not.toContain('new-2')
  }, SLOW)

  it('exits 2 on usage errors and 1 when the file cannot be read', async () => {
    const dir = await tempDir()
    const cases: Array<[string[], RegExp]> = [
      [['device', 'import'], /^sitehub device import: missing <file>/],
      [['device', 'import', 'x.dat'], /cannot tell the format of 'x\.dat' from its name; add --format csv or --format jsonl/],
      [['device', 'import', 'x.csv', '--format', 'xml'], /--format must be csv or jsonl, not 'xml'/],
      [['device', 'import', 'x.csv', '--mode', 'upsert'], /--mode must be one of create, createOrUpdate, update, delete, not 'upsert'/],
      [['device', 'export', 'out.xlsx'], /^sitehub device export: cannot tell the format/]
    ]
    for (const [args, message] of cases) {
      const res = await runCli([...args, '--data-dir', dir])
      expect(res.code, args.join(' ')).toBe(2)
      expect(res.stderr).toMatch(message)
    }
    const missing = await runCli(['device', 'import', join(dir, 'nope.csv'), '--data-dir', dir])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^sitehub: cannot read .*nope\.csv: there is no such file/)
    const noFolder = await runCli(['device', 'export', join(dir, 'no', 'such', 'out.csv'), '--data-dir', dir])
    expect(noFolder.code).toBe(1)
    expect(noFolder.stderr).toMatch(/^sitehub: cannot write .*out\.csv: the folder .* does not exist/)
  }, SLOW)
})

describe.skipIf(!hubReady)('device import/export with a running hub (admin socket)', () => {
  it('imports 2,000 rows with progress on stderr, and exports them page by page', async () => {
    const dir = await tempDir()
    const hub = await serve(['--data-dir', dir, ...LOOPBACK])
    const file = join(dir, 'big.csv')
    const rows = ['id,status,tags.n,desired.label']
    for (let i = 0; i < 2000; i++) rows.push(`dev-${String(i).padStart(4, '0')},${i % 2 === 0 ? 'enabled' : 'disabled'},${i},"label ${i}"`)
    await writeFile(file, rows.join('\n') + '\n')

    const res = await runCli(['device', 'import', file, '--data-dir', dir])
    expect(res.stdout).toBe('imported 2000, failed 0\n')
    expect(res.code).toBe(0)
    const progress = res.stderr.trim().split('\n')
    expect(progress.length).toBeGreaterThanOrEqual(3)
    for (const line of progress) expect(line).toMatch(/^importing: \d+\/2000 rows \(\d+%\), 0 failed$/)

    // The running hub itself holds them (the CLI did not open its store).
    const status = JSON.parse((await runCli(['status', '--json', '--data-dir', dir])).stdout) as { pid: number; devices: { total: number; enabled: number } }
    expect(status).toMatchObject({ pid: hub.child.pid, devices: { total: 2000, enabled: 1000 } })

    const out = join(dir, 'out.jsonl')
    expect((await runCli(['device', 'export', out, '--data-dir', dir])).stdout).toBe(`exported 2000 devices to ${out}\n`)
    const items = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; tags: { n: number }; properties: { desired: { label: string } } })
    expect(items).toHaveLength(2000)
    expect(items[1234]).toMatchObject({ id: 'dev-1234', tags: { n: 1234 }, properties: { desired: { label: 'label 1234' } } })

    // CSV round trip against the running hub: update mode, disable everything.
    const csv = join(dir, 'out.csv')
    expect((await runCli(['device', 'export', csv, '--data-dir', dir])).code).toBe(0)
    const edited = (await readFile(csv, 'utf8')).replace(/,enabled,/g, ',disabled,')
    await writeFile(csv, edited)
    const dry = await runCli(['device', 'import', csv, '--mode', 'update', '--dry-run', '--data-dir', dir])
    expect(dry.stdout).toMatch(/: 2000 valid rows \(update 2000\), 0 errors\n/)
    const upd = await runCli(['device', 'import', csv, '--mode', 'update', '--data-dir', dir])
    expect(upd.stdout).toBe('imported 2000, failed 0\n')
    expect(JSON.parse((await runCli(['status', '--json', '--data-dir', dir])).stdout)).toMatchObject({ devices: { total: 2000, enabled: 0 } })
  }, SLOW)
})
