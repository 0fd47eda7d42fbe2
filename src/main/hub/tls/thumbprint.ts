// Certificate thumbprints as IoT Hub shows them: hex, upper-case, no separators (A.2).
import { createHash, X509Certificate } from 'node:crypto'

export interface Thumbprints {
  sha1: string
  sha256: string
}

/** Thumbprints of a certificate given as PEM text or DER bytes (e.g. `getPeerCertificate().raw`). */
export function certificateThumbprints (cert: string | Buffer | Uint8Array): Thumbprints {
  const der = typeof cert === 'string' ? new X509Certificate(cert).raw : Buffer.from(cert)
  return {
    sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase()
  }
}

/** Normalizes a thumbprint typed by a person: drops `:` and spaces, upper-cases; null if not 40 or 64 hex digits. */
export function normalizeThumbprint (text: string): string | null {
  const hex = text.replace(/[:\s]/g, '').toUpperCase()
  return /^([0-9A-F]{40}|[0-9A-F]{64})$/.test(hex) ? hex : null
}
