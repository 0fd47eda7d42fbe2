// Commands against a real hub: offline (the data dir opened directly) and through a running
// `sitehub serve` (the admin socket). They need the hub core (createHub, startServer).
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runCli, serve, tempDir } from './test-helpers.js'

const hubReady = await import('../hub/server.js').then(() => true, () => false)
// Each test runs several CLI processes, each opening the store: slow on a loaded machine.
const SLOW = 240_000
const LOOPBACK = ['--bind', '127.0.0.1', '--mqtts-port', '0', '--https-port', '0']

describe.skipIf(!hubReady)('device and policy commands on a stopped hub (data dir opened directly)', () => {
  it('adds, lists, shows, disables, enables and removes devices', async () => {
    const dir = await tempDir()
    const dd = ['--data-dir', dir]
    const added = await runCli(['device', 'add', 'pump-7', ...dd])
    expect(added.stderr).toBe('')
    expect(added.code).toBe(0)
    expect(added.stdout).toMatch(/^HostName=localhost;DeviceId=pump-7;SharedAccessKey=[A-Za-z0-9+/=]{40,}\n$/)

    const thumb = 'AB'.repeat(20)
    const x509 = await runCli(['device', 'add', 'cam-2', '--x509-thumbprint', thumb.toLowerCase(), '--status', 'disabled', '--edge', ...dd])
    expect(x509.stdout).toBe('HostName=localhost;DeviceId=cam-2;x509=true\n')

    const list = await runCli(['device', 'list', ...dd])
    expect(list.stdout).toMatch(/^DEVICE ID\s+STATUS\s+AUTH/)
    expect(list.stdout).toMatch(/pump-7\s+enabled\s+sas/)
    expect(list.stdout).toMatch(/cam-2\s+disabled\s+selfSigned\s+Disconnected\s+yes/)

    const json = JSON.parse((await runCli(['device', 'list', '--json', ...dd])).stdout) as Array<{ deviceId: string; authentication: { x509Thumbprint: { primaryThumbprint: string } } }>
    expect(json.map((d) => d.deviceId).sort()).toEqual(['cam-2', 'pump-7'])
    expect(json.find((d) => d.deviceId === 'cam-2')?.authentication.x509Thumbprint.primaryThumbprint).toBe(thumb)

    expect((await runCli(['device', 'disable', 'pump-7', '--reason', 'seal swap', ...dd])).stdout).toBe('device pump-7 is disabled (seal swap)\n')
    const shown = await runCli(['device', 'show', 'pump-7', ...dd])
    expect(shown.stdout).toMatch(/Status:\s+disabled \(seal swap\)/)
    expect(shown.stdout).toMatch(/Primary key:\s+\S+/)
    expect((await runCli(['device', 'enable', 'pump-7', ...dd])).code).toBe(0)
    expect(JSON.parse((await runCli(['device', 'show', 'pump-7', '--json', ...dd])).stdout)).toMatchObject({ status: 'enabled' })

    const primary = (await runCli(['device', 'connection-string', 'pump-7', ...dd])).stdout
    const secondary = (await runCli(['device', 'connection-string', 'pump-7', '--secondary', ...dd])).stdout
    expect(primary).toBe(added.stdout)
    expect(secondary).not.toBe(primary)

    expect((await runCli(['device', 'remove', 'pump-7', ...dd])).stdout).toBe('removed device pump-7\n')
    const missing = await runCli(['device', 'show', 'pump-7', ...dd])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^sitehub: .*pump-7/)
    const dup = await runCli(['device', 'add', 'cam-2', ...dd])
    expect(dup.code).toBe(1)
  }, SLOW)

  it('prints policy connection strings and lists policies; uses the host name of the last serve', async () => {
    const dir = await tempDir()
    const dd = ['--data-dir', dir]
    const cs = await runCli(['connection-string', ...dd])
    expect(cs.stdout).toMatch(/^HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=[A-Za-z0-9+/=]{40,}\n$/)
    expect((await runCli(['connection-string', '--policy', 'service', ...dd])).stdout).toMatch(/SharedAccessKeyName=service;/)
    const list = await runCli(['policy', 'list', ...dd])
    expect(list.stdout).toMatch(/^NAME\s+RIGHTS\n/)
    expect(list.stdout).toMatch(/iothubowner\s+RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect/)
    const added = await runCli(['policy', 'add', 'dashboard', '--rights', 'RegistryRead,ServiceConnect', ...dd])
    expect(added.stdout).toMatch(/SharedAccessKeyName=dashboard;/)
    const regenerated = await runCli(['policy', 'regenerate', 'dashboard', ...dd])
    expect(regenerated.stdout).not.toBe(added.stdout)
    expect((await runCli(['policy', 'remove', 'dashboard', ...dd])).code).toBe(0)
    const unknown = await runCli(['connection-string', '--policy', 'nope', ...dd])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no shared access policy named 'nope'/)
  }, SLOW)

  it('creates a CA-signed device certificate with --x509-cert-out', async () => {
    const dir = await tempDir()
    const out = join(dir, 'certs')
    const res = await runCli(['device', 'add', 'cam-9', '--x509-cert-out', out, '--data-dir', dir])
    expect(res.code).toBe(0)
    expect(res.stdout).toBe('HostName=localhost;DeviceId=cam-9;x509=true\n')
    const { certificateThumbprints } = await import('../hub/tls/thumbprint.js')
    const thumb = certificateThumbprints(await readFile(join(out, 'cam-9.pem'), 'utf8')).sha1
    const shown = JSON.parse((await runCli(['device', 'show', 'cam-9', '--json', '--data-dir', dir])).stdout) as { authentication: { x509Thumbprint: { primaryThumbprint: string } } }
    expect(shown.authentication.x509Thumbprint.primaryThumbprint).toBe(thumb)
  }, SLOW)
})

