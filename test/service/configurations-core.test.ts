// Automatic configurations at the core API (F): limits, no feedback loop, module twins,
// overlapping paths, the periodic run.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createHub, type CreateHubOptions, type Hub } from '../../src/main/hub/index.js'
import { createMemoryStore } from '../../src/main/hub/store/memory-store.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function makeHub (configurations: CreateHubOptions['configurations'] = {}): Promise<Hub> {
  const dir = mkdtempSync(join(tmpdir(), 'sitehub-cfg-'))
  const hub = await createHub({
    config: { dataDir: dir, hostName: 'hub.local', bind: '127.0.0.1', mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'edge' },
    store: createMemoryStore(),
    commands: { sweepIntervalMs: 0 },
    configurations: { debounceMs: 5, ...configurations }
  })
  cleanups.push(async () => { await hub.close(); rmSync(dir, { recursive: true, force: true }) })
  return hub
}

const desiredOf = (hub: Hub, deviceId: string, moduleId?: string): Record<string, unknown> => {
  const { $metadata: _m, $version: _v, ...rest } = hub.twins.get(moduleId === undefined ? { deviceId } : { deviceId, moduleId }).properties.desired
  return rest
}

describe('configurations core', () => {
  it('limits the number of configurations (413101)', async () => {
    const hub = await makeHub({ maxConfigurations: 2 })
    await hub.configurations.put('c1', { targetCondition: '*', content: { deviceContent: {} } })
    await hub.configurations.put('c2', { targetCondition: '*', content: { deviceContent: {} } })
    await expect(hub.configurations.put('c3', { targetCondition: '*', content: { deviceContent: {} } })).rejects.toMatchObject({ code: 413101 })
  })

  it('applies once: re-evaluation after its own desired change writes nothing (no feedback loop)', async () => {
    const hub = await makeHub()
    await hub.registry.create({ deviceId: 'loop' })
    await hub.twins.patchTags({ deviceId: 'loop' }, { kind: 'valve' })
    let desiredEvents = 0
    hub.events.on('twin.desiredChanged', () => { desiredEvents++ })
    await hub.configurations.put('valves', { targetCondition: "tags.kind = 'valve'", priority: 1, content: { deviceContent: { 'properties.desired.open': true } } })
    await hub.configurations.idle()
    const v1 = hub.twins.get({ deviceId: 'loop' }).properties.desired.$version
    for (let i = 0; i < 3; i++) await hub.configurations.evaluate()
    await new Promise((r) => setTimeout(r, 50))
    await hub.configurations.idle()
    expect(desiredEvents).toBe(1)
    expect(hub.twins.get({ deviceId: 'loop' }).properties.desired.$version).toBe(v1)
    expect(desiredOf(hub, 'loop')).toEqual({ open: true })
  })

  it('applies module content to module twins and resolves overlapping paths by priority', async () => {
    const hub = await makeHub()
    await hub.registry.create({ deviceId: 'gw' })
    await hub.registry.create({ deviceId: 'gw', moduleId: 'reader' })
    await hub.configurations.put('mod', {
      targetCondition: "FROM devices.modules WHERE moduleId = 'reader'", priority: 1,
      content: { moduleContent: { 'properties.desired.scan': { rate: 5, mode: 'fast' } } }
    })
    // Higher priority on a deeper path wins that path; the base's overlapping object loses it all.
    await hub.configurations.put('mod-rate', {
      targetCondition: "FROM devices.modules WHERE moduleId = 'reader'", priority: 9,
      content: { moduleContent: { 'properties.desired.scan.rate': 1 } }
    })
    await hub.configurations.idle()
    expect(desiredOf(hub, 'gw', 'reader')).toEqual({ scan: { rate: 1 } })
    expect(hub.twins.get({ deviceId: 'gw', moduleId: 'reader' }).configurations).toEqual({ 'mod-rate': { status: 'applied' }, mod: { status: 'targeted' } })
    expect(desiredOf(hub, 'gw')).toEqual({})
    await hub.configurations.remove('mod-rate')
    await hub.configurations.idle()
    expect(desiredOf(hub, 'gw', 'reader')).toEqual({ scan: { rate: 5, mode: 'fast' } })
    // A device configuration cannot target modules, and the reverse.
    await expect(hub.configurations.put('bad', { targetCondition: 'FROM devices.modules', content: { deviceContent: {} } })).rejects.toMatchObject({ code: 400401 })
    await expect(hub.configurations.put('bad', { targetCondition: "tags.a = 1", content: { moduleContent: {} } })).rejects.toMatchObject({ code: 400401 })
    await expect(hub.configurations.put('bad', { targetCondition: '*', content: { deviceContent: { 'properties.desired.a': 1, 'properties.desired.a.b': 2 } } })).rejects.toMatchObject({ code: 400402 })
  })

  it('a null value removes the property; a twin created later is picked up; the periodic run re-counts metrics', async () => {
    const hub = await makeHub({ intervalMs: 100 })
    await hub.registry.create({ deviceId: 'n1' })
    await hub.twins.patchDesired({ deviceId: 'n1' }, { legacy: 1, keep: 2 })
    await hub.configurations.put('cleanup', {
      targetCondition: '*', content: { deviceContent: { 'properties.desired.legacy': null } },
      metrics: { queries: { withKeep: 'SELECT deviceId FROM devices WHERE properties.desired.keep = 2' } }
    })
    await hub.configurations.idle()
    expect(desiredOf(hub, 'n1')).toEqual({ keep: 2 })
    await hub.registry.create({ deviceId: 'n2' })
    await hub.configurations.idle()
    expect(hub.twins.get({ deviceId: 'n2' }).configurations).toEqual({ cleanup: { status: 'applied' } })
    expect(hub.configurations.mustGet('cleanup').systemMetrics.results).toEqual({ targetedCount: 2, appliedCount: 2 })
    expect(hub.configurations.mustGet('cleanup').metrics.results).toEqual({ withKeep: 1 })
    await hub.twins.patchDesired({ deviceId: 'n2' }, { keep: 2 })
    await new Promise((r) => setTimeout(r, 300))
    expect(hub.configurations.mustGet('cleanup').metrics.results).toEqual({ withKeep: 2 })
  })
})
