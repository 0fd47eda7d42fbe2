// Cloud-side exactly-once: a resend of a forwarded message (same sitehub-origin) is acknowledged
// with the stored copy's seq and not stored again, also after the cloud restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CleanupStack } from '../helpers/hub.js'
import { startTestHub, type TestHub } from './harness.js'

describe('telemetry dedupe by sitehub-origin', () => {
  const stack = new CleanupStack()
  let cloud: TestHub
  beforeAll(async () => {
    cloud = await startTestHub({ role: 'cloud' })
    stack.defer(() => cloud.close())
    await cloud.running.hub.registry.create({ deviceId: 'd1' })
  })
  afterAll(async () => { await stack.run() })
  const msg = (origin: string | null, body = 'x'): Parameters<TestHub['running']['hub']['telemetry']['accept']>[0] => ({
    deviceId: 'd1', systemProperties: {}, properties: origin === null ? {} : { 'sitehub-origin': origin }, body: Buffer.from(body), enqueuedTime: new Date().toISOString(), transport: 'mqtt'
  })

  it('stores each origin once, concurrent resends included; messages without origin are untouched', async () => {
    const t = cloud.running.hub.telemetry
    const [a, b] = await Promise.all([t.accept(msg('edge:1')), t.accept(msg('edge:1'))])
    expect(a).toBe(b)
    expect(await t.accept(msg('edge:1'))).toBe(a)
    const c = await t.accept(msg('edge:2'))
    expect(c).not.toBe(a)
    const p1 = await t.accept(msg(null))
    const p2 = await t.accept(msg(null))
    expect(p1).not.toBe(p2)
    expect((await t.read(0, 100)).length).toBe(4)
  })

  it('remembers origins across a restart (rebuilt from the log tail)', async () => {
    await cloud.restart()
    const t = cloud.running.hub.telemetry
    const before = (await t.read(0, 100)).length
    await t.accept(msg('edge:1'))
    await t.accept(msg('edge:2'))
    await t.accept(msg('edge:3'))
    expect((await t.read(0, 100)).length).toBe(before + 1)
  })
})
