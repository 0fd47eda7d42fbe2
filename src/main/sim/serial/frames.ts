// Line protocol v1 frames for the simulated device: the same wire format the hub parses
// (docs/serial-protocol.md), written out plainly as a firmware author would.
import { createHmac } from 'node:crypto'
import { crc16, crcHex } from '../../hub/transports/serial/crc.js'

/** `JSON*CRC\n` */
export function frame (msg: object): Buffer {
  const json = JSON.stringify(msg)
  return Buffer.from(`${json}*${crcHex(crc16(Buffer.from(json, 'utf8')))}\n`, 'utf8')
}

/** Parses one line (without the newline); null when the checksum or JSON is bad. */
export function parseLine (line: string): Record<string, unknown> | null {
  const star = line.lastIndexOf('*')
  if (star < 1) return null
  const json = line.slice(0, star)
  if (crcHex(crc16(Buffer.from(json, 'utf8'))) !== line.slice(star + 1).trim().toUpperCase()) return null
  try {
    const v: unknown = JSON.parse(json)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : null
  } catch {
    return null
  }
}

/** The identify proof: base64(HMAC-SHA256(base64decode(key), deviceId + "\n" + nonce)). */
export function proof (key: string, deviceId: string, nonce: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(`${deviceId}\n${nonce}`).digest('base64')
}
