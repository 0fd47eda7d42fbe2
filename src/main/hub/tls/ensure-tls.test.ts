import { X509Certificate } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import * as x509 from './x509.js'
import { describe, expect, it } from 'vitest'
import { ensureTls, tlsPaths } from './index.js'
import { reissueReason } from './server-cert.js'
import { certNames } from './names.js'
import { startTlsServer, tempDir, tlsHello } from './test-helpers.js'

describe('ensureTls', () => {
  it('creates a CA and a server certificate, keys readable by the owner only', async () => {
    const dir = await tempDir()
    const material = await ensureTls(dir, { hostName: 'hub.example.test', bind: '127.0.0.1' })
    const paths = tlsPaths(dir)
    expect(material.caFile).toBe(paths.caCert)
    expect(await readFile(paths.caCert, 'utf8')).toBe(material.ca)
    expect(await readFile(paths.serverCert, 'utf8')).toBe(material.cert)
    expect(await readFile(paths.serverKey, 'utf8')).toBe(material.key)
    if (process.platform !== 'win32') {
      expect((await stat(paths.caKey)).mode & 0o777).toBe(0o600)
      expect((await stat(paths.serverKey)).mode & 0o777).toBe(0o600)
    }
    const ca = new X509Certificate(material.ca)
    expect(ca.ca).toBe(true)
    expect(ca.subject).toMatch(/CN=Sitehub CA hub\.example\.test [0-9a-f]{12}/)
    const cert = new X509Certificate(material.cert)
    expect(cert.checkIssued(ca)).toBe(true)
    expect(cert.subjectAltName).toContain('DNS:hub.example.test')
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1')
    expect(Date.parse(cert.validTo) - Date.now()).toBeGreaterThan(700 * 86400_000)
  })

  it('puts the authority key identifier (= CA subject key id), SKI and serverAuth on the server cert', async () => {
    const dir = await tempDir()
    const material = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    const ca = new x509.X509Certificate(material.ca)
    const cert = new x509.X509Certificate(material.cert)
    const caSki = ca.getExtension(x509.SubjectKeyIdentifierExtension)
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)
    expect(caSki?.keyId).toBeTruthy()
    expect(aki?.keyId).toBe(caSki?.keyId)
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toBeTruthy()
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth])
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false)
  })

  it('gives every CA a unique subject, even for the same host name', async () => {
    const a = await ensureTls(await tempDir(), { hostName: 'localhost', bind: '127.0.0.1' })
    const b = await ensureTls(await tempDir(), { hostName: 'localhost', bind: '127.0.0.1' })
    expect(new X509Certificate(a.ca).subject).not.toBe(new X509Certificate(b.ca).subject)
  })

  it('reuses the material on a later start', async () => {
    const dir = await tempDir()
    const first = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    const second = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    expect(second).toEqual(first)
  })

  it('reissues the server certificate with the same CA when the host name or bind changes', async () => {
    const dir = await tempDir()
    const messages: string[] = []
    const first = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    const renamed = await ensureTls(dir, { hostName: 'plant7.example.test', bind: '127.0.0.1', onChange: (m) => messages.push(m) })
    expect(renamed.ca).toBe(first.ca)
    expect(renamed.cert).not.toBe(first.cert)
    expect(messages.join('\n')).toMatch(/does not cover the name plant7\.example\.test/)
    const rebound = await ensureTls(dir, { hostName: 'plant7.example.test', bind: '127.0.0.9' })
    expect(rebound.ca).toBe(first.ca)
    expect(new X509Certificate(rebound.cert).checkIP('127.0.0.9')).toBe('127.0.0.9')
    expect(new X509Certificate(rebound.cert).checkIssued(new X509Certificate(first.ca))).toBe(true)
  })

  it('reissues when the server certificate expires within 30 days or its key is lost', async () => {
    const dir = await tempDir()
    const m = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    const names = certNames({ hostName: 'localhost', bind: '127.0.0.1' })
    expect(reissueReason(m.cert, m.key, m.ca, names)).toBeNull()
    expect(reissueReason(m.cert, m.key, m.ca, names, Date.now() + 710 * 86400_000)).toMatch(/expires within 30 days/)
    await writeFile(tlsPaths(dir).serverKey, (await ensureTls(await tempDir(), { hostName: 'x', bind: '127.0.0.1' })).key)
    const again = await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    expect(again.cert).not.toBe(m.cert)
    expect(again.ca).toBe(m.ca)
  })

  it('covers loopback, localhost and the machine name on a wildcard bind', async () => {
    const m = await ensureTls(await tempDir(), { hostName: 'hub.example.test', bind: '0.0.0.0', extraNames: ['10.1.2.3', 'alias.example.test'] })
    const cert = new X509Certificate(m.cert)
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(cert.checkIP('10.1.2.3')).toBe('10.1.2.3')
    expect(cert.checkHost('localhost')).toBe('localhost')
    expect(cert.checkHost('alias.example.test')).toBe('alias.example.test')
    if (/^[A-Za-z0-9.-]+$/.test(hostname())) expect(cert.checkHost(hostname())).toBeDefined()
    expect(cert.subjectAltName).not.toContain('0.0.0.0')
  })

  it('refuses to replace a CA whose key is missing', async () => {
    const dir = await tempDir()
    await ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })
    await writeFile(tlsPaths(dir).caKey, '')
    const { rm } = await import('node:fs/promises')
    await rm(tlsPaths(dir).caKey)
    await expect(ensureTls(dir, { hostName: 'localhost', bind: '127.0.0.1' })).rejects.toThrow(/key .* is missing/)
  })
})

describe('generated certificates with Node tls', () => {
  it('serve a client that trusts ca.pem, by host name and by IP', async () => {
    const m = await ensureTls(await tempDir(), { hostName: 'hub.example.test', bind: '127.0.0.1' })
    const { port } = await startTlsServer({ key: m.key, cert: m.cert })
    const ca = await readFile(m.caFile, 'utf8')
    expect(await tlsHello({ host: '127.0.0.1', port, ca, servername: 'hub.example.test' })).toBe('hello')
    expect(await tlsHello({ host: '127.0.0.1', port, ca })).toBe('hello')
    await expect(tlsHello({ host: '127.0.0.1', port, ca, servername: 'other.example.test' })).rejects.toThrow(/altnames|Hostname/i)
  })

  it('are not accepted without the CA', async () => {
    const m = await ensureTls(await tempDir(), { hostName: 'localhost', bind: '127.0.0.1' })
    const { port } = await startTlsServer({ key: m.key, cert: m.cert })
    await expect(tlsHello({ host: '127.0.0.1', port, servername: 'localhost' })).rejects.toThrow(/self.signed|unable to (get|verify)/i)
  })

  it('two hubs with the same host name: both CAs in one trust store, both servers verify', async () => {
    const a = await ensureTls(await tempDir(), { hostName: 'localhost', bind: '127.0.0.1' })
    const b = await ensureTls(await tempDir(), { hostName: 'localhost', bind: '127.0.0.1' })
    const sa = await startTlsServer({ key: a.key, cert: a.cert })
    const sb = await startTlsServer({ key: b.key, cert: b.cert })
    for (const ca of [[a.ca, b.ca], [b.ca, a.ca]]) {
      expect(await tlsHello({ host: '127.0.0.1', port: sa.port, ca, servername: 'localhost' })).toBe('hello')
      expect(await tlsHello({ host: '127.0.0.1', port: sb.port, ca, servername: 'localhost' })).toBe('hello')
    }
  })
})
