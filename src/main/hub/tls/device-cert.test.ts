import { X509Certificate } from 'node:crypto'
import tls from 'node:tls'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { certificateThumbprints, ensureTls, issueDeviceCertificate, normalizeThumbprint } from './index.js'
import * as x509 from './x509.js'
import { tempDir } from './test-helpers.js'

/** A TLS server that asks for a client certificate and reports the thumbprints it saw. */
async function startMutualTls (key: string, cert: string, ca: string): Promise<{ port: number; seen: Promise<{ sha1: string; authorized: boolean }> }> {
  let report: (v: { sha1: string; authorized: boolean }) => void = () => {}
  const seen = new Promise<{ sha1: string; authorized: boolean }>((resolve) => { report = resolve })
  const server = tls.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false }, (socket) => {
    report({ sha1: certificateThumbprints(socket.getPeerCertificate().raw).sha1, authorized: socket.authorized })
    socket.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  return { port: (server.address() as AddressInfo).port, seen }
}

describe('issueDeviceCertificate', () => {
  it('issues a CA-signed clientAuth certificate with CN = device id', async () => {
    const dir = await tempDir()
    const hub = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    const dev = await issueDeviceCertificate(dir, 'sensor-01')
    const cert = new X509Certificate(dev.cert)
    expect(cert.subject).toBe('CN=sensor-01')
    expect(cert.checkIssued(new X509Certificate(hub.ca))).toBe(true)
    const parsed = new x509.X509Certificate(dev.cert)
    expect(parsed.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth])
    expect(dev.thumbprints.sha1).toBe(cert.fingerprint.replace(/:/g, ''))
    expect(dev.thumbprints.sha256).toBe(cert.fingerprint256.replace(/:/g, ''))
    expect(dev.thumbprints.sha1).toMatch(/^[0-9A-F]{40}$/)

    const { port, seen } = await startMutualTls(hub.key, hub.cert, hub.ca)
    const socket = tls.connect({ host: '127.0.0.1', port, ca: hub.ca, key: dev.key, cert: dev.cert })
    socket.on('error', () => {})
    onTestFinished(() => { socket.destroy() })
    expect(await seen).toEqual({ sha1: dev.thumbprints.sha1, authorized: true })
  })

  it('issues a self-signed certificate on request, presented by thumbprint', async () => {
    const dir = await tempDir()
    const hub = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    const dev = await issueDeviceCertificate(dir, 'dev2', { signer: 'self' })
    const cert = new X509Certificate(dev.cert)
    expect(cert.issuer).toBe('CN=dev2')
    const { port, seen } = await startMutualTls(hub.key, hub.cert, hub.ca)
    const socket = tls.connect({ host: '127.0.0.1', port, ca: hub.ca, key: dev.key, cert: dev.cert })
    socket.on('error', () => {})
    onTestFinished(() => { socket.destroy() })
    expect(await seen).toEqual({ sha1: dev.thumbprints.sha1, authorized: false })
  })

  it('rejects an invalid device id', async () => {
    await expect(issueDeviceCertificate(await tempDir(), 'bad/id')).rejects.toThrow(/not a valid device id/)
  })
})

describe('thumbprints', () => {
  it('accepts PEM or DER and normalizes typed input', async () => {
    const dev = await issueDeviceCertificate(await tempDir(), 'd', { signer: 'self' })
    expect(certificateThumbprints(new X509Certificate(dev.cert).raw)).toEqual(dev.thumbprints)
    const colons = dev.thumbprints.sha1.toLowerCase().replace(/(..)(?!$)/g, '$1:')
    expect(normalizeThumbprint(colons)).toBe(dev.thumbprints.sha1)
    expect(normalizeThumbprint('xyz')).toBeNull()
  })
})
