// Length-prefixed, checksummed frames: the on-disk unit of the journal and the telemetry log.
//   [u32 BE payload length][u32 BE crc32(length bytes + payload)][payload]
// The crc covers the length too, so a torn or flipped length is caught instead of making the
// reader jump into the middle of another frame.
import { crc32 } from 'node:zlib'

export const FRAME_HEADER_BYTES = 8
/** A length above this is garbage, not a record (guards against allocating on a corrupt length). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024

export function encodeFrame (payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
  frame.writeUInt32BE(payload.length, 0)
  payload.copy(frame, FRAME_HEADER_BYTES)
  frame.writeUInt32BE(crc32(frame.subarray(FRAME_HEADER_BYTES), crc32(frame.subarray(0, 4))), 4)
  return frame
}

/** Encodes a frame whose payload is `prefix + text` without building the payload first (hot path). */
export function encodeFrameParts (prefix: Buffer | null, text: string, tail: Buffer | null): Buffer {
  const pre = prefix?.length ?? 0
  const textBytes = Buffer.byteLength(text)
  const len = pre + textBytes + (tail?.length ?? 0)
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len)
  frame.writeUInt32BE(len, 0)
  if (prefix !== null) prefix.copy(frame, FRAME_HEADER_BYTES)
  frame.write(text, FRAME_HEADER_BYTES + pre, textBytes, 'utf8')
  if (tail !== null) tail.copy(frame, FRAME_HEADER_BYTES + pre + textBytes)
  frame.writeUInt32BE(crc32(frame.subarray(FRAME_HEADER_BYTES), crc32(frame.subarray(0, 4))), 4)
  return frame
}

export interface DecodedFrame {
  /** Offset of the frame (its header) in the buffer. */
  offset: number
  /** Offset just past the frame. */
  end: number
  payload: Buffer
}

export type FrameResult =
  | { kind: 'frame'; frame: DecodedFrame }
  /** Not enough bytes for a whole frame: a torn tail if this is the end of the file. */
  | { kind: 'partial' }
  | { kind: 'corrupt'; reason: string }
  | { kind: 'end' }

/** Decodes the frame at `offset`. Never throws. */
export function decodeFrameAt (buf: Buffer, offset: number): FrameResult {
  if (offset === buf.length) return { kind: 'end' }
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'partial' }
  const len = buf.readUInt32BE(offset)
  if (len > MAX_FRAME_BYTES) return { kind: 'corrupt', reason: `implausible frame length ${len}` }
  const end = offset + FRAME_HEADER_BYTES + len
  if (end > buf.length) return { kind: 'partial' }
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end)
  const want = buf.readUInt32BE(offset + 4)
  if (crc32(payload, crc32(buf.subarray(offset, offset + 4))) !== want) return { kind: 'corrupt', reason: 'checksum mismatch' }
  return { kind: 'frame', frame: { offset, end, payload } }
}
