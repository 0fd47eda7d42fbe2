// A fleet from the simulator library (createFleet): bounded-concurrency start, aggregated stats,
// and devices that come back by themselves after the hub restarts, methods and all.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFleet, type Fleet } from '../../src/main/sim/index.js'
import { startServiceHub, type ServiceHub } from '../support/service-hub.js'
import { waitFor } from '../helpers/hub.js'

let h: ServiceHub
let fleet: Fleet | undefined

beforeAll(async () => { h = await startServiceHub() }, 60_000)
afterAll(async () => {
  await fleet?.stop()
  await h?.close()
})

describe('createFleet', () => {
  it('starts N devices with bounded concurrency, counts telemetry, survives a hub restart', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `fleet-${i + 1}`)
    for (const deviceId of ids) await h.hub.registry.create({ deviceId })
    fleet = createFleet({
      connectionStrings: ids.map((deviceId) => h.hub.registry.deviceConnectionString({ deviceId })),
      ca: readFileSync(h.endpoints.caFile, 'utf8'), concurrency: 2, telemetryRateSeconds: 0.3, rebootDelayMs: 200
    })
    const started = await fleet.start()
    expect(started).toMatchObject({ devices: 6, connected: 6, failedToStart: 0 })
    expect(h.hub.connections.count()).toBe(6)
    await waitFor(() => fleet!.stats().messagesSent >= 12, 15_000, 'telemetry from the fleet')
    await waitFor(async () => (await h.hub.telemetry.stats()).messages >= 12, 5000, 'telemetry stored')

    await h.restart()
    // The SDK's retry policy reconnects and re-subscribes (methods, desired) by itself.
    for (const deviceId of ids) expect(await h.hub.connections.waitFor({ deviceId }, 'methods', 60_000)).toBe(true)
    const r = await h.hub.methods.invoke({ deviceId: 'fleet-3' }, { methodName: 'reboot', responseTimeoutInSeconds: 10 })
    expect(r.status).toBe(200)
    await waitFor(() => h.hub.twins.get({ deviceId: 'fleet-3' }).properties.reported['rebootStatus'] === 'completed', 15_000, 'reboot after the restart')

    await fleet.stop()
    // Generous: under a loaded CI machine the SDK's close() can take several seconds per client.
    await waitFor(() => h.hub.connections.count() === 0, 30_000, 'all clients closed')
    expect(fleet.stats().connected).toBe(0)
  }, 150_000)
})
