// Pure helpers of the device tools: the QR code of a connection string (decoded back with
// jsQR from a rasterized copy of exactly the modules the SVG draws), tag names and values
// as the bulk tag form reads them, the tag patch, and telemetry pruning.
import jsQR from 'jsqr'
import { describe, expect, it } from 'vitest'
import { tagPatch } from '../../src/main/hub/api/ui/handlers-devices.js'
import { qrShape } from '../../src/renderer/src/lib/qr.js'
import { parseTagValue, tagNameProblem } from '../../src/renderer/src/state/bulk-tag.js'
import { pruneTelemetry } from '../../src/renderer/src/state/telemetry-stream.js'
import type { TelemetryItem } from '../../src/shared/contract/index.js'

/** Rasterizes the SVG path (rectangles `M x y h w v 1 h -w z`) at `scale` px per module. */
function rasterize (shape: ReturnType<typeof qrShape>, scale: number): { data: Uint8ClampedArray; side: number } {
  const side = shape.size * scale
  const data = new Uint8ClampedArray(side * side * 4).fill(255)
  for (const m of shape.path.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    const [x, y, w] = [Number(m[1]), Number(m[2]), Number(m[3])]
    for (let py = y * scale; py < (y + 1) * scale; py++) {
      for (let px = x * scale; px < (x + w) * scale; px++) {
        const i = (py * side + px) * 4
        data[i] = data[i + 1] = data[i + 2] = 0
      }
    }
  }
  return { data, side }
}

describe('connection string QR code', () => {
  it('draws exactly the dark modules, and decodes back to the exact connection string', () => {
    const cs = 'HostName=site-pc.local;DeviceId=press-1;SharedAccessKey=q1yD0xW3b5mZ7tK9vB2nH4jL6pR8sU0wY2aC4eG6iK8='
    const shape = qrShape(cs)
    expect(shape.size).toBe(shape.modules + 8)
    // the path's rectangles cover each dark module once and no light one
    let dark = 0
    for (let r = 0; r < shape.modules; r++) for (let c = 0; c < shape.modules; c++) if (shape.dark(r, c)) dark++
    const covered = [...shape.path.matchAll(/h(\d+)v1/g)].reduce((n, m) => n + Number(m[1]), 0)
    expect(covered).toBe(dark)
    const { data, side } = rasterize(shape, 4)
    expect(jsQR(data, side, side)?.data).toBe(cs)
  })

  it('encodes a long device id and both kinds of key', () => {
    const cs = `HostName=h;DeviceId=${'a'.repeat(128)};SharedAccessKey=${'Zm9v'.repeat(11)}`
    const { data, side } = rasterize(qrShape(cs), 3)
    expect(jsQR(data, side, side)?.data).toBe(cs)
  })
})

describe('bulk tag input', () => {
  it('reads values with their type, and plain text as text', () => {
    expect(parseTagValue('hall-2')).toEqual({ ok: true, value: 'hall-2', type: 'text' })
    expect(parseTagValue(' 3 ')).toEqual({ ok: true, value: 3, type: 'number' })
    expect(parseTagValue('-1.5')).toEqual({ ok: true, value: -1.5, type: 'number' })
    expect(parseTagValue('1.2.0')).toEqual({ ok: true, value: '1.2.0', type: 'text' })
    expect(parseTagValue('007')).toEqual({ ok: true, value: '007', type: 'text' })
    expect(parseTagValue('"3"')).toEqual({ ok: true, value: '3', type: 'text' })
    expect(parseTagValue('true')).toEqual({ ok: true, value: true, type: 'true/false' })
    expect(parseTagValue('{"hall": "B", "row": 2}')).toEqual({ ok: true, value: { hall: 'B', row: 2 }, type: 'object' })
    expect(parseTagValue('[1, 2]')).toEqual({ ok: true, value: [1, 2], type: 'list' })
    expect(parseTagValue('{hall: B}')).toMatchObject({ ok: false, message: expect.stringContaining('not valid JSON') })
    expect(parseTagValue('null')).toMatchObject({ ok: false, message: expect.stringContaining('Remove') })
    expect(parseTagValue('  ')).toMatchObject({ ok: false })
  })

  it('checks tag names and builds nested patches', () => {
    expect(tagNameProblem('site')).toBeUndefined()
    expect(tagNameProblem('location.hall')).toBeUndefined()
    for (const bad of ['', 'has space', '$site', 'a..b', '.a', 'a.', 'a.b.c.d.e.f', 'x'.repeat(65)]) expect(tagNameProblem(bad), bad).toBeDefined()
    expect(tagPatch('site', 'B')).toEqual({ site: 'B' })
    expect(tagPatch('location.hall.row', null)).toEqual({ location: { hall: { row: null } } })
  })
})

describe('telemetry pruning', () => {
  const msg = (seq: number, at: number): TelemetryItem => ({
    seq, enqueuedTime: new Date(at).toISOString(), transport: 'mqtt', properties: {}, systemProperties: {}, body: '{}', bodyEncoding: 'utf8'
  })
  it('keeps the window, at least the last few, at most the cap', () => {
    const now = Date.parse('2026-01-01T00:10:00Z')
    const items = Array.from({ length: 20 }, (_, i) => msg(i + 1, now - (20 - i) * 60_000)) // one a minute, 20 min back
    expect(pruneTelemetry(items, now, 5 * 60_000, 2, 100).map(m => m.seq)).toEqual([16, 17, 18, 19, 20])
    expect(pruneTelemetry(items, now, 5 * 60_000, 8, 100).map(m => m.seq)).toEqual([13, 14, 15, 16, 17, 18, 19, 20])
    expect(pruneTelemetry(items, now, 60 * 60_000, 2, 3).map(m => m.seq)).toEqual([18, 19, 20])
    const fresh = items.slice(-3)
    expect(pruneTelemetry(fresh, now, 5 * 60_000, 2, 100)).toBe(fresh) // nothing to drop: same array
  })
})
