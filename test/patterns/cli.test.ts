// The CLI wrappers: `sitehub simulate` and `sitehub firmware` against a hub process (the real
// `sitehub serve`), the way a newcomer runs the demo.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, CleanupStack, REPO_ROOT, runCli, startHubProcess, tempDataDir, waitFor, type HubProcess } from '../helpers/hub.js'

describe('sitehub simulate and sitehub firmware', () => {
  const stack = new CleanupStack()
  let hp: HubProcess

  beforeAll(async () => { hp = await startHubProcess({ defer: stack.defer }) }, 90_000)
  afterAll(async () => { await stack.run() })

  const status = async (): Promise<{ connections: number; devices: { total: number }; telemetry: { messages: number } }> => {
    const r = await hp.cli(['status', '--json'])
    return JSON.parse(r.stdout)
  }

  it('simulate --help describes the options; a missing --devices is a usage error', async () => {
    const help = await runCli(['simulate', '--help'])
    expect(help.code).toBe(0)
    for (const opt of ['--devices', '--rate', '--prefix', '--data-dir', '--connection-string', '--duration']) expect(help.stdout).toContain(opt)
    const bad = await runCli(['simulate'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/missing --devices/)
    expect((await runCli(['simulate', '--devices', '0'])).code).toBe(2)
  })

  it('simulate --devices 3 provisions, connects, sends telemetry, prints its status line and stops after --duration', async () => {
    const r = await hp.cli(['simulate', '--devices', '3', '--rate', '0.5', '--duration', '6', '--prefix', 'cli-sim-'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/3 device\(s\) cli-sim-1\.\.cli-sim-3 \(3 created\)/)
    expect(r.stderr).toMatch(/3\/3 connected/)
    expect(r.stderr).toMatch(/\(stopped\)/)
    const sent = Number(/(\d+) messages sent, \d+ method calls, \d+ errors \(stopped\)/.exec(r.stderr)?.[1])
    expect(sent).toBeGreaterThan(3)
    const s = await status()
    expect(s.devices.total).toBeGreaterThanOrEqual(3)
    expect(s.telemetry.messages).toBeGreaterThanOrEqual(sent)
    await waitFor(async () => (await status()).connections === 0, 10_000, 'the simulator closed its clients')
  })

  it('simulate stops cleanly on SIGINT, closing every client', async () => {
    const child = spawn(process.execPath, [CLI, 'simulate', '--devices', '2', '--rate', '1', '--prefix', 'sig-sim-', '--data-dir', hp.dataDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (c: string) => { err += c })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    stack.defer(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    await waitFor(() => /2\/2 connected/.test(err), 30_000, 'both devices connected')
    expect((await status()).connections).toBeGreaterThanOrEqual(2)
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(err).toMatch(/0\/2 connected, \d+ messages sent.*\(stopped\)/)
    await waitFor(async () => (await status()).connections === 0, 10_000, 'no connections left')
  })

  it('firmware add | list | remove through the running hub, and offline on the data dir', async () => {
    const dir = await tempDataDir(stack.defer, 'sitehub-fwfile-')
    const file = join(dir, 'pump-2.bin')
    await writeFile(file, randomBytes(1_500_000))
    const add = await hp.cli(['firmware', 'add', file, '--version', '2.0.0', '--json'])
    expect(add.code, add.stderr).toBe(0)
    expect(JSON.parse(add.stdout)).toMatchObject({ name: 'pump-2', version: '2.0.0', size: 1_500_000 })
    const list = await hp.cli(['firmware', 'list', '--json'])
    expect(JSON.parse(list.stdout)).toContainEqual(expect.objectContaining({ name: 'pump-2', version: '2.0.0' }))
    expect((await hp.cli(['firmware', 'add', file, '--name', 'pump-2'])).code).toBe(2)
    const rm = await hp.cli(['firmware', 'remove', 'pump-2', '2.0.0'])
    expect([rm.code, rm.stdout.trim()]).toEqual([0, 'removed pump-2 2.0.0'])
    const again = await hp.cli(['firmware', 'remove', 'pump-2', '2.0.0'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/no firmware pump-2 2\.0\.0/)

    await hp.kill()
    const offline = await hp.cli(['firmware', 'add', file, '--name', 'pump', '--version', '3.0.0'])
    expect(offline.code, offline.stderr).toBe(0)
    expect((await hp.cli(['firmware', 'list'])).stdout).toMatch(/pump 3\.0\.0 {2}1500000 bytes/)
    const noHub = await hp.cli(['simulate', '--devices', '1'])
    expect(noHub.code).toBe(1)
    expect(noHub.stderr).toMatch(/no hub is running/)
  })
})
