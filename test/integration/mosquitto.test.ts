// Debian's mosquitto clients (mosquitto_pub / mosquitto_sub 2.0, MQTT 3.1.1) against the hub:
// TLS on 8883 with a hand-made SAS token, the plain listener on 1883, and topic isolation.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { CleanupStack, startHubInProcess, startHubProcess, uid, waitFor, type Defer, type InProcessHub } from '../helpers/hub.js'
import { deviceSasToken, openClient, parseConnectionString, type Twin } from '../helpers/sdk.js'
import { runProc, startProc, type ProcResult } from '../helpers/proc.js'

const PUB = '/usr/bin/mosquitto_pub'
const SUB = '/usr/bin/mosquitto_sub'
const API = 'api-version=2021-04-12'

describe('mosquitto clients against the hub', () => {
  const stack = new CleanupStack()
  let h: InProcessHub
  let ca: string
  const defer: Defer = (fn) => { onTestFinished(async () => { await fn() }) }

  beforeAll(async () => {
    h = await startHubInProcess({ defer: stack.defer, mqttPort: true })
    ca = await h.ca()
  }, 90_000)
  afterAll(async () => { await stack.run() })

  async function newDevice (prefix = 'mq'): Promise<{ id: string; cs: string; token: string }> {
    const id = uid(prefix)
    const cs = await h.addDevice(id)
    defer(async () => { await h.hub.registry.remove({ deviceId: id }).catch(() => {}) })
    const p = parseConnectionString(cs)
    return { id, cs, token: deviceSasToken(p.HostName, id, p.SharedAccessKey!) }
  }

  /** Common connection arguments: TLS on 8883 (or plain on `port`), client id, IoT Hub username, password. */
  function connArgs (id: string, password: string | null, opts: { plain?: boolean; username?: string | null } = {}): string[] {
    const args = ['-h', h.bind, '-V', 'mqttv311', '-i', id]
    if (opts.plain === true) args.push('-p', '1883')
    else args.push('-p', '8883', '--cafile', h.caFile)
    const username = opts.username === undefined ? `${h.hostName}/${id}/?${API}` : opts.username
    if (username !== null) args.push('-u', username)
    if (password !== null) args.push('-P', password)
    return args
  }

  const describeResult = (r: ProcResult): string => `code ${r.code} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`

  it('an authenticated QoS 1 publish to devices/{id}/messages/events/ lands in the telemetry history', async () => {
    const d = await newDevice()
    const mid = uid('mid')
    const topic = `devices/${d.id}/messages/events/%24.mid=${mid}&%24.ct=application%2Fjson&line=A%2F1&note=hot%20%26%20humid`
    const r = await runProc(PUB, [...connArgs(d.id, d.token), '-q', '1', '-t', topic, '-m', '{"t":30}'])
    expect(r.code, describeResult(r)).toBe(0)
    const stored = (await h.hub.telemetry.history({ deviceId: d.id })).find((s) => s.systemProperties['messageId'] === mid)
    expect(stored).toBeDefined()
    expect(stored!.systemProperties['contentType']).toBe('application/json')
    expect(stored!.properties).toMatchObject({ line: 'A/1', note: 'hot & humid' })
    expect(stored!.body.toString()).toBe('{"t":30}')

    // The plain events topic with an empty bag works too.
    const r2 = await runProc(PUB, [...connArgs(d.id, d.token), '-q', '1', '-t', `devices/${d.id}/messages/events/`, '-m', 'plain'])
    expect(r2.code, describeResult(r2)).toBe(0)
    expect((await h.hub.telemetry.history({ deviceId: d.id })).some((s) => s.body.toString() === 'plain')).toBe(true)
  })

  it('a bad token is refused with CONNACK "not authorised" (exit code 5); nothing is stored', async () => {
    const d = await newDevice()
    const other = await newDevice('mq-other')
    const cases: Array<[string, string[]]> = [
      ['garbage password', connArgs(d.id, 'SharedAccessSignature sr=nope&sig=nope&se=1')],
      ['token of another device', connArgs(d.id, other.token)],
      ['token with a tampered signature', connArgs(d.id, d.token.replace(/sig=([^&]+)/, (_m, s: string) => `sig=${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`))],
      ['expired token', connArgs(d.id, deviceSasToken(h.hostName, d.id, parseConnectionString(d.cs).SharedAccessKey!, -3600))],
      ['no password at all', connArgs(d.id, null)]
    ]
    for (const [what, args] of cases) {
      const r = await runProc(PUB, [...args, '-q', '1', '-t', `devices/${d.id}/messages/events/`, '-m', what])
      expect(r.code, `${what}: ${describeResult(r)}`).toBe(5)
    }
    expect(await h.hub.telemetry.history({ deviceId: d.id })).toEqual([])
    expect(h.hub.connections.isConnected({ deviceId: d.id })).toBe(false)
  })

  it('mosquitto_sub of another device\'s topics, of "#" and of "$iothub/#" sees nothing of a busy device', async () => {
    const victim = await newDevice('mq-victim')
    const snoopers = await Promise.all([newDevice('snoop-a'), newDevice('snoop-b'), newDevice('snoop-c'), newDevice('snoop-d')])
    // The victim: the official SDK with desired, methods and C2D enabled.
    const client = await openClient(victim.cs, { ca, defer })
    const twin: Twin = await client.getTwin()
    const desired: Array<Record<string, unknown>> = []
    twin.on('properties.desired', (p: Record<string, unknown>) => { desired.push(p) })
    const calls: unknown[] = []
    client.onDeviceMethod('secret', (req, res) => { calls.push(req.payload); void res.send(200, { reply: 'classified' }) })
    const c2d: string[] = []
    client.on('message', (m: { data: Buffer }) => { c2d.push(m.data.toString()) })
    for (const f of ['desired', 'methods', 'c2d'] as const) {
      expect(await h.hub.connections.waitFor({ deviceId: victim.id }, f, 15_000)).toBe(true)
    }

    const W = '10' // observation window: mosquitto_sub -W exits after it (code 27) unless the hub closed it
    const filters: Array<[typeof snoopers[number], string[]]> = [
      [snoopers[0]!, ['#']],
      [snoopers[1]!, ['$iothub/#']],
      [snoopers[2]!, [`devices/${victim.id}/#`, `devices/${victim.id}/messages/devicebound/#`]],
      // Legitimate filters for its own identity: must still see nothing of the victim.
      [snoopers[3]!, ['$iothub/methods/POST/#', '$iothub/twin/PATCH/properties/desired/#', '$iothub/twin/res/#']]
    ]
    const subs = filters.map(([s, topics]) => startProc('stdbuf', ['-oL', SUB, ...connArgs(s.id, s.token), '-v', '-W', W, ...topics.flatMap((t) => ['-t', t])], { defer, killAfterMs: 30_000 }))
    // Wait until every snooper is connected (or was refused and has exited) before the traffic starts.
    await waitFor(() => snoopers.every((s, i) => h.hub.connections.isConnected({ deviceId: s.id }) || subs[i]!.child.exitCode !== null), 10_000, 'snoopers connected')

    // Traffic for the victim: desired patches, method calls, C2D, its own twin PATCH responses.
    for (let i = 0; i < 3; i++) {
      const doc = await h.hub.twins.patch({ deviceId: victim.id }, { properties: { desired: { secret: `s${i}` } } })
      await waitFor(() => desired.some((p) => p['$version'] === doc.properties.desired.$version), 15_000, 'victim desired')
      expect(await h.hub.methods.invoke({ deviceId: victim.id }, { methodName: 'secret', payload: { i }, responseTimeoutInSeconds: 15 }))
        .toEqual({ status: 200, payload: { reply: 'classified' } })
      await h.hub.c2d.send({ deviceId: victim.id }, { body: `c2d-${i}` })
      await new Promise<void>((resolve, reject) => {
        (twin.properties.reported as { update: (p: unknown, cb: (e?: Error) => void) => void })
          .update({ secretReported: i }, (e) => { if (e) reject(e); else resolve() })
      })
    }
    await waitFor(() => c2d.length === 3, 15_000, 'victim C2D')
    expect(calls).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }])

    const results = await Promise.all(subs.map((s) => s.done))
    results.forEach((r, i) => {
      expect(r.stdout, `snooper ${i} (${filters[i]![1].join(' ')}) saw traffic: ${describeResult(r)}`).toBe('')
    })
    // The subscriber with legitimate filters stayed connected through the whole window.
    expect(results[3]!.code, describeResult(results[3]!)).toBe(27)
  }, 60_000)

  it('mosquitto_sub subscribing right after CONNACK receives its own desired patches and method requests', async () => {
    const d = await newDevice('mq-own')
    const sub = startProc('stdbuf', ['-oL', SUB, ...connArgs(d.id, d.token), '-v', '-W', '30',
      '-t', '$iothub/twin/PATCH/properties/desired/#', '-t', '$iothub/methods/POST/#'], { defer, killAfterMs: 40_000 })
    await waitFor(() => h.hub.connections.isConnected({ deviceId: d.id }) || sub.child.exitCode !== null, 10_000, 'subscriber connected')
    const subscribed = await h.hub.connections.waitFor({ deviceId: d.id }, 'desired', 5_000)
    const subs = h.hub.connections.subscriptions({ deviceId: d.id })
    const doc = await h.hub.twins.patch({ deviceId: d.id }, { properties: { desired: { mine: 1 } } })
    const v = doc.properties.desired.$version
    await waitFor(() => sub.stdout().includes(`$iothub/twin/PATCH/properties/desired/?$version=${v} `), 5_000,
      `own desired patch on mosquitto_sub's stdout (hub session record after the subscriber connected: ${JSON.stringify(subs)}, waitFor('desired') = ${subscribed})`)
    expect(sub.stdout()).toContain(`{"mine":1,"$version":${v}}`)
    // A method request reaches it too (mosquitto_sub cannot answer: the call times out on the service side).
    const call = h.hub.methods.invoke({ deviceId: d.id }, { methodName: 'hello', payload: { x: 1 }, responseTimeoutInSeconds: 5 }).catch((e: Error) => e)
    await waitFor(() => /\$iothub\/methods\/POST\/hello\/\?\$rid=\S+ \{"x":1\}/.test(sub.stdout()), 5_000, 'own method request on stdout')
    expect(await call).toBeInstanceOf(Error)
    sub.child.kill('SIGTERM')
  }, 30_000)

  it('the plain MQTT listener (1883) also requires authentication', async () => {
    const d = await newDevice('mq-plain')
    const topic = `devices/${d.id}/messages/events/`
    const anon = await runProc(PUB, [...connArgs(d.id, null, { plain: true, username: null }), '-q', '1', '-t', topic, '-m', 'anon'])
    expect(anon.code, describeResult(anon)).toBe(5)
    const noPass = await runProc(PUB, [...connArgs(d.id, null, { plain: true }), '-q', '1', '-t', topic, '-m', 'nopass'])
    expect(noPass.code, describeResult(noPass)).toBe(5)
    const bad = await runProc(PUB, [...connArgs(d.id, d.token.replace(/se=\d+/, 'se=1'), { plain: true }), '-q', '1', '-t', topic, '-m', 'bad'])
    expect(bad.code, describeResult(bad)).toBe(5)
    expect(await h.hub.telemetry.history({ deviceId: d.id })).toEqual([])

    const mid = uid('mid')
    const ok = await runProc(PUB, [...connArgs(d.id, d.token, { plain: true }), '-q', '1', '-t', `${topic}%24.mid=${mid}`, '-m', 'plain ok'])
    expect(ok.code, describeResult(ok)).toBe(0)
    expect((await h.hub.telemetry.history({ deviceId: d.id })).map((s) => s.systemProperties['messageId'])).toEqual([mid])
  })
})

