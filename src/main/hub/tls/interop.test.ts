// The generated material against the other TLS stacks that talk to a hub: OpenSSL
// (mosquitto_pub, openssl s_client) and mqtt.js. Skipped where the tools are missing.
import { execFile, spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer as createTlsServer } from 'node:tls'
import type { AddressInfo } from 'node:net'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ensureTls } from './index.js'
import { tempDir, startTlsServer } from './test-helpers.js'

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

function run (cmd: string, args: string[], input = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: `${stdout}${stderr}` })
    })
    child.stdin?.end(input)
  })
}

async function startBroker (key: string, cert: string): Promise<{ port: number; broker: Aedes }> {
  const broker = await Aedes.createBroker()
  const server = createTlsServer({ key, cert }, (socket) => { broker.handle(socket) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => {
    await new Promise<void>((resolve) => { broker.close(() => { resolve() }) })
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return { port: (server.address() as AddressInfo).port, broker }
}

describe('TLS interop', () => {
  it.skipIf(!has('openssl'))('openssl s_client verifies both hubs with both CAs in one CAfile', async () => {
    const dir = await tempDir()
    const a = await ensureTls(join(dir, 'a'), { hostName: 'localhost', bind: '127.0.0.1' })
    const b = await ensureTls(join(dir, 'b'), { hostName: 'localhost', bind: '127.0.0.1' })
    const bundle = join(dir, 'both.pem')
    await writeFile(bundle, a.ca + b.ca)
    for (const m of [a, b]) {
      const { port } = await startTlsServer({ key: m.key, cert: m.cert })
      const res = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', bundle,
        '-verify_return_error', '-verify_hostname', 'localhost', '-servername', 'localhost', '-brief'])
      expect(res.out).toMatch(/Verification: OK/)
    }
  })

  it.skipIf(!has('mosquitto_pub'))('mosquitto_pub publishes over TLS trusting ca.pem', async () => {
    const m = await ensureTls(await tempDir(), { hostName: 'localhost', bind: '127.0.0.1' })
    const { port, broker } = await startBroker(m.key, m.cert)
    const got = new Promise<string>((resolve) => {
      broker.on('publish', (packet) => { if (packet.topic === 'sitehub/t') resolve(packet.payload.toString()) })
    })
    const res = await run('mosquitto_pub', ['-h', 'localhost', '-p', String(port), '--cafile', m.caFile, '-t', 'sitehub/t', '-m', 'hi', '-q', '1'])
    expect(res.out).toBe('')
    expect(res.code).toBe(0)
    expect(await got).toBe('hi')
  })

  it('mqtt.js connects over TLS trusting ca.pem', async () => {
    const m = await ensureTls(await tempDir(), { hostName: 'hub.example.test', bind: '127.0.0.1' })
    const { port } = await startBroker(m.key, m.cert)
    const client = await mqtt.connectAsync({ protocol: 'mqtts', host: '127.0.0.1', port, ca: m.ca, servername: 'hub.example.test', reconnectPeriod: 0 })
    onTestFinished(async () => { await client.endAsync() })
    await client.publishAsync('sitehub/t', 'x', { qos: 1 })
    expect(client.connected).toBe(true)
  })
})
