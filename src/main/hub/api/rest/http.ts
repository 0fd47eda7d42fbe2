// HTTP plumbing for the service REST API: JSON bodies with size limits, IoT Hub error bodies (C.1).
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HubError, type ErrorName } from '../../errors.js'

export const MAX_BODY_BYTES = 256 * 1024

export class HttpError extends Error {
  constructor (readonly status: number, readonly errorName: string, message: string) {
    super(message)
  }
}

export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  // [C.1] azure-iothub parses a body only when Content-Type says JSON.
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

export function sendNoContent (res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(204, headers)
  res.end()
}

/** Both envelopes real hubs use (C.1): `Message` for the Node parser, `errorCode`/`message` for the method-style one. */
export function sendError (res: ServerResponse, err: unknown): void {
  let status = 500
  let name = 'ServerError'
  let code: number | undefined = 500001
  let message = 'Internal server error.'
  if (err instanceof HubError) {
    status = err.httpStatus
    name = err.errorName
    code = err.code
    message = err.message
  } else if (err instanceof HttpError) {
    status = err.status
    name = err.errorName
    code = undefined
    message = err.message
  }
  const trackingId = randomBytes(16).toString('hex')
  const timestampUtc = new Date().toISOString()
  const body: Record<string, unknown> = {
    Message: `ErrorCode:${name};${message}`,
    ExceptionMessage: `Tracking ID:${trackingId}-G:0-TimeStamp:${timestampUtc}`,
    message,
    trackingId,
    timestampUtc
  }
  if (code !== undefined) body['errorCode'] = code
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, status, body, { 'iothub-errorcode': name })
}

export const hubError = (name: ErrorName, message: string): HubError => new HubError(name, message)

/** Reads a JSON body; empty body -> undefined. Malformed -> 400, too large -> 413. */
export function readJson (req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > limit) {
      req.resume()
      reject(new HubError('MessageTooLarge', `The request body is larger than ${limit} bytes.`))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return
      size += chunk.length
      if (size > limit) {
        // Keep draining (ignoring) the rest so the client can read the 413 instead of a reset.
        tooLarge = true
        chunks.length = 0
        reject(new HubError('MessageTooLarge', `The request body is larger than ${limit} bytes.`))
        return
      }
      chunks.push(chunk)
    })
    req.on('error', reject)
    req.on('end', () => {
      if (tooLarge) return
      const text = Buffer.concat(chunks).toString('utf8')
      if (text.trim() === '') { resolve(undefined); return }
      try {
        resolve(JSON.parse(text))
      } catch (err) {
        reject(new HubError('ArgumentInvalid', `The request body is not valid JSON: ${(err as Error).message}`))
      }
    })
  })
}

/** [C.1] If-Match arrives quoted, maybe weak: strip both. */
export function ifMatch (req: IncomingMessage): string | undefined {
  const raw = req.headers['if-match']
  if (raw === undefined || raw === '') return undefined
  return raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1')
}
