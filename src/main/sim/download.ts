// A device-side firmware download: HTTPS GET with the device's own SAS token, hashing while the
// bytes arrive (nothing buffered whole), resuming with Range + If-Range after a broken transfer.
import { createHash } from 'node:crypto'
import { request } from 'node:https'

export interface DownloadOptions {
  url: string
  /** `SharedAccessSignature sr=...` (made fresh for each attempt). */
  token: () => string
  ca?: string | Buffer
  /** Called with bytes so far and the total (when known). */
  onProgress?: (received: number, total: number | undefined) => void
  /** Sees every chunk (the simulated flash). */
  onChunk?: (chunk: Buffer) => void
  /** Attempts after a broken transfer (default 5). */
  retries?: number
  signal?: AbortSignal
}

export interface DownloadResult {
  size: number
  sha256: string
  /** The hub's declared sha256 (x-ms-sha256), when sent. */
  declaredSha256?: string
}

export class DownloadError extends Error {
  constructor (readonly code: string, message: string, readonly status?: number) {
    super(message)
    this.name = 'DownloadError'
  }
}

export async function downloadImage (opts: DownloadOptions): Promise<DownloadResult> {
  const hash = createHash('sha256')
  let received = 0
  let total: number | undefined
  let etag: string | undefined
  let declared: string | undefined
  const retries = opts.retries ?? 5
  for (let attempt = 0; ; attempt++) {
    try {
      await once()
      return { size: received, sha256: hash.digest('hex'), ...(declared === undefined ? {} : { declaredSha256: declared }) }
    } catch (err) {
      // Refusals (401, 404, ...) are final; a broken connection resumes where it stopped.
      if (err instanceof DownloadError || attempt >= retries || opts.signal?.aborted === true) throw err
      await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** attempt, 5000)))
    }
  }

  function once (): Promise<void> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Authorization: opts.token() }
      if (received > 0) {
        headers['Range'] = `bytes=${received}-`
        if (etag !== undefined) headers['If-Range'] = etag
      }
      const req = request(opts.url, { method: 'GET', headers, ...(opts.ca === undefined ? {} : { ca: opts.ca }), ...(opts.signal === undefined ? {} : { signal: opts.signal }) }, (res) => {
        const status = res.statusCode ?? 0
        if (status !== 200 && status !== 206) {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => { if (body.length < 2000) body += c })
          res.on('end', () => reject(new DownloadError(status === 401 ? 'unauthorized' : status === 404 ? 'imageNotFound' : 'downloadFailed',
            `the hub answered ${status} for ${opts.url}: ${body.slice(0, 300)}`, status)))
          return
        }
        if (status === 200 && received > 0) {
          // The image changed (If-Range failed) or the server ignored Range: give up, the caller retries the update.
          res.resume()
          reject(new DownloadError('imageChanged', 'the image changed during the download'))
          return
        }
        const e = res.headers.etag
        if (typeof e === 'string') etag = e
        const sha = res.headers['x-ms-sha256']
        if (typeof sha === 'string') declared = sha
        const len = Number(res.headers['content-length'])
        if (Number.isFinite(len)) total = received + len
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk)
          received += chunk.length
          opts.onChunk?.(chunk)
          opts.onProgress?.(received, total)
        })
        res.on('error', reject)
        res.on('aborted', () => reject(new Error('download aborted')))
        res.on('end', () => {
          if (total !== undefined && received < total) reject(new Error(`download ended after ${received} of ${total} bytes`))
          else resolve()
        })
      })
      req.on('error', reject)
      req.end()
    })
  }
}
