// An in-process hub for service-side tests: its own loopback IP (so it can own port 443, which
// azure-iothub insists on), a fresh data dir seeded with the shared test CA.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, type RunningHub } from '../../src/main/hub/server.js'

export function randomLoopbackIp (): string {
  const b = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1))
  return `127.${b(20, 250)}.${b(1, 254)}.${b(1, 254)}`
}

export interface ServiceHub extends RunningHub {
  ip: string
  dataDir: string
  /** iothubowner (or another policy) connection string; HostName is the bare IP on 443. */
  connectionString(policy?: string): string
  restart(): Promise<void>
}

export async function startServiceHub (opts: { ip?: string; dataDir?: string } = {}): Promise<ServiceHub> {
  const caDir = process.env['SITEHUB_TEST_CA_DIR']
  if (caDir === undefined) throw new Error('test/support/global-setup.ts did not run (SITEHUB_TEST_CA_DIR unset)')
  const ip = opts.ip ?? randomLoopbackIp()
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'sitehub-svc-'))
  mkdirSync(join(dataDir, 'tls'), { recursive: true })
  for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(caDir, 'tls', f), join(dataDir, 'tls', f))
  const config = { dataDir, hostName: ip, bind: ip, mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'edge' as const }
  let running = await startServer({ config })
  const self: ServiceHub = {
    ip,
    dataDir,
    get hub () { return running.hub },
    get endpoints () { return running.endpoints },
    connectionString: (policy = 'iothubowner') => running.hub.registry.policies.connectionString(policy),
    async restart () {
      await running.close()
      running = await startServer({ config })
    },
    async close () {
      await running.close()
      if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true })
    }
  }
  return self
}
