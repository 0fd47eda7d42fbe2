// Modbus RTU over a pty pair: the hub polls modbus-serial's ServerSerial (a slave with unit ids
// 1 and 2 on one multidrop line) into telemetry and reported properties, writes desired
// properties to holding registers and coils, and maps methods to coils.
import { describe, expect, it, onTestFinished } from 'vitest'
import { startModbusSlave } from '../../src/main/sim/serial/modbus-slave.js'
import { validateProfile } from '../../src/main/hub/serial/modbus-profile.js'
import { addDevice, ptyPair, startSerialHub, tmpDir, until } from './helpers.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }

describe('Modbus RTU over a pty pair', () => {
  it('polls registers, writes desired properties, maps methods to coils, on two units', async () => {
    const { hub } = await startSerialHub(defer)
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)
    const slave = await startModbusSlave({ path: pty.b, units: [1, 2] })
    defer(() => slave.close())
    const u1 = slave.unit(1)
    u1.input[0] = 215 // 21.5 degC
    u1.input[1] = 0xffff - 9 // uint16
    u1.input[2] = 0x0001; u1.input[3] = 0x0002 // energy = 65538 * 0.01
    u1.holding[10] = (-55) & 0xffff // setpoint -5.5
    u1.discrete[0] = 1
    slave.unit(2).input[0] = 300

    await addDevice(hub, 'tc-1')
    await addDevice(hub, 'tc-2')
    await hub.serial.add({
      name: 'rs485', path: pty.a, protocol: 'modbus', timeoutMs: 300,
      devices: [{ deviceId: 'tc-1', address: 1, profile: 'generic-temperature-controller' }, { deviceId: 'tc-2', address: 2, profile: 'generic-temperature-controller' }]
    })

    await until(() => hub.connections.isConnected({ deviceId: 'tc-1' }) && hub.connections.isConnected({ deviceId: 'tc-2' }), 10_000, 'both units connected')
    // one message per poll interval group: the 1 s group carries temperature, output, alarm
    const bodyOf = async (deviceId: string): Promise<Record<string, unknown> | undefined> => (await hub.telemetry.history({ deviceId }, 10))
      .map((m) => JSON.parse(m.body.toString()) as Record<string, unknown>).find((b) => 'temperature' in b)
    const body = await until(() => bodyOf('tc-1'), 5000, 'telemetry') as Record<string, unknown>
    expect(body['temperature']).toBe(21.5)
    expect(body['output']).toBe(6552.6)
    expect(body['alarm']).toBe(true)
    await until(() => hub.twins.get({ deviceId: 'tc-1' }).properties.reported['setpoint'] === -5.5, 5000, 'setpoint reported')
    expect(hub.twins.get({ deviceId: 'tc-1' }).properties.reported['energy']).toBe(655.38)
    const t2 = await until(() => bodyOf('tc-2'), 5000, 'telemetry 2') as Record<string, unknown>
    expect(t2['temperature']).toBe(30)

    // desired -> holding register 10 (scaled) and coil 5
    await hub.twins.patchDesired({ deviceId: 'tc-1' }, { setpoint: 72.5, heaterEnabled: true })
    await until(() => u1.holding[10] === 725 && u1.coils[5] === 1, 5000, 'desired written')
    await until(() => hub.twins.get({ deviceId: 'tc-1' }).properties.reported['setpoint'] === 72.5, 5000, 'setpoint reported back')

    // methods -> coils
    const res = await hub.methods.invoke({ deviceId: 'tc-2' }, { methodName: 'reboot', responseTimeoutInSeconds: 5 })
    expect(res.status).toBe(200)
    expect(slave.unit(2).coils[0]).toBe(1)
    const unknown = await hub.methods.invoke({ deviceId: 'tc-2' }, { methodName: 'selfDestruct', responseTimeoutInSeconds: 5 })
    expect(unknown.status).toBe(404)

    // a unit that stops answering is marked disconnected; the other one stays
    slave.mute(true)
    await until(() => !hub.connections.isConnected({ deviceId: 'tc-1' }), 10_000, 'tc-1 disconnected')
    slave.mute(false)
    await until(() => hub.connections.isConnected({ deviceId: 'tc-1' }), 10_000, 'tc-1 back')
    const st = hub.serial.status()[0]
    expect(st?.counters.timeouts).toBeGreaterThan(0)
    expect(st?.devices.find((d) => d.deviceId === 'tc-1')?.errors).toBeGreaterThan(0)
  })

  it('validates profiles with clear errors', async () => {
    const bad = validateProfile({
      name: 'x',
      registers: [
        { name: 'a', area: 'input', address: 70000, type: 'int16' },
        { name: 'b', area: 'input', address: 1, desired: true },
        { name: 'c', area: 'coil', address: 1, type: 'float32' },
        { name: 'a', area: 'holding', address: 2, scale: 0 }
      ],
      methods: { reboot: { coil: 'one' } }
    })
    expect('errors' in bad && bad.errors).toEqual([
      'registers[0].address: must be an integer from 0 to 65535',
      'registers[1].desired: input registers are read-only; only holding registers and coils can be written',
      "registers[2].type: a coil is always 'bool'",
      'registers[3].scale: must be a non-zero number',
      'methods.reboot.coil: must be an integer from 0 to 65535'
    ])
    const { hub } = await startSerialHub(defer)
    await expect(hub.serial.add({ path: '/dev/null', protocol: 'modbus', devices: [{ deviceId: 'x', address: 1, profile: 'missing' }] }))
      .rejects.toThrow(/no Modbus profile 'missing'/)
    const list = await hub.serial.profiles.list()
    expect(list.find((p) => p.name === 'generic-temperature-controller')?.errors).toBeNull()
  })
})

describe('Modbus RTU robustness', () => {
  it('unplug and replug: devices disconnected, port reopened with backoff, polling resumes', async () => {
    const { hub } = await startSerialHub(defer)
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)
    let slave = await startModbusSlave({ path: pty.b, units: [7] })
    defer(() => slave.close())
    slave.unit(7).input[0] = 100
    await addDevice(hub, 'mb-7')
    await hub.serial.add({ name: 'mb', path: pty.a, protocol: 'modbus', timeoutMs: 200, devices: [{ deviceId: 'mb-7', address: 7, profile: 'generic-temperature-controller' }] })
    await until(() => hub.connections.isConnected({ deviceId: 'mb-7' }), 10_000, 'connected')

    await slave.close()
    await pty.stop()
    await until(() => !hub.connections.isConnected({ deviceId: 'mb-7' }), 10_000, 'disconnected')
    await until(() => hub.serial.status()[0]?.state !== 'open', 5000, 'port down')

    await pty.start()
    slave = await startModbusSlave({ path: pty.b, units: [7] })
    slave.unit(7).input[0] = 123
    await until(() => hub.connections.isConnected({ deviceId: 'mb-7' }), 15_000, 'reconnected')
    const st = hub.serial.status()[0]
    expect(st?.state).toBe('open')
    expect(st?.counters.opens).toBeGreaterThanOrEqual(2)
    await until(async () => (await hub.telemetry.history({ deviceId: 'mb-7' }, 5))
      .some((m) => (JSON.parse(m.body.toString()) as Record<string, unknown>)['temperature'] === 12.3), 5000, 'new readings')
  })
})
