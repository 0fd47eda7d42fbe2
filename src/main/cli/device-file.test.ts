// Device files in process: CSV quoting, cell values, row checks with line numbers, CSV export.
import { describe, expect, it } from 'vitest'
import { cellOf, csvField, parseCell, parseCsv, parseImportFile, toCsv, toJsonLines, writeCsv } from './device-file.js'
import type { JsonObject } from '../hub/types.js'

describe('CSV (RFC 4180)', () => {
  it('reads quoted commas, doubled quotes and line breaks inside fields, with their start lines', () => {
    const text = 'id,tags.note\r\n"a,1","say ""hi"""\r\n"b","two\r\nlines"\r\nc,"three\nlines\nhere"\nd,plain\n'
    const { records, fatal } = parseCsv(text)
    expect(fatal).toBeUndefined()
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['id', 'tags.note']],
      [2, ['a,1', 'say "hi"']],
      [3, ['b', 'two\r\nlines']],
      [5, ['c', 'three\nlines\nhere']],
      [8, ['d', 'plain']]
    ])
  })

  it('ignores a BOM, takes CRLF and LF, a missing final newline and empty fields', () => {
    const { records } = parseCsv('\ufeffid,status\r\nx,\n,y\r\nz,"" ')
    expect(records.map((r) => r.fields)).toEqual([['id', 'status'], ['x', ''], ['', 'y'], ['z', ' ']])
    expect(records[3]?.error).toMatch(/text follows a closing quote/)
  })

  it('reports an unclosed quote at the line where the field starts', () => {
    const { records, fatal } = parseCsv('id\nok\n"open\nstill open\n')
    expect(records.map((r) => r.fields)).toEqual([['id'], ['ok']])
    expect(fatal).toEqual({ line: 3, message: 'a quoted field is never closed (a closing " is missing)' })
  })

  it('quotes fields only when needed and reads back what it writes', () => {
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "x"')).toBe('"say ""x"""')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
    expect(csvField(' padded')).toBe('" padded"')
    const rows = [['id', 'x'], ['a,"b"', 'c\r\nd'], ['', ' e ']]
    expect(parseCsv(writeCsv(rows)).records.map((r) => r.fields)).toEqual(rows)
  })
})

describe('tags/desired cells', () => {
  it('reads numbers, booleans, null and JSON as JSON, the rest as text', () => {
    expect(parseCell('')).toEqual({})
    expect(parseCell('42')).toEqual({ value: 42 })
    expect(parseCell('-3.5')).toEqual({ value: -3.5 })
    expect(parseCell('true')).toEqual({ value: true })
    expect(parseCell('null')).toEqual({ value: null })
    expect(parseCell('{"a":[1,2]}')).toEqual({ value: { a: [1, 2] } })
    expect(parseCell('[1,"x"]')).toEqual({ value: [1, 'x'] })
    expect(parseCell('"42"')).toEqual({ value: '42' })
    expect(parseCell('Plant 2')).toEqual({ value: 'Plant 2' })
    // Not written plainly: kept as text so serial numbers and codes survive.
    expect(parseCell('007')).toEqual({ value: '007' })
    expect(parseCell('1.50')).toEqual({ value: '1.50' })
    expect(parseCell('12345678901234567890')).toEqual({ value: '12345678901234567890' })
    expect(parseCell('{"a":')).toMatchObject({ error: expect.stringMatching(/^is not valid JSON/) })
  })

  it('writes cells that read back to the same value', () => {
    for (const v of ['text', '', '42', 'true', 'null', '{x', '"quoted"', 42, 1.5, false, null, [1, { a: 2 }], {}]) {
      expect(parseCell(cellOf(v)).value).toEqual(v)
    }
    expect(cellOf('42')).toBe('"42"')
    expect(cellOf('Plant 2')).toBe('Plant 2')
  })
})

