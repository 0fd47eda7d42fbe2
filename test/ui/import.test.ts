// Bulk import parsing (renderer lib, no DOM): CSV and JSON lines, every bad row explained.
import { describe, expect, it } from 'vitest'
import { csvFields, parseImport } from '../../src/renderer/src/lib/import.js'
import { numericSeries } from '../../src/renderer/src/lib/series.js'

describe('bulk import parser', () => {
  it('reads CSV with a header, status and tags.<name> columns', () => {
    const rows = parseImport('deviceId,status,tags.site,tags.line\npress-1,,hall-2,3\n"press,2",disabled,"hall ""B""",\n')
    expect(rows).toEqual([
      { line: 2, deviceId: 'press-1', status: 'enabled', tags: { site: 'hall-2', line: 3 }, problem: undefined },
      // IoT Hub ids may contain commas: a quoted field keeps it
      { line: 3, deviceId: 'press,2', status: 'disabled', tags: { site: 'hall "B"' }, problem: undefined }
    ])
    expect(csvFields('a,"b,c",d')).toEqual(['a', 'b,c', 'd'])
  })

  it('explains bad rows: no header, bad status, duplicates, bad JSON', () => {
    expect(parseImport('press-1\npress-2')[0]?.problem).toMatch(/header with a deviceId column/)
    const csv = parseImport('deviceId,status\na,on\nb,\nb,')
    expect(csv.map(r => r.problem)).toEqual(['status must be enabled or disabled, not "on"', undefined, '"b" appears twice in this file'])
    const jl = parseImport('{"deviceId":"x","tags":{"a":1}}\n{nope\n["y"]\n{"deviceId":"z","status":"off"}\n# comment\n\n{"deviceId":"w","status":"disabled"}')
    expect(jl.map(r => [r.line, r.deviceId, r.problem ?? 'ok'])).toEqual([
      [1, 'x', 'ok'], [2, '', 'Not valid JSON'], [3, '', 'Each line must be a JSON object'], [4, 'z', 'status must be enabled or disabled'], [7, 'w', 'ok']
    ])
    expect(jl[0]?.tags).toEqual({ a: 1 })
    expect(parseImport('  \n')).toEqual([])
  })
})

describe('telemetry chart series', () => {
  it('takes numeric top-level fields of JSON bodies in the window, oldest first', () => {
    const item = (seq: number, at: string, body: string, bodyEncoding: 'utf8' | 'base64' = 'utf8') => ({ seq, enqueuedTime: at, transport: 'mqtt', properties: {}, systemProperties: {}, body, bodyEncoding })
    const now = Date.parse('2026-01-01T00:10:00Z')
    const s = numericSeries([
      item(3, '2026-01-01T00:09:30Z', '{"t": 2, "ok": true, "name": "x"}'),
      item(2, '2026-01-01T00:09:00Z', '{"t": 1, "h": 40}'),
      item(1, '2026-01-01T00:01:00Z', '{"t": 0}'), // older than 5 min
      item(4, '2026-01-01T00:09:40Z', 'not json'),
      item(5, '2026-01-01T00:09:50Z', 'AAEC', 'base64')
    ], now)
    expect(s).toEqual([
      { field: 't', points: [{ t: Date.parse('2026-01-01T00:09:00Z'), v: 1 }, { t: Date.parse('2026-01-01T00:09:30Z'), v: 2 }] },
      { field: 'h', points: [{ t: Date.parse('2026-01-01T00:09:00Z'), v: 40 }] }
    ])
  })
})
