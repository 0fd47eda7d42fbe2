// Register words <-> values per profile type (docs/modbus.md). 32-bit values span two
// registers; wordOrder 'big' puts the high word at the lower address (the usual convention).
import type { RegisterSpec, RegisterType } from '../../../serial/modbus-profile.js'

const buf4 = Buffer.alloc(4)

function wordsToBuf (words: readonly number[], wordOrder: 'big' | 'little'): Buffer {
  const [w0 = 0, w1 = 0] = words
  const hi = wordOrder === 'big' ? w0 : w1
  const lo = wordOrder === 'big' ? w1 : w0
  buf4.writeUInt16BE(hi & 0xffff, 0)
  buf4.writeUInt16BE(lo & 0xffff, 2)
  return buf4
}

/** Raw register value (before scale) from its words. */
export function decodeRaw (type: RegisterType, words: readonly number[], wordOrder: 'big' | 'little'): number {
  const w = (words[0] ?? 0) & 0xffff
  switch (type) {
    case 'bool': return w !== 0 ? 1 : 0
    case 'uint16': return w
    case 'int16': return w >= 0x8000 ? w - 0x10000 : w
    case 'uint32': return wordsToBuf(words, wordOrder).readUInt32BE(0)
    case 'int32': return wordsToBuf(words, wordOrder).readInt32BE(0)
    case 'float32': return wordsToBuf(words, wordOrder).readFloatBE(0)
  }
}

/** Scaled value, rounded to the scale's decimals so 0.1 * 215 reads 21.5, not 21.500000000000004. */
export function scaleValue (raw: number, spec: Pick<RegisterSpec, 'scale' | 'type'>): number | boolean {
  if (spec.type === 'bool') return raw !== 0
  if (spec.scale === 1) return raw
  const v = raw * spec.scale
  if (spec.type === 'float32') return v
  const decimals = Math.max(0, Math.ceil(-Math.log10(Math.abs(spec.scale))) + 1)
  return Number(v.toFixed(Math.min(decimals, 10)))
}

/** Words to write for a value; throws a plain Error with a technician-readable reason. */
export function encodeValue (spec: RegisterSpec, value: unknown, wordOrder: 'big' | 'little'): number[] {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${spec.name} must be a number`)
  if (spec.min !== undefined && value < spec.min) throw new Error(`${spec.name} ${value} is below the minimum ${spec.min}`)
  if (spec.max !== undefined && value > spec.max) throw new Error(`${spec.name} ${value} is above the maximum ${spec.max}`)
  const raw = spec.type === 'float32' ? value / spec.scale : Math.round(value / spec.scale)
  const range: Record<string, [number, number]> = { uint16: [0, 0xffff], int16: [-0x8000, 0x7fff], uint32: [0, 0xffffffff], int32: [-0x80000000, 0x7fffffff] }
  const r = range[spec.type]
  if (r !== undefined && (raw < r[0] || raw > r[1])) throw new Error(`${spec.name} ${value} does not fit a ${spec.type} register (scale ${spec.scale})`)
  const b = Buffer.alloc(4)
  switch (spec.type) {
    case 'uint16': return [raw & 0xffff]
    case 'int16': return [raw & 0xffff]
    case 'uint32': b.writeUInt32BE(raw, 0); break
    case 'int32': b.writeInt32BE(raw, 0); break
    case 'float32': b.writeFloatBE(raw, 0); break
    case 'bool': return [raw !== 0 ? 1 : 0]
  }
  const hi = b.readUInt16BE(0)
  const lo = b.readUInt16BE(2)
  return wordOrder === 'big' ? [hi, lo] : [lo, hi]
}

export interface Span {
  area: RegisterSpec['area']
  start: number
  length: number
  regs: RegisterSpec[]
}

const MAX_WORDS = 120
const MAX_BITS = 1000
const MAX_GAP = 8

/** Groups registers of one area into few read requests (contiguous or nearly, bounded length). */
export function planSpans (regs: readonly RegisterSpec[]): Span[] {
  const sorted = [...regs].sort((a, b) => (a.area === b.area ? a.address - b.address : a.area < b.area ? -1 : 1))
  const spans: Span[] = []
  for (const r of sorted) {
    const len = r.type === 'bool' ? 1 : (r.type === 'uint32' || r.type === 'int32' || r.type === 'float32' ? 2 : 1)
    const last = spans[spans.length - 1]
    const max = r.area === 'coil' || r.area === 'discrete' ? MAX_BITS : MAX_WORDS
    if (last !== undefined && last.area === r.area && r.address <= last.start + last.length + MAX_GAP && r.address + len - last.start <= max) {
      last.length = Math.max(last.length, r.address + len - last.start)
      last.regs.push(r)
    } else {
      spans.push({ area: r.area, start: r.address, length: len, regs: [r] })
    }
  }
  return spans
}
