// The TLS server certificate, signed by the hub CA, for the host name and bind address.
import { X509Certificate as NodeX509, createPrivateKey } from 'node:crypto'
import * as x509 from './x509.js'
import type { CertificateAuthority } from './ca.js'
import { cryptoProvider, exportPrivateKeyPem, pemText, generateKeyPair, randomSerial, signingAlgorithm, validity, ONE_DAY_MS } from './crypto.js'
import type { CertNames } from './names.js'

const SERVER_DAYS = 730
const RENEW_BEFORE_DAYS = 30

export async function issueServerCertificate (ca: CertificateAuthority, hostName: string, names: CertNames): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair()
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${hostName.replace(/[,+="<>#;\\]/g, '')}, O=Sitehub`,
    issuer: ca.cert.subjectName,
    ...validity(SERVER_DAYS),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value }))
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, cryptoProvider),
      new x509.AuthorityKeyIdentifierExtension(ca.keyId)
    ]
  }, cryptoProvider)
  return { certPem: pemText(cert.toString('pem')), keyPem: await exportPrivateKeyPem(keys.privateKey) }
}

/**
 * Why an existing server certificate must be replaced, or null when it can be reused:
 * signed by another CA, key mismatch, a name or address not covered, or expiring soon.
 */
export function reissueReason (certPem: string, keyPem: string, caPem: string, names: CertNames, now = Date.now()): string | null {
  let cert: NodeX509
  try {
    cert = new NodeX509(certPem)
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'its key does not match'
  } catch {
    return 'it cannot be read'
  }
  const ca = new NodeX509(caPem)
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'it was not signed by the current CA'
  for (const dns of names.dns) {
    if (cert.checkHost(dns, { wildcards: false }) === undefined) return `it does not cover the name ${dns}`
  }
  for (const ip of names.ips) {
    if (cert.checkIP(ip) === undefined) return `it does not cover the address ${ip}`
  }
  if (Date.parse(cert.validTo) - now < RENEW_BEFORE_DAYS * ONE_DAY_MS) return 'it expires within 30 days'
  return null
}
