// Paths of the TLS material in a data dir, and crash-safe writes (temp file + rename).
import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'

export interface TlsPaths {
  dir: string
  caCert: string
  caKey: string
  serverCert: string
  serverKey: string
}

export function tlsPaths (dataDir: string): TlsPaths {
  const dir = join(dataDir, 'tls')
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem')
  }
}

export async function ensureTlsDir (paths: TlsPaths): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
}

/** Reads a file, or undefined when it does not exist. */
export async function readOptional (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Writes whole or not at all; `secret` files are created 0600 (owner only). */
export async function writeAtomic (path: string, text: string, secret: boolean): Promise<void> {
  const mode = secret ? 0o600 : 0o644
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, text, { mode })
  await chmod(tmp, mode) // the umask may have narrowed or (for 0644) kept the mode; make it exact
  await rename(tmp, path)
}
