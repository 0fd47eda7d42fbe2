// The core must run with Electron absent (STYLE 4.1, zustand's vi.mock trick): any import of
// 'electron' from the hub would throw here.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it, vi } from 'vitest'

vi.mock('electron', () => { throw new Error('the hub core imported electron') })

it('builds, uses and closes a hub with electron unavailable', async () => {
  const { createHub } = await import('./index.js')
  const dataDir = mkdtempSync(join(tmpdir(), 'sitehub-headless-'))
  try {
    const hub = await createHub({ config: { dataDir, hostName: 'localhost', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role: 'edge' } })
    await hub.registry.create({ deviceId: 'd1' })
    expect(hub.twins.get({ deviceId: 'd1' }).properties.desired.$version).toBe(1)
    await hub.close()
    await import('./server.js')
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})
