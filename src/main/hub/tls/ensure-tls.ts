// First start creates the hub CA and a server certificate; later starts reuse them and
// reissue only the server certificate (same CA) when it no longer fits.
import { loadOrCreateCa } from './ca.js'
import { ensureTlsDir, readOptional, tlsPaths, writeAtomic } from './files.js'
import { certNames } from './names.js'
import { issueServerCertificate, reissueReason } from './server-cert.js'

export interface EnsureTlsOptions {
  hostName: string
  bind: string
  extraNames?: string[]
  /** Told why a certificate was created or reissued. */
  onChange?: (message: string) => void
}

export interface TlsMaterial {
  /** Path of the CA certificate clients must trust (`DIR/tls/ca.pem`). */
  caFile: string
  /** CA certificate, PEM. */
  ca: string
  /** Server private key, PEM (PKCS#8). */
  key: string
  /** Server certificate, PEM. */
  cert: string
}

export async function ensureTls (dataDir: string, opts: EnsureTlsOptions): Promise<TlsMaterial> {
  const paths = tlsPaths(dataDir)
  await ensureTlsDir(paths)
  const { ca, created } = await loadOrCreateCa(paths, opts.hostName)
  if (created) opts.onChange?.(`created a new hub CA ${paths.caCert} (${ca.cert.subject})`)
  const names = certNames(opts)

  const cert = await readOptional(paths.serverCert)
  const key = await readOptional(paths.serverKey)
  const reason = cert === undefined || key === undefined
    ? 'there is none yet'
    : reissueReason(cert, key, ca.certPem, names)
  if (reason === null && cert !== undefined && key !== undefined) {
    return { caFile: paths.caCert, ca: ca.certPem, key, cert }
  }

  const issued = await issueServerCertificate(ca, opts.hostName, names)
  // Key first: a crash in between leaves a key without its cert, detected as a mismatch next start.
  await writeAtomic(paths.serverKey, issued.keyPem, true)
  await writeAtomic(paths.serverCert, issued.certPem, false)
  opts.onChange?.(`issued a server certificate for ${[...names.dns, ...names.ips].join(', ')} because ${reason}`)
  return { caFile: paths.caCert, ca: ca.certPem, key: issued.keyPem, cert: issued.certPem }
}
