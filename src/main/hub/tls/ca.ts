// The hub's own certificate authority: generated once per data dir, then reused.
import * as x509 from './x509.js'
import {
  type CryptoKey, cryptoProvider, pemText, exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, randomId,
  randomSerial, signingAlgorithm, validity
} from './crypto.js'
import { readOptional, writeAtomic, type TlsPaths } from './files.js'

export interface CertificateAuthority {
  certPem: string
  cert: x509.X509Certificate
  key: CryptoKey
  /** Subject key identifier (hex), copied into the authority key identifier of what it signs. */
  keyId: string
}

const CA_DAYS = 3650

/**
 * A unique subject (host name plus a random id) keeps two hubs' CAs apart in one trust
 * store: OpenSSL looks issuers up by subject name (environment-notes: Certificates).
 */
async function createCa (hostName: string): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair()
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, cryptoProvider)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Sitehub CA ${hostName} ${randomId()}, O=Sitehub`,
    ...validity(CA_DAYS),
    keys,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      ski,
      new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    ]
  }, cryptoProvider)
  return { certPem: pemText(cert.toString('pem')), keyPem: await exportPrivateKeyPem(keys.privateKey) }
}

async function fromPem (certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem)
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension)
  const keyId = ski?.keyId ?? (await x509.SubjectKeyIdentifierExtension.create(cert.publicKey, false, cryptoProvider)).keyId
  return { certPem: pemText(certPem), cert, key: await importPrivateKeyPem(keyPem), keyId }
}

/**
 * Loads the CA of a data dir, creating it on first start. The key is written before the
 * certificate, so a crash between the two leaves only an orphan key, replaced next time.
 */
export async function loadOrCreateCa (paths: TlsPaths, hostName: string): Promise<{ ca: CertificateAuthority; created: boolean }> {
  const certPem = await readOptional(paths.caCert)
  const keyPem = await readOptional(paths.caKey)
  if (certPem !== undefined && keyPem !== undefined) return { ca: await fromPem(certPem, keyPem), created: false }
  if (certPem !== undefined) {
    throw new Error(`the hub CA certificate ${paths.caCert} exists but its key ${paths.caKey} is missing; ` +
      'restore the key, or remove both files to create a new CA (clients must then trust the new ca.pem)')
  }
  const made = await createCa(hostName)
  await writeAtomic(paths.caKey, made.keyPem, true)
  await writeAtomic(paths.caCert, made.certPem, false)
  return { ca: await fromPem(made.certPem, made.keyPem), created: true }
}
