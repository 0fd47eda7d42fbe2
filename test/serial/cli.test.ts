// The command line end to end: `sitehub serve` (a real hub process), `sitehub serial add|list|
// status|remove|ports|profile-check`, and `sitehub simulate-serial` as the device on a pty pair.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runCli, serve } from '../../src/main/cli/test-helpers.js'
import type { SerialPortStatus } from '../../src/main/hub/serial/types.js'
import { randomLoopback } from '../helpers/hub.js'
import { ptyPair, tmpDir, until } from './helpers.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }

describe('sitehub serial (CLI)', () => {
  it('adds a port to a running hub, a simulated device talks on it, status shows it, remove closes it', async () => {
    const dir = await tmpDir(defer)
    const data = join(dir, 'hub')
    const ip = randomLoopback()
    await serve(['--data-dir', data, '--host-name', ip, '--bind', ip, '--mqtts-port', '0', '--https-port', '0'])
    const pty = await ptyPair(dir, defer)
    expect((await runCli(['device', 'add', 'cli-dev', '--data-dir', data])).code).toBe(0)
    const cs = (await runCli(['device', 'connection-string', 'cli-dev', '--data-dir', data])).stdout.trim()

    const added = await runCli(['serial', 'add', pty.a, '--name', 'bench1', '--keep-alive', '5', '--data-dir', data])
    expect(added.stderr).toBe('')
    expect(added.stdout).toMatch(/added serial port bench1/)
    const dup = await runCli(['serial', 'add', pty.a, '--name', 'other', '--data-dir', data])
    expect(dup.code).toBe(1)
    expect(dup.stderr).toMatch(/already uses/)

    const sim = await runCli(['simulate-serial', '--serial', pty.b, '--connection-string', cs, '--count', '3'])
    expect(sim.stdout).toMatch(/identified/)
    expect(sim.stdout).toMatch(/sent 3 messages/)

    const st = await until(async () => {
      const r = await runCli(['serial', 'status', '--json', '--data-dir', data])
      const ports = JSON.parse(r.stdout) as SerialPortStatus[]
      return ports[0]?.devices[0]?.deviceId === 'cli-dev' ? ports : null
    }, 10_000, 'status with the device')
    expect(st[0]).toMatchObject({ name: 'bench1', state: 'open', protocol: 'line' })
    expect(st[0]?.counters.framesIn).toBeGreaterThanOrEqual(5)
    const text = await runCli(['serial', 'status', '--data-dir', data])
    expect(text.stdout).toMatch(/bench1 .* line {2}open/)

    const list = await runCli(['serial', 'list', '--data-dir', data])
    expect(list.stdout).toMatch(/bench1\s+\S+ttyA\s+line\s+115200\s+8N1\s+yes/)
    const machine = await runCli(['serial', 'ports', '--data-dir', data])
    expect(machine.code).toBe(0) // even where SerialPort.list() rejects (no udev)

    expect((await runCli(['serial', 'remove', 'bench1', '--data-dir', data])).code).toBe(0)
    expect(JSON.parse((await runCli(['serial', 'list', '--json', '--data-dir', data])).stdout)).toEqual([])
  })

  it('profile-check prints every problem of a bad profile and accepts the built-in one', async () => {
    const dir = await tmpDir(defer)
    const file = join(dir, 'meter.json')
    await writeFile(file, JSON.stringify({ registers: [{ name: '1bad', area: 'input', address: -1 }] }))
    const bad = await runCli(['serial', 'profile-check', file])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/registers\[0\]\.name/)
    expect(bad.stderr).toMatch(/registers\[0\]\.address/)
    const good = await runCli(['serial', 'profile-check', 'resources/modbus-profiles/generic-temperature-controller.json'])
    expect(good.stdout).toMatch(/is valid: 6 registers, methods: reboot, factoryReset/)
  })
})
