// Key and PEM helpers over Node's WebCrypto (ECDSA P-256), the only algorithm we issue.
// P-256 with SHA-256 is accepted by Node's tls, OpenSSL (mosquitto) and mqtt.js alike.
import { webcrypto } from 'node:crypto'
import * as x509 from './x509.js'

export type CryptoKey = webcrypto.CryptoKey
export type CryptoKeyPair = webcrypto.CryptoKeyPair
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>

/** The WebCrypto provider handed to @peculiar/x509 explicitly (no global provider). */
export const cryptoProvider = webcrypto as unknown as X509Crypto
const subtle = webcrypto.subtle

export const keyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const
export const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const

export async function generateKeyPair (): Promise<CryptoKeyPair> {
  return await subtle.generateKey(keyAlgorithm, true, ['sign', 'verify'])
}

/** PEM text ending in a newline, so files concatenate into valid bundles (`cat a.pem b.pem`). */
export function pemText (pem: string): string {
  const text = pem.replace(/\r\n/g, '\n')
  return text.endsWith('\n') ? text : `${text}\n`
}

export async function exportPrivateKeyPem (key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key)
  return pemText(x509.PemConverter.encode(der, 'PRIVATE KEY'))
}

export async function importPrivateKeyPem (pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem)
  return await subtle.importKey('pkcs8', der, keyAlgorithm, true, ['sign'])
}

/** A random positive serial number (16 bytes, high bit clear, never zero). */
export function randomSerial (): string {
  const bytes = new Uint8Array(16)
  webcrypto.getRandomValues(bytes)
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01
  return Buffer.from(bytes).toString('hex')
}

/** A short random id for unique CA subjects (environment-notes: Certificates). */
export function randomId (): string {
  const bytes = new Uint8Array(6)
  webcrypto.getRandomValues(bytes)
  return Buffer.from(bytes).toString('hex')
}

const DAY = 24 * 60 * 60 * 1000

/** Validity window starting an hour in the past, so small clock skews do not reject a fresh cert. */
export function validity (days: number, now = Date.now()): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - 60 * 60 * 1000), notAfter: new Date(now + days * DAY) }
}

export const ONE_DAY_MS = DAY