describe.skipIf(!hubReady)('sitehub serve', () => {
  it('prints one ready line, serves the CLI over the admin socket, and exits 0 on SIGTERM', async () => {
    const dir = await tempDir()
    const hub = await serve(['--data-dir', dir, '--host-name', 'hub.example.test', ...LOOPBACK])
    expect(hub.endpoints).toMatchObject({ hostName: 'hub.example.test', bind: '127.0.0.1', mqtt: null, dataDir: dir, caFile: join(dir, 'tls', 'ca.pem'), pid: hub.child.pid })
    expect(String(hub.endpoints['mqtts'])).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/)
    expect(String(hub.endpoints['https'])).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)

    const added = await runCli(['device', 'add', 'live-1', '--data-dir', dir])
    expect(added.stdout).toMatch(/^HostName=hub\.example\.test;DeviceId=live-1;SharedAccessKey=/)
    expect((await runCli(['device', 'list', '--data-dir', dir])).stdout).toMatch(/live-1\s+enabled/)
    expect((await runCli(['connection-string', '--data-dir', dir])).stdout).toMatch(/^HostName=hub\.example\.test;SharedAccessKeyName=iothubowner;/)
    const status = await runCli(['status', '--json', '--data-dir', dir])
    expect(JSON.parse(status.stdout)).toMatchObject({ pid: hub.child.pid, devices: { total: 1 } })

    hub.child.kill('SIGTERM')
    expect(await hub.exited).toBe(0)
    expect(hub.stdout().split('\n').filter((l) => l !== '')).toHaveLength(1)
    expect(hub.stderr()).toMatch(/"msg":"stopped"/)
    expect(await readFile(join(dir, 'logs', 'sitehub.log'), 'utf8')).toMatch(/"msg":"hub ready"/)

    // Stopped: the same commands now open the data dir directly, with the host name it served.
    expect((await runCli(['device', 'connection-string', 'live-1', '--data-dir', dir])).stdout).toBe(added.stdout)
  }, SLOW)

  it('exits 0 on SIGINT', async () => {
    const dir = await tempDir()
    const hub = await serve(['--data-dir', dir, ...LOOPBACK])
    hub.child.kill('SIGINT')
    expect(await hub.exited).toBe(0)
  }, SLOW)

  it('says in plain words that a port is in use, and exits non-zero', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    onTestFinished(async () => { await new Promise<void>((resolve) => blocker.close(() => { resolve() })) })
    const port = (blocker.address() as AddressInfo).port
    const dir = await tempDir()
    const res = await runCli(['serve', '--data-dir', dir, '--bind', '127.0.0.1', '--mqtts-port', '0', '--https-port', String(port)])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr).toContain(`sitehub: port ${port} on 127.0.0.1 is already in use`)
  }, SLOW)

  it('refuses a second hub on the same data dir', async () => {
    const dir = await tempDir()
    await serve(['--data-dir', dir, ...LOOPBACK])
    const res = await runCli(['serve', '--data-dir', dir, ...LOOPBACK])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/another Sitehub is already running with data dir|in use|lock/i)
  }, SLOW)

  it('says so when the data dir cannot be created', async () => {
    const dir = await tempDir()
    const blockedParent = join(dir, 'plain-file')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(blockedParent, 'x')
    const res = await runCli(['serve', '--data-dir', join(blockedParent, 'hub'), ...LOOPBACK])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^sitehub: cannot create the data directory .*plain-file\/hub/)
  }, SLOW)
})
