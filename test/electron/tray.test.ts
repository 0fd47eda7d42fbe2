// The tray's words for each hub state (the Electron Tray itself needs the binary, absent here).
import { describe, expect, it } from 'vitest'
import { trayLabel } from '../../src/main/shell/tray-label.js'

describe('tray label', () => {
  it('says what the hub is doing in plain words', () => {
    expect(trayLabel({ state: 'starting', endpoints: [], devices: 0, connected: 0 })).toEqual({ tooltip: 'Sitehub: starting…', menuLine: 'Hub starting…', healthy: false })
    expect(trayLabel({ state: 'failed', endpoints: [], devices: 0, connected: 0, error: 'port 443 is in use' }))
      .toMatchObject({ tooltip: 'Sitehub: not running (port 443 is in use)', healthy: false })
    expect(trayLabel({ state: 'running', endpoints: [], devices: 12, connected: 7 })).toEqual({ tooltip: 'Sitehub: running · 7 of 12 devices online', menuLine: 'Hub running · 7 of 12 devices online', healthy: true })
    expect(trayLabel({ state: 'running', endpoints: [], devices: 1, connected: 1 }).menuLine).toBe('Hub running · 1 of 1 device online')
  })
})