describe('parseImportFile', () => {
  it('builds ExportImportDevice items from CSV columns, nested tags and desired included', () => {
    const csv = [
      'ID,Status,statusReason,primaryKey,secondaryKey,edge,importMode,tags.site,tags.line.number,desired.cfg.interval,desired.cfg.on',
      'pump-7,Disabled,seal swap,cHJpbWFyeQ==,c2Vjb25kYXJ5,true,create,Plant 2,4,30,false',
      'cam-1,,,,,,,,,,'
    ].join('\n')
    const { rows, errors } = parseImportFile(csv, 'csv', 'createOrUpdate')
    expect(errors).toEqual([])
    expect(rows[0]).toEqual({
      line: 2,
      id: 'pump-7',
      mode: 'create',
      item: {
        id: 'pump-7', status: 'disabled', statusReason: 'seal swap', importMode: 'create', capabilities: { iotEdge: true },
        authentication: { symmetricKey: { primaryKey: 'cHJpbWFyeQ==', secondaryKey: 'c2Vjb25kYXJ5' } },
        tags: { site: 'Plant 2', line: { number: 4 } },
        properties: { desired: { cfg: { interval: 30, on: false } } }
      }
    })
    expect(rows[1]).toEqual({ line: 3, id: 'cam-1', mode: 'createOrUpdate', item: { id: 'cam-1' } })
  })

  it('takes thumbprints (normalised), authType and a bare tags column holding JSON', () => {
    const csv = 'id,authType,primaryThumbprint,tags\ncam,selfsigned,ab:cd' + 'ef'.repeat(18) + ',"{""a.b"":1}"\n'
    const { rows, errors } = parseImportFile(csv, 'csv', 'create')
    expect(errors).toEqual([])
    expect(rows[0]?.item).toEqual({
      id: 'cam', tags: { 'a.b': 1 },
      authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'ABCD' + 'EF'.repeat(18) } }
    })
  })

  it('lists every bad CSV row with its line number and a plain-words reason', () => {
    const csv = [
      'id,status,edge,importMode,primaryKey,primaryThumbprint,tags.meta', // 1
      'ok,enabled,true,,,,', // 2
      ',enabled,,,,,', // 3
      'ok,disabled,,,,,', // 4
      'z,sleepy,,,,,', // 5
      'q,,maybe,upsert,,,', // 6
      'k,,,,a2V5,' + 'AB'.repeat(20) + ',', // 7
      'm,,,,,,{"a":', // 8
      'short,enabled', // 9
      '', // 10 (blank: skipped)
      'bad id!,,,,,,', // 11
      't,,,,,xyz,' // 12
    ].join('\r\n')
    const { rows, errors } = parseImportFile(csv, 'csv', 'createOrUpdate')
    expect(rows.map((r) => r.id)).toEqual(['ok'])
    expect(errors.map((e) => [e.line, e.id, e.message])).toEqual([
      [3, undefined, 'missing id'],
      [4, 'ok', 'duplicate id ok in the file (first on line 2)'],
      [5, 'z', "status must be enabled or disabled, not 'sleepy'"],
      [6, 'q', "edge must be true or false, not 'maybe'"],
      [6, 'q', expect.stringMatching(/^unknown importMode 'upsert' \(use one of create, createOrUpdate/)],
      [7, 'k', expect.stringMatching(/^give either keys .* or thumbprints .*, not both$/)],
      [8, 'm', expect.stringMatching(/^column tags\.meta is not valid JSON/)],
      [9, 'short', 'the row has 2 fields but the header has 7 columns'],
      [11, 'bad id!', expect.stringMatching(/contains characters that are not allowed/)],
      [12, 't', expect.stringMatching(/^primaryThumbprint must be 40 or 64 hex digits/)]
    ])
  })

  it('reports header problems on line 1: unknown, duplicate and overlapping columns, no id', () => {
    const { errors } = parseImportFile('name,colour,tags.a,tags.a.b,Tags.a\nx,y,1,2,3\n', 'csv', 'create')
    expect(errors.map((e) => [e.line, e.message])).toEqual([
      [1, expect.stringMatching(/^unknown column 'name' \(the columns are id, /)],
      [1, expect.stringMatching(/^unknown column 'colour'/)],
      [1, "column 'Tags.a' appears twice in the header"],
      [1, "the header has no 'id' column"],
      [1, "columns 'tags.a' and 'tags.a.b' overlap (one sets a value inside the other)"],
      [2, 'missing id']
    ])
  })

  it('reads JSON lines (devices.txt) with blank lines, CRLF and a BOM, and lists bad lines', () => {
    const text = '\ufeff{"id":"a","importMode":"Delete"}\r\n\r\nnot json\n[1]\n{"id":"b","importMode":"upsert"}\n{"deviceId":"a"}\n{"id":"m1","moduleId":"mod"}\n{"status":"enabled"}\n'
    const { rows, errors } = parseImportFile(text, 'jsonl', 'createOrUpdate')
    expect(rows.map((r) => [r.line, r.id, r.mode])).toEqual([[1, 'a', 'delete'], [7, 'm1/mod', 'createOrUpdate']])
    expect(errors.map((e) => [e.line, e.id, e.message])).toEqual([
      [3, undefined, expect.stringMatching(/^bad JSON: /)],
      [4, undefined, 'each line must be one JSON object (an ExportImportDevice, as in devices.txt)'],
      [5, 'b', expect.stringMatching(/^unknown importMode 'upsert'/)],
      [6, 'a', 'duplicate id a in the file (first on line 1)'],
      [8, undefined, 'missing id']
    ])
  })
})