describe('mosquitto clients against the CLI hub (serve --mqtt-port)', () => {
  it('the plain listener opened by --mqtt-port refuses anonymous and bad clients and accepts a SAS token', async () => {
    const defer: Defer = (fn) => { onTestFinished(async () => { await fn() }) }
    const proc = await startHubProcess({ defer, mqttPort: true })
    expect(proc.ready.mqtt).toBe(`mqtt://${proc.bind}:1883`)
    const id = uid('cli-plain')
    const p = parseConnectionString(await proc.addDevice(id))
    const token = deviceSasToken(p.HostName, id, p.SharedAccessKey!)
    const base = ['-h', proc.bind, '-p', '1883', '-V', 'mqttv311', '-i', id, '-q', '1', '-t', `devices/${id}/messages/events/`, '-m', 'x']
    const anon = await runProc(PUB, base)
    expect(anon.code, anon.stderr).toBe(5)
    const wrong = await runProc(PUB, [...base, '-u', `${p.HostName}/${id}/?${API}`, '-P', token.replace(/sig=[^&]+/, 'sig=AAAA')])
    expect(wrong.code, wrong.stderr).toBe(5)
    const ok = await runProc(PUB, [...base, '-u', `${p.HostName}/${id}/?${API}`, '-P', token])
    expect(ok.code, `${ok.stderr}\nhub stderr:\n${proc.stderr()}`).toBe(0)
    // TLS listener of the same process: the same token works there too.
    const tls = await runProc(PUB, [...base.map((a) => (a === '1883' ? '8883' : a)), '--cafile', proc.caFile, '-u', `${p.HostName}/${id}/?${API}`, '-P', token])
    expect(tls.code, tls.stderr).toBe(0)
  })
})
