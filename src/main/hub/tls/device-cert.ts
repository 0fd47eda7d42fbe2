// Client certificates for X.509 devices (CN = device id, clientAuth), for tests and the CLI.
import * as x509 from './x509.js'
import { loadOrCreateCa } from './ca.js'
import { cryptoProvider, exportPrivateKeyPem, pemText, generateKeyPair, randomSerial, signingAlgorithm, validity } from './crypto.js'
import { ensureTlsDir, tlsPaths } from './files.js'
import { certificateThumbprints, type Thumbprints } from './thumbprint.js'

export interface DeviceCertificate {
  /** Certificate, PEM. */
  cert: string
  /** Private key, PEM (PKCS#8). */
  key: string
  thumbprints: Thumbprints
}

export interface IssueDeviceCertificateOptions {
  /** 'ca' (default): signed by the hub CA of the data dir; 'self': self-signed. */
  signer?: 'ca' | 'self'
  /** Validity in days; default 365. */
  days?: number
}

const DEVICE_ID = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/

/**
 * Issues a client certificate whose CN is the device id. A hub authenticates it by thumbprint
 * (`selfSigned`) either way; the CA-signed form also chains to the hub CA (`certificateAuthority`).
 * Nothing is written to disk: the caller decides where the key goes.
 */
export async function issueDeviceCertificate (dataDir: string, deviceId: string, opts: IssueDeviceCertificateOptions = {}): Promise<DeviceCertificate> {
  if (!DEVICE_ID.test(deviceId)) throw new Error(`"${deviceId}" is not a valid device id`)
  const keys = await generateKeyPair()
  const name = `CN=${deviceId.replace(/[,+="<>#;\\]/g, '\\$&')}`
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, cryptoProvider)
  ]
  const base = { serialNumber: randomSerial(), ...validity(opts.days ?? 365), signingAlgorithm }
  let cert: x509.X509Certificate
  if ((opts.signer ?? 'ca') === 'self') {
    cert = await x509.X509CertificateGenerator.createSelfSigned({ ...base, name, keys, extensions }, cryptoProvider)
  } else {
    const paths = tlsPaths(dataDir)
    await ensureTlsDir(paths)
    const { ca } = await loadOrCreateCa(paths, 'devices')
    extensions.push(new x509.AuthorityKeyIdentifierExtension(ca.keyId))
    cert = await x509.X509CertificateGenerator.create({
      ...base, subject: name, issuer: ca.cert.subjectName, publicKey: keys.publicKey, signingKey: ca.key, extensions
    }, cryptoProvider)
  }
  const certPem = pemText(cert.toString('pem'))
  return { cert: certPem, key: await exportPrivateKeyPem(keys.privateKey), thumbprints: certificateThumbprints(certPem) }
}
