// The renderer's vanilla hub-status store, driven by a typed fake of window.hub.
import { describe, expect, it } from 'vitest'
import { ok, type HubApi, type HubStatus, type Result } from '../../src/shared/contract/index.js'
import { createHubStatusStore } from '../../src/renderer/src/state/hub-status.js'

const running: HubStatus = { state: 'running', endpoints: [{ name: 'MQTT (TLS)', url: 'mqtts://h:8883' }], devices: 4, connected: 2 }

function fakeApi (status: () => Promise<Result<unknown>>): HubApi {
  return { call: (() => status()) as HubApi['call'], subscribe: () => () => {} }
}

describe('hub status store', () => {
  it('says the hub API is unavailable when there is none', async () => {
    const s = createHubStatusStore(undefined)
    await s.refresh()
    expect(s.store.getState()).toEqual({ source: 'unavailable', status: undefined, error: undefined })
  })

  it('keeps the latest status from window.hub', async () => {
    const s = createHubStatusStore(fakeApi(() => Promise.resolve(ok(running))))
    await s.refresh()
    expect(s.store.getState()).toEqual({ source: 'desktop', status: running, error: undefined })
  })

  it('records a failed call as an error, and clears it on the next success', async () => {
    let failing = true
    const s = createHubStatusStore(fakeApi(() => (failing ? Promise.reject(new Error('no handler')) : Promise.resolve(ok(running)))), 'browser')
    await s.refresh()
    expect(s.store.getState().error).toMatchObject({ message: 'no handler', code: 0 })
    expect(s.store.getState().source).toBe('browser')
    failing = false
    await s.refresh()
    expect(s.store.getState()).toMatchObject({ status: running, error: undefined })
  })
})
