// What the desktop main does, minus Electron: parse the desktop arguments, start the hub
// in-process with startServer, and answer 'hub.status' from it.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startServer } from '../../src/main/hub/server.js'
import { parseDesktopArgs } from '../../src/main/shell/args.js'
import { hubStatus } from '../../src/main/shell/status.js'

describe('desktop hub in-process', () => {
  it('starts from the desktop arguments and reports endpoints and counts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sitehub-desktop-'))
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }))
    const args = parseDesktopArgs(['--data-dir', dataDir, '--bind', '127.0.0.1', '--mqtts-port', '0', '--https-port', '0'])
    const server = await startServer({ config: { ...args.hub, dataDir: args.dataDir ?? dataDir } })
    onTestFinished(() => server.close())

    const status = hubStatus({ state: 'running', server })
    expect(status).toMatchObject({ state: 'running', devices: 0, connected: 0 })
    const urls = status.endpoints.map(e => e.url)
    expect(urls.find(u => u.startsWith('mqtts://'))).toMatch(/^mqtts:\/\/127\.0\.0\.1:[1-9]\d*$/)
    expect(urls.find(u => u.startsWith('https://'))).toMatch(/^https:\/\/127\.0\.0\.1:[1-9]\d*$/)

    await server.hub.registry.create({ deviceId: 'press-1' })
    expect(hubStatus({ state: 'running', server }).devices).toBe(1)
  })
})
