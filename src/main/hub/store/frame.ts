// Length-prefixed, checksummed frames: the on-disk unit of the journal and the telemetry log.
//   [u32 BE crc32(length bytes + payload)][u32 BE payload length][payload]
// The crc covers the length too, so a torn or flipped length is caught instead of making the
// reader jump into the middle of another frame; crc first makes what it covers one contiguous
// range (one crc32 call: this is on the telemetry hot path).
import { crc32 } from 'node:zlib'

export const FRAME_HEADER_BYTES = 8
/** A length above this is garbage, not a record (guards against allocating on a corrupt length). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024

export function encodeFrame (payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
  frame.writeUInt32BE(payload.length, 4)
  payload.copy(frame, FRAME_HEADER_BYTES)
  sealFrame(frame)
  return frame
}

/** Encodes a frame whose payload is `prefix + text` without building the payload first (hot path). */
export function encodeFrameParts (prefix: Buffer | null, text: string, tail: Buffer | null): Buffer {
  const pre = prefix?.length ?? 0
  const textBytes = Buffer.byteLength(text)
  const len = pre + textBytes + (tail?.length ?? 0)
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len)
  frame.writeUInt32BE(len, 4)
  if (prefix !== null) prefix.copy(frame, FRAME_HEADER_BYTES)
  frame.write(text, FRAME_HEADER_BYTES + pre, textBytes, 'utf8')
  if (tail !== null) tail.copy(frame, FRAME_HEADER_BYTES + pre + textBytes)
  sealFrame(frame)
  return frame
}

/** Writes the checksum of a frame whose length and payload are in place. */
export function sealFrame (frame: Buffer): void {
  frame.writeUInt32BE(crc32(frame.subarray(4)), 0)
}

/** The payload length field of the frame at `offset` (caller checks 8 bytes are there). */
export const frameLengthAt = (buf: Buffer, offset: number): number => buf.readUInt32BE(offset + 4)

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
  const len = frameLengthAt(buf, offset)
  if (len > MAX_FRAME_BYTES) return { kind: 'corrupt', reason: `implausible frame length ${len}` }
  const end = offset + FRAME_HEADER_BYTES + len
  if (end > buf.length) return { kind: 'partial' }
  if (crc32(buf.subarray(offset + 4, end)) !== buf.readUInt32BE(offset)) return { kind: 'corrupt', reason: 'checksum mismatch' }
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end)
  return { kind: 'frame', frame: { offset, end, payload } }
}
