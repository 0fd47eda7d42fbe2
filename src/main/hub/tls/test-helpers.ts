// Helpers for the TLS tests: temp data dirs and a TLS echo server on an ephemeral port.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import type { AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'

export async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sitehub-tls-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

export async function startTlsServer (opts: tls.TlsOptions, host = '127.0.0.1'): Promise<{ port: number; server: tls.Server }> {
  const server = tls.createServer(opts, (socket) => { socket.end('hello') })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  onTestFinished(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  return { port: (server.address() as AddressInfo).port, server }
}

/** Connects, reads the greeting; rejects with the TLS verification error, if any. */
export async function tlsHello (opts: tls.ConnectionOptions): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = tls.connect(opts)
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { text += chunk })
    socket.on('end', () => { resolve(text) })
    socket.on('error', reject)
  })
}
