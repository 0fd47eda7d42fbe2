// `sitehub serve --ui-port`: the real CLI starts the UI on a loopback port, lists it in the
// ready line and in hub.status; on a LAN address it serves only HTTPS + WSS with the hub's
// certificate, where the first admin cannot be created and every call needs a sign-in.
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { get as httpsGet } from 'node:https'
import { createServer } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { createWsHub } from '../../src/renderer/src/lib/ws-hub.js'
import { CLI, randomLoopback, REPO_ROOT, runCli, tempDataDir } from '../helpers/hub.js'

describe('sitehub serve --ui-port', () => {
  it('serves the UI on the loopback port it reports, and stops cleanly', async () => {
    const ip = randomLoopback()
    const dataDir = await tempDataDir()
    const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--host-name', ip, '--bind', ip,
      '--mqtts-port', '8883', '--https-port', '443', '--ui-port', '0', '--ui-bind', ip, '--audit-max-entries', '3'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
    onTestFinished(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited } })
    const ready = await new Promise<{ ui?: string }>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout })
      rl.on('line', line => { if (line.startsWith('sitehub ready ')) resolve(JSON.parse(line.slice('sitehub ready '.length)) as { ui?: string }) })
      child.on('exit', code => { reject(new Error(`serve exited ${String(code)} before ready`)) })
    })
    expect(ready.ui).toMatch(new RegExp(`^http://${ip.replaceAll('.', '\\.')}:\\d+/$`))
    const res = await fetch(ready.ui as string)
    expect([200, 503]).toContain(res.status) // 503 + "run npm run build" when out/renderer is missing
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    const api = createWsHub(`${(ready.ui as string).replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
    // A new data dir has no account: the UI offers the first-run setup (this is loopback) and nothing else.
    expect(await api.call('auth.status', undefined)).toEqual({ ok: true, value: { setupNeeded: true, setupAllowed: true, session: null } })
    expect(await api.call('hub.status', undefined)).toMatchObject({ ok: false, error: { code: 401203, name: 'SetupRequired' } })
    const setup = await api.call('auth.setup', { name: 'admin', password: 'first admin password' })
    expect(setup).toMatchObject({ ok: true, value: { name: 'admin', role: 'admin' } })
    const token = setup.ok ? setup.value.token : undefined
    const status = await api.call('hub.status', undefined, token)
    // --audit-max-entries 3: the log keeps the newest three changes
    for (const d of ['a1', 'a2', 'a3', 'a4']) expect(await api.call('devices.create', { deviceId: d }, token)).toMatchObject({ ok: true })
    const log = await api.call('audit.list', undefined, token)
    expect(log.ok && log.value.items.map(e => e.target?.id)).toEqual(['a4', 'a3', 'a2'])
    api.close()
    expect(status.ok && status.value.endpoints.find(e => e.name === 'Technician UI')?.url).toBe(ready.ui)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 60_000)

  /** Starts `sitehub serve` on its own loopback IP with these extra args; resolves the ready line's endpoints. */
  async function serveReady (ip: string, extra: string[]): Promise<{ ready: { ui?: string }; stop: () => Promise<number | null> }> {
    const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', await tempDataDir(), '--host-name', ip, '--bind', ip,
      '--mqtts-port', '8883', '--https-port', '443', ...extra], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
    onTestFinished(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited } })
    const ready = await new Promise<{ ui?: string }>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout })
      rl.on('line', line => { if (line.startsWith('sitehub ready ')) resolve(JSON.parse(line.slice('sitehub ready '.length)) as { ui?: string }) })
      child.on('exit', code => { reject(new Error(`serve exited ${String(code)} before ready`)) })
    })
    return { ready, stop: async () => { child.kill('SIGTERM'); return await exited } }
  }

  it('is on by default at port 8090 of the hub\'s own loopback address', async () => {
    const ip = randomLoopback()
    const { ready, stop } = await serveReady(ip, [])
    expect(ready.ui).toBe(`http://${ip}:8090/`)
    expect([200, 503]).toContain((await fetch(ready.ui as string)).status)
    expect(await stop()).toBe(0)
  }, 60_000)

  it('runs without the UI when the default port is taken, and with --ui-port off', async () => {
    const ip = randomLoopback()
    const squatter = createServer()
    await new Promise<void>(resolve => { squatter.listen(8090, ip, resolve) })
    onTestFinished(() => { squatter.close() })
    const taken = await serveReady(ip, [])
    expect(taken.ready.ui).toBeUndefined()
    expect(await taken.stop()).toBe(0)
    const off = await serveReady(randomLoopback(), ['--ui-port', 'off'])
    expect(off.ready.ui).toBeUndefined()
    expect(await off.stop()).toBe(0)
  }, 90_000)

  it('fails when an explicitly chosen UI port is taken', async () => {
    const ip = randomLoopback()
    const squatter = createServer()
    await new Promise<void>(resolve => { squatter.listen(0, ip, resolve) })
    onTestFinished(() => { squatter.close() })
    const port = (squatter.address() as { port: number }).port
    const r = await runCli(['serve', '--data-dir', await tempDataDir(), '--host-name', ip, '--bind', ip, '--ui-port', String(port)])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/in use|EADDRINUSE/i)
  }, 60_000)

  it('refuses a bad audit retention', async () => {
    const r = await runCli(['serve', '--data-dir', await tempDataDir(), '--audit-max-days', '0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--audit-max-days must be a whole number from 1 to 36500, not '0'/)
  })

  it('refuses a --ui-bind that is not an IP address', async () => {
    const r = await runCli(['serve', '--data-dir', await tempDataDir(), '--ui-port', '8090', '--ui-bind', 'lan'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--ui-bind must be an IP address/)
  })

  // The machine's own LAN address: a connection to it is not a loopback one. (A machine with
  // no network interface but loopback cannot run this test.)
  const lanIp = Object.values(networkInterfaces()).flat().find(a => a !== undefined && a.family === 'IPv4' && !a.internal)?.address
  it.skipIf(lanIp === undefined)('serves the LAN only over HTTPS + WSS with the hub certificate, with sign-in and no remote first-run setup', async () => {
    const ip = randomLoopback()
    const dataDir = await tempDataDir()
    const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--host-name', ip, '--bind', ip,
      '--mqtts-port', '8883', '--https-port', '443', '--ui-port', '0', '--ui-bind', lanIp as string], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
    onTestFinished(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited } })
    const ready = await new Promise<{ ui?: string }>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout })
      rl.on('line', line => { if (line.startsWith('sitehub ready ')) resolve(JSON.parse(line.slice('sitehub ready '.length)) as { ui?: string }) })
      child.on('exit', code => { reject(new Error(`serve exited ${String(code)} before ready`)) })
    })
    const url = ready.ui as string
    expect(url).toMatch(new RegExp(`^https://${(lanIp as string).replaceAll('.', '\\.')}:\\d+/$`))
    const ca = await readFile(join(dataDir, 'tls', 'ca.pem'), 'utf8')

    // Plain HTTP on that port gets nothing; HTTPS verified against the hub's CA gets the page.
    await expect(fetch(url.replace('https:', 'http:'))).rejects.toThrow()
    const page = await new Promise<{ status: number; csp: string }>((resolve, reject) => {
      httpsGet(url, { ca }, res => { res.resume(); resolve({ status: res.statusCode ?? 0, csp: String(res.headers['content-security-policy']) }) }).on('error', reject)
    })
    expect([200, 503]).toContain(page.status)
    expect(page.csp).toContain("default-src 'none'")
    // Without the CA the certificate is not trusted.
    await expect(new Promise((resolve, reject) => { httpsGet(url, res => { res.resume(); resolve(res.statusCode) }).on('error', reject) })).rejects.toThrow(/self.signed|certificate/i)

    class TrustingWebSocket extends WebSocket { constructor (address: string) { super(address, { ca }) } }
    const api = createWsHub(`${url.replace('https', 'wss')}ui/ws`, TrustingWebSocket as unknown as typeof globalThis.WebSocket)
    onTestFinished(() => { api.close() })
    // From the LAN: no first-run setup, and nothing without a session.
    expect(await api.call('auth.status', undefined)).toEqual({ ok: true, value: { setupNeeded: true, setupAllowed: false, session: null } })
    expect(await api.call('auth.setup', { name: 'mallory', password: 'from the lan' })).toMatchObject({ ok: false, error: { code: 403201 } })
    expect((await runCli(['account', 'add', 'chief', '--role', 'admin', '--data-dir', dataDir], { env: { SITEHUB_PASSWORD: 'chief password 1' } })).stdout).toBe('added admin chief\n')
    expect(await api.call('devices.list', {})).toMatchObject({ ok: false, error: { code: 401201 } })
    const s = await api.call('auth.signIn', { name: 'chief', password: 'chief password 1' })
    if (!s.ok) throw new Error(s.error.message)
    expect(await api.call('hub.status', undefined, s.value.token)).toMatchObject({ ok: true, value: { state: 'running' } })
    // Another site's page (or an http: origin) may not open the socket.
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${url.replace('https', 'wss')}ui/ws`, { ca, headers: { origin: url.replace('https:', 'http:').replace(/\/$/, '') } })
      ws.on('open', () => { ws.close(); resolve('open') })
      ws.on('unexpected-response', (_req, res) => { resolve(String(res.statusCode)) })
      ws.on('error', () => { resolve('error') })
    })
    expect(refused).not.toBe('open')
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  }, 90_000)
})
