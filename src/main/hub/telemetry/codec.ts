// Telemetry record frames. The body stays binary (no base64): one frame is
//   [u32 crc32(len + payload)][u32 len][payload = u32 headerLen, header JSON, body bytes]
// using the store's frame layout, so one reader/checker serves both files.
import { FRAME_HEADER_BYTES, encodeFrame, sealFrame } from '../store/frame.js'
import type { StoredTelemetry, TelemetryMessage } from '../types.js'

export const SEGMENT_SCHEMA_VERSION = 1

/** Compact header keys: this is encoded once per message on the hot path. */
interface RecordHeader {
  s: number
  d: string
  m?: string
  t: string
  x: TelemetryMessage['transport']
  sp: Record<string, string>
  p: Record<string, string | null>
}

export function encodeRecord (seq: number, msg: TelemetryMessage): Buffer {
  const h: RecordHeader = { s: seq, d: msg.deviceId, t: msg.enqueuedTime, x: msg.transport, sp: msg.systemProperties, p: msg.properties }
  if (msg.moduleId !== undefined) h.m = msg.moduleId
  const text = JSON.stringify(h)
  const hlen = Buffer.byteLength(text)
  const len = 4 + hlen + msg.body.length
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len)
  frame.writeUInt32BE(len, 4)
  frame.writeUInt32BE(hlen, FRAME_HEADER_BYTES)
  frame.write(text, FRAME_HEADER_BYTES + 4, hlen, 'utf8')
  msg.body.copy(frame, FRAME_HEADER_BYTES + 4 + hlen)
  sealFrame(frame)
  return frame
}

export interface RecordMeta { seq: number; deviceKey: string; atMs: number }

function parseHeader (payload: Buffer): RecordHeader {
  const hlen = payload.readUInt32BE(0)
  return JSON.parse(payload.toString('utf8', 4, 4 + hlen)) as RecordHeader
}

/** Just what the indexes need (used when rebuilding them on open). */
export function decodeMeta (payload: Buffer): RecordMeta {
  const h = parseHeader(payload)
  return { seq: h.s, deviceKey: h.m === undefined ? h.d : `${h.d}/${h.m}`, atMs: Date.parse(h.t) }
}

export function decodeRecord (payload: Buffer): StoredTelemetry {
  const hlen = payload.readUInt32BE(0)
  const h = parseHeader(payload)
  // Copy the body out: the payload is a view on a read buffer that may be large.
  const rec: StoredTelemetry = {
    seq: h.s,
    deviceId: h.d,
    systemProperties: h.sp,
    properties: h.p,
    body: Buffer.from(payload.subarray(4 + hlen)),
    enqueuedTime: h.t,
    transport: h.x
  }
  if (h.m !== undefined) rec.moduleId = h.m
  return rec
}

export function deviceKeyOf (msg: { deviceId: string; moduleId?: string }): string {
  return msg.moduleId === undefined ? msg.deviceId : `${msg.deviceId}/${msg.moduleId}`
}

export function encodeSegmentHeader (firstSeq: number, now: number): Buffer {
  return encodeFrame(Buffer.from(JSON.stringify({ type: 'sitehub-telemetry', schemaVersion: SEGMENT_SCHEMA_VERSION, firstSeq, createdAt: new Date(now).toISOString() })))
}

export function decodeSegmentHeader (payload: Buffer): { schemaVersion: number; firstSeq: number } | null {
  try {
    const h = JSON.parse(payload.toString('utf8')) as { type?: unknown; schemaVersion?: unknown; firstSeq?: unknown }
    if (h.type !== 'sitehub-telemetry' || typeof h.schemaVersion !== 'number' || typeof h.firstSeq !== 'number') return null
    return { schemaVersion: h.schemaVersion, firstSeq: h.firstSeq }
  } catch {
    return null
  }
}
