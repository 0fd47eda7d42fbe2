// The desktop window's path to the hub (src/main/shell/ipc.ts, minus Electron's ipcMain): the
// same UI API and sessions as the browser. The window is a local caller (it may run the
// first-run setup); every call carries the token the renderer got from signing in.
import { describe, expect, it, onTestFinished } from 'vitest'
import { createCallHandler } from '../../src/main/shell/ipc-calls.js'
import type { Hub } from '../../src/main/hub/services.js'
import type { HubStatus, SessionInfo } from '../../src/shared/contract/index.js'
import { startHubInProcess } from '../helpers/hub.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }

describe('desktop IPC calls', () => {
  it('waits for the hub, runs the first-run setup, then needs the session like the browser', async () => {
    let hub: Hub | undefined
    const status = (): HubStatus => ({ state: hub === undefined ? 'starting' : 'running', endpoints: [], devices: 0, connected: 0 })
    const call = createCallHandler({ status, hub: () => hub })
    // before the hub runs: only its status
    expect(await call('hub.status', undefined)).toEqual({ ok: true, value: { state: 'starting', endpoints: [], devices: 0, connected: 0 } })
    expect(await call('auth.status', undefined)).toMatchObject({ ok: false, error: { code: 503001 } })
    hub = (await startHubInProcess({ defer })).hub
    expect(await call('auth.status', undefined)).toEqual({ ok: true, value: { setupNeeded: true, setupAllowed: true, session: null } })
    expect(await call('hub.status', undefined)).toMatchObject({ ok: false, error: { code: 401203, name: 'SetupRequired' } })
    const setup = await call('auth.setup', { name: 'desk', password: 'desk password' })
    expect(setup).toMatchObject({ ok: true, value: { name: 'desk', role: 'admin' } })
    const token = (setup as { value: SessionInfo }).value.token
    expect(await call('devices.list', {}, token)).toMatchObject({ ok: true, value: { total: 0 } })
    expect(await call('devices.list', {})).toMatchObject({ ok: false, error: { code: 401201 } })
    expect(await call('devices.create', { deviceId: 'd1' }, 42)).toMatchObject({ ok: false, error: { code: 401201 } })
    expect(await call('devices.create', { deviceId: 'd1' }, token)).toMatchObject({ ok: true })
    const log = await call('audit.list', { method: 'devices.create' }, token)
    expect(log).toMatchObject({ ok: true, value: { items: [{ user: 'desk', address: 'desktop', target: { id: 'd1' } }] } })
    expect(await call('auth.signOut', undefined, token)).toEqual({ ok: true, value: { signedOut: true } })
    expect(await call('devices.list', {}, token)).toMatchObject({ ok: false, error: { code: 401201 } })
  })
})
