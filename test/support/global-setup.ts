// One test CA for every hub the tests start in-process: the service SDK (azure-iothub) has no
// CA option and reads NODE_EXTRA_CA_CERTS only at process start (protocol section 0), so the
// CA must exist before vitest forks its workers. Each test hub copies it into its data dir.
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadOrCreateCa } from '../../src/main/hub/tls/ca.js'
import { tlsPaths } from '../../src/main/hub/tls/files.js'

export const TEST_CA_DIR = resolve(import.meta.dirname, '../../.tmp/test-ca')

export default async function setup (): Promise<void> {
  mkdirSync(join(TEST_CA_DIR, 'tls'), { recursive: true })
  await loadOrCreateCa(tlsPaths(TEST_CA_DIR), 'sitehub-tests')
  process.env['NODE_EXTRA_CA_CERTS'] = join(TEST_CA_DIR, 'tls', 'ca.pem')
  process.env['SITEHUB_TEST_CA_DIR'] = TEST_CA_DIR
}
