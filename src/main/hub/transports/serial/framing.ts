// Line protocol v1 framing (docs/serial-protocol.md): `JSON*CRC\n`, where CRC is four hex
// digits of CRC-16/CCITT-FALSE over the JSON bytes. The framer splits a byte stream into lines,
// bounded by maxLineBytes: a longer line is dropped up to its newline and counted, never buffered.
import { crc16, crcHex } from './crc.js'

const NL = 0x0a
const CR = 0x0d
const STAR = 0x2a

export interface FramerEvents {
  onLine(line: Buffer): void
  onOversize(bytes: number): void
}

export interface LineFramer {
  push(chunk: Buffer): void
  /** Drops a partial line (the port closed mid-frame). */
  reset(): void
  /** Bytes of the partial line held now. */
  pending(): number
}

export function createLineFramer (maxLineBytes: number, ev: FramerEvents): LineFramer {
  let parts: Buffer[] = []
  let held = 0
  /** Inside an oversize line: skip to the next newline. */
  let skipping = false
  let skipped = 0

  function take (chunk: Buffer, start: number, end: number): void {
    if (end <= start) return
    if (skipping) { skipped += end - start; return }
    if (held + end - start > maxLineBytes) {
      skipping = true
      skipped = held + end - start
      parts = []
      held = 0
      return
    }
    parts.push(chunk.subarray(start, end))
    held += end - start
  }

  return {
    push (chunk) {
      let start = 0
      for (;;) {
        const nl = chunk.indexOf(NL, start)
        if (nl < 0) { take(chunk, start, chunk.length); return }
        take(chunk, start, nl)
        if (skipping) {
          ev.onOversize(skipped)
          skipping = false
          skipped = 0
        } else if (held > 0) {
          const line = parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts, held)
          parts = []
          held = 0
          ev.onLine(line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line)
        }
        start = nl + 1
      }
    },
    reset () { parts = []; held = 0; skipping = false; skipped = 0 },
    pending: () => held
  }
}

export type DecodedFrame =
  | { ok: true; msg: Record<string, unknown> }
  | { ok: false; error: 'checksum' | 'garbage'; detail: string }

const HEX = /^[0-9A-Fa-f]{4}$/

/** `JSON*CRC` -> the JSON object. Checks the CRC before parsing anything. */
export function decodeFrame (line: Buffer): DecodedFrame {
  const star = line.lastIndexOf(STAR)
  if (star < 1 || line.length - star !== 5) return { ok: false, error: 'garbage', detail: 'no *CRC suffix' }
  const hex = line.toString('latin1', star + 1)
  if (!HEX.test(hex)) return { ok: false, error: 'garbage', detail: 'CRC is not 4 hex digits' }
  const crc = crc16(line, 0, star)
  if (crc !== parseInt(hex, 16)) return { ok: false, error: 'checksum', detail: `CRC ${hex} should be ${crcHex(crc)}` }
  let msg: unknown
  try {
    msg = JSON.parse(line.toString('utf8', 0, star))
  } catch {
    return { ok: false, error: 'garbage', detail: 'not JSON' }
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { ok: false, error: 'garbage', detail: 'not a JSON object' }
  return { ok: true, msg: msg as Record<string, unknown> }
}

/** A frame from JSON text (already serialized). */
export function frameText (json: string): Buffer {
  const body = Buffer.from(json, 'utf8')
  const out = Buffer.allocUnsafe(body.length + 6)
  body.copy(out, 0)
  out[body.length] = STAR
  out.write(crcHex(crc16(body)), body.length + 1, 'latin1')
  out[body.length + 5] = NL
  return out
}

export const encodeFrame = (msg: object): Buffer => frameText(JSON.stringify(msg))
