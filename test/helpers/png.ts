// A small PNG decoder for screenshots (8-bit RGB/RGBA/grey, not interlaced: what Chromium
// writes), so tests can read pixels without an image library. Returns RGBA.
import { inflateSync } from 'node:zlib'

export interface Rgba { width: number; height: number; data: Uint8ClampedArray }

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

export function decodePng (png: Buffer): Rgba {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG')
  let width = 0
  let height = 0
  let colorType = -1
  const idat: Buffer[] = []
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at)
    const type = png.toString('latin1', at + 4, at + 8)
    const body = png.subarray(at + 8, at + 8 + len)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const depth = body[8]
      colorType = body[9] as number
      if (depth !== 8 || body[12] !== 0) throw new Error(`unsupported PNG: bit depth ${String(depth)}, interlace ${String(body[12])}`)
    } else if (type === 'IDAT') idat.push(body)
    else if (type === 'IEND') break
    at += 12 + len
  }
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType]
  if (channels === undefined) throw new Error(`unsupported PNG colour type ${colorType}`)
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const pixels = Buffer.alloc(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    const out = pixels.subarray(y * stride, (y + 1) * stride)
    const prev = y === 0 ? Buffer.alloc(stride) : pixels.subarray((y - 1) * stride, y * stride)
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels] as number : 0
      const b = prev[x] as number
      const c = x >= channels ? prev[x - channels] as number : 0
      const v = line[x] as number
      let r: number
      switch (filter) {
        case 0: r = v; break
        case 1: r = v + a; break
        case 2: r = v + b; break
        case 3: r = v + ((a + b) >> 1); break
        case 4: {
          const p = a + b - c
          const pa = Math.abs(p - a)
          const pb = Math.abs(p - b)
          const pc = Math.abs(p - c)
          r = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
          break
        }
        default: throw new Error(`bad PNG filter ${String(filter)}`)
      }
      out[x] = r & 0xff
    }
  }
  const data = new Uint8ClampedArray(width * height * 4)
  for (let i = 0; i < width * height; i++) {
    const p = i * channels
    const grey = channels <= 2
    data[i * 4] = pixels[p] as number
    data[i * 4 + 1] = pixels[grey ? p : p + 1] as number
    data[i * 4 + 2] = pixels[grey ? p : p + 2] as number
    data[i * 4 + 3] = channels === 4 ? pixels[p + 3] as number : channels === 2 ? pixels[p + 1] as number : 255
  }
  return { width, height, data }
}