describe('toCsv', () => {
  const item = (id: string, extra: JsonObject = {}): JsonObject => ({
    id, status: 'enabled', statusReason: null, eTag: 'MA==',
    authentication: { type: 'sas', symmetricKey: { primaryKey: 'cA==', secondaryKey: 'cw==' }, x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null } },
    capabilities: { iotEdge: false }, tags: {}, properties: { desired: { $version: 1, $metadata: {} }, reported: { $version: 1 } },
    ...extra
  })

  it('writes the import columns with tags and desired as dotted columns, and imports back the same', () => {
    const items = [
      item('b,1', { status: 'disabled', statusReason: 'broken, "really"', tags: { site: 'Plant 2', line: { n: 4, code: '007' } }, properties: { desired: { i: 30, s: '42', $version: 3, $metadata: { $lastUpdated: 'x' } } } }),
      item('a', { capabilities: { iotEdge: true } }),
      item('c', { authentication: { type: 'selfSigned', symmetricKey: { primaryKey: null, secondaryKey: null }, x509Thumbprint: { primaryThumbprint: 'AB'.repeat(20), secondaryThumbprint: null } } })
    ]
    const csv = toCsv(items)
    expect(csv.split('\r\n')[0]).toBe('id,status,statusReason,authType,primaryKey,secondaryKey,primaryThumbprint,secondaryThumbprint,edge,tags.line.code,tags.line.n,tags.site,desired.i,desired.s')
    const { rows, errors } = parseImportFile(csv, 'csv', 'create')
    expect(errors).toEqual([])
    expect(rows.map((r) => r.item)).toEqual([
      {
        id: 'b,1', status: 'disabled', statusReason: 'broken, "really"', capabilities: { iotEdge: false },
        authentication: { type: 'sas', symmetricKey: { primaryKey: 'cA==', secondaryKey: 'cw==' } },
        tags: { site: 'Plant 2', line: { n: 4, code: '007' } }, properties: { desired: { i: 30, s: '42' } }
      },
      { id: 'a', status: 'enabled', capabilities: { iotEdge: true }, authentication: { type: 'sas', symmetricKey: { primaryKey: 'cA==', secondaryKey: 'cw==' } } },
      { id: 'c', status: 'enabled', capabilities: { iotEdge: false }, authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB'.repeat(20) } } }
    ])
  })

  it('writes a column that is a prefix of another as JSON, and a moduleId column when there are modules', () => {
    const csv = toCsv([item('a', { tags: { loc: 'hall' } }), item('b', { tags: { loc: { x: 1 } } }), item('b', { moduleId: 'm' })])
    const lines = csv.split('\r\n')
    expect(lines[0]).toBe('id,moduleId,status,statusReason,authType,primaryKey,secondaryKey,primaryThumbprint,secondaryThumbprint,edge,tags.loc')
    expect(lines[2]).toMatch(/,"\{""x"":1\}"$/)
    expect(parseImportFile(csv, 'csv', 'create').rows.map((r) => [r.id, r.item['tags']])).toEqual([['a', { loc: 'hall' }], ['b', { loc: { x: 1 } }], ['b/m', undefined]])
  })

  it('writes JSON lines one item per line', () => {
    expect(toJsonLines([{ id: 'a' }, { id: 'b' }])).toBe('{"id":"a"}\n{"id":"b"}\n')
  })

  it('writes tags whose keys hold dots as one JSON column (a dotted path cannot name them)', () => {
    const csv = toCsv([item('a', { tags: { 'dotted.key': true } }), item('b', { tags: { plain: 1 } })])
    expect(csv.split('\r\n')[0]).toMatch(/,edge,tags$/)
    expect(parseImportFile(csv, 'csv', 'create').rows.map((r) => r.item['tags'])).toEqual([{ 'dotted.key': true }, { plain: 1 }])
  })
})
