// Password hashing: scrypt (node:crypto) with a random 16-byte salt per account and the
// parameters stored beside the hash; verification compares in constant time.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { PasswordHash } from './types.js'

/** N = 2^15, r = 8, p = 1: ~32 MiB and tens of milliseconds per hash on a small edge box. */
export const SCRYPT_PARAMS = { N: 32768, r: 8, p: 1 } as const
const KEY_LENGTH = 32

function scrypt (password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.N * params.r * 2 + 1024 * 1024 }
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFKC'), salt, KEY_LENGTH, opts, (err, key) => { if (err !== null) reject(err); else resolve(key) })
  })
}

export async function hashPassword (password: string, params: { N: number; r: number; p: number } = SCRYPT_PARAMS): Promise<PasswordHash> {
  const salt = randomBytes(16)
  const hash = await scrypt(password, salt, params)
  return { alg: 'scrypt', salt: salt.toString('base64'), hash: hash.toString('base64'), N: params.N, r: params.r, p: params.p }
}

export async function verifyPassword (password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64')
  const actual = await scrypt(password, Buffer.from(stored.salt, 'base64'), stored)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** For unknown names: spends the same time as a real check, so timing does not tell which names exist. */
let dummy: Promise<PasswordHash> | undefined
export async function burnPasswordCheck (password: string): Promise<false> {
  dummy ??= hashPassword('not a password of any account')
  await verifyPassword(password, await dummy)
  return false
}
