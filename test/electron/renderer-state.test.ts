// The renderer's vanilla hub-status store, driven by a typed fake of window.hub.
import { describe, expect, it } from 'vitest'
import type { HubApi, HubStatus } from '../../src/shared/contract.js'
import { createHubStatusStore } from '../../src/renderer/src/state/hub-status.js'

const running: HubStatus = { state: 'running', endpoints: [{ name: 'MQTT (TLS)', url: 'mqtts://h:8883' }], devices: 4, connected: 2 }

describe('hub status store', () => {
  it('says the desktop API is unavailable in a plain browser', async () => {
    const s = createHubStatusStore(undefined)
    await s.refresh()
    expect(s.store.getState()).toEqual({ source: 'unavailable', status: undefined, error: undefined })
  })

  it('keeps the latest status from window.hub', async () => {
    const api: HubApi = { status: () => Promise.resolve(running) }
    const s = createHubStatusStore(api)
    await s.refresh()
    expect(s.store.getState()).toEqual({ source: 'desktop', status: running, error: undefined })
  })

  it('records a failed call as an error, and clears it on the next success', async () => {
    let fail = true
    const api: HubApi = { status: () => (fail ? Promise.reject(new Error('no handler')) : Promise.resolve(running)) }
    const s = createHubStatusStore(api)
    await s.refresh()
    expect(s.store.getState().error).toBe('no handler')
    fail = false
    await s.refresh()
    expect(s.store.getState()).toMatchObject({ status: running, error: undefined })
  })
})
