// `sitehub serve --upstream CS [--upstream-ca FILE]` on the command line: documented in --help,
// refused with a usage error (exit 2) when the command line is wrong, an operational error
// (exit 1) when the CA file cannot be read or is not a PEM. The same checks guard
// hub.sync.configure (also behind PUT /sync/settings): a refused upstream leaves the stored one as it was. (The upstream actually syncing from the CLI, and being kept for a later serve
// without --upstream, is test/sync/crash.test.ts and twin-crash-edge.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/hub.js'
import { isHubError } from '../../src/main/hub/errors.js'
import { startTestHub, testCa } from './harness.js'
import { rest } from './rest.js'
import { randomLoopbackIp } from '../support/service-hub.js'

const CS = 'HostName=cloud.example;SharedAccessKeyName=iothubowner;SharedAccessKey=' + Buffer.alloc(32, 7).toString('base64')
const SLOW = 180_000

describe('sitehub serve --upstream on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-cli-upstream-'))
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
  const base = (): string[] => ['--data-dir', join(dir, 'hub'), '--bind', randomLoopbackIp(), '--ui-port', 'off']

  it('--help documents --upstream and --upstream-ca with an example', async () => {
    const res = await runCli(['serve', '--help'])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/--upstream CS\s+service connection string of the cloud hub to sync with/)
    expect(res.stdout).toMatch(/Kept in the store: a later serve without --upstream keeps syncing/)
    expect(res.stdout).toMatch(/--upstream-ca FILE\s+PEM CA that signed the cloud hub's certificate \(default: the system CAs\)/)
    expect(res.stdout).toMatch(/\n {2}sitehub serve .*--upstream "HostName=.*" --upstream-ca \S+/)
  }, SLOW)

  it('refuses a wrong command line with a usage error (exit 2) before starting anything', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--upstream-ca', join(dir, 'ca.pem')], /--upstream-ca needs --upstream/],
      [['--upstream', CS, '--role', 'cloud'], /a cloud-role hub has no upstream/],
      [['--upstream', 'HostName=cloud.example;DeviceId=d;x509=true'], /--upstream must be a service connection string/],
      [['--upstream', 'not a connection string'], /--upstream must be a service connection string/]
    ]
    for (const [args, message] of cases) {
      const res = await runCli(['serve', ...base(), ...args])
      expect(res.code, args.join(' ')).toBe(2)
      expect(res.stderr, args.join(' ')).toMatch(message)
      expect(res.stdout).not.toMatch(/sitehub ready/)
    }
  }, SLOW)

  it('a CA file that cannot be read, or is not a PEM, is a plain error (exit 1)', async () => {
    const missing = await runCli(['serve', ...base(), '--upstream', CS, '--upstream-ca', join(dir, 'nope.pem')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/cannot read --upstream-ca .*nope\.pem/)
    expect(missing.stdout).not.toMatch(/sitehub ready/)

    const junk = join(dir, 'junk.pem')
    writeFileSync(junk, 'this is not a certificate\n')
    const bad = await runCli(['serve', ...base(), '--upstream', CS, '--upstream-ca', junk])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/--upstream: .*(PEM|certificate)/i)
    expect(bad.stdout).not.toMatch(/sitehub ready/)
  }, SLOW)

  it('hub.sync.configure refuses a CA that is not PEM certificates and a bad edge id; the stored upstream stays as it was', async () => {
    const edge = await startTestHub({ role: 'edge' })
    try {
      const good = { connectionString: 'HostName=127.0.0.1;SharedAccessKeyName=iothubowner;SharedAccessKey=' + Buffer.alloc(32, 1).toString('base64'), ca: testCa(), edgeDeviceId: 'site-x' }
      await edge.running.hub.sync.configure(good)
      const refused = async (s: typeof good): Promise<string> => {
        const err = await edge.running.hub.sync.configure(s).then(() => null, (e: unknown) => e)
        expect(isHubError(err) && err.code).toBe(400004) // ArgumentInvalid
        return (err as Error).message
      }
      expect(await refused({ ...good, ca: 'not a pem' })).toMatch(/not a PEM certificate/)
      expect(await refused({ ...good, ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })).toMatch(/certificate 1 is not readable/)
      expect(await refused({ ...good, ca: testCa() + '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })).toMatch(/certificate 2 is not readable/)
      expect(await refused({ ...good, edgeDeviceId: 'bad id' })).toMatch(/edge device id 'bad id'/)
      // The same over REST (PUT /sync/settings): 400 with IoT Hub's error body, nothing changed.
      const put = await rest(edge, testCa(), 'PUT', '/sync/settings', { ca: 'not a pem' })
      expect(put.status).toBe(400)
      expect(JSON.stringify(put.body)).toMatch(/ArgumentInvalid|400004/)
      expect(JSON.stringify(put.body)).toMatch(/not a PEM certificate/)
      expect(edge.running.hub.sync.settings()).toEqual(good)
      // A bundle of two readable certificates is fine.
      await edge.running.hub.sync.configure({ ...good, ca: testCa() + testCa() })
      await edge.running.hub.sync.configure(null)
    } finally { await edge.close() }
  }, SLOW)
})
