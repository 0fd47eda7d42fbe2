// A jobs v2 direct-method job across a serial device (line protocol on a pty) and an MQTT
// device (mqtt.js, IoT Hub dialect) on the full server: jobs reach both the same way.
import { describe, expect, it, onTestFinished } from 'vitest'
import { connectRawDevice } from '../helpers/mqtt-device.js'
import { startHubInProcess } from '../helpers/hub.js'
import { parseConnectionString } from '../helpers/sdk.js'
import { startSerialDevice } from '../../src/main/sim/serial/device.js'
import { ptyPair, tmpDir, until } from './helpers.js'

const defer = (fn: () => unknown): void => { onTestFinished(async () => { await fn() }) }

describe('jobs across serial and MQTT devices', () => {
  it('a scheduleDeviceMethod job completes on a serial and an MQTT device', async () => {
    const h = await startHubInProcess({ defer })
    const { hub } = h
    const dir = await tmpDir(defer)
    const pty = await ptyPair(dir, defer)

    const serialCs = parseConnectionString(await h.addDevice('job-serial'))
    const mqttCs = parseConnectionString(await h.addDevice('job-mqtt'))
    await hub.serial.add({ name: 'jobline', path: pty.a, keepAliveSec: 5 })
    const sdev = await startSerialDevice({ path: pty.b, deviceId: 'job-serial', key: serialCs.SharedAccessKey as string })
    defer(() => sdev.close())

    const mdev = await connectRawDevice({ url: `mqtts://${h.bind}:${h.endpoints.mqtts.split(':').pop()}`, host: h.hostName, deviceId: 'job-mqtt', key: mqttCs.SharedAccessKey as string, ca: await h.ca() })
    defer(() => mdev.end())
    mdev.client.on('message', (topic, payload) => {
      const m = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic)
      if (m !== null) mdev.client.publish(`$iothub/methods/res/200/?$rid=${m[2]}`, payload)
    })
    await mdev.client.subscribeAsync('$iothub/methods/POST/#')

    for (const id of ['job-serial', 'job-mqtt']) await hub.twins.patchTags({ deviceId: id }, { line: 'mixed' })
    await until(() => hub.connections.isConnected({ deviceId: 'job-serial' }) && hub.connections.isConnected({ deviceId: 'job-mqtt' }), 10_000, 'both connected')

    const calls: string[] = []
    sdev.on('call', (name: string) => calls.push(name))
    await hub.jobs.create('mixed-echo', {
      type: 'scheduleDeviceMethod', queryCondition: "tags.line = 'mixed'",
      cloudToDeviceMethod: { methodName: 'echo', payload: { job: 1 }, responseTimeoutInSeconds: 10 }
    })
    await until(() => hub.jobs.get('mixed-echo').status === 'completed', 20_000, 'job completed')
    const devs = Object.fromEntries(hub.jobs.deviceJobs('mixed-echo').map((d) => [d.deviceId, d.status]))
    expect(devs).toEqual({ 'job-serial': 'completed', 'job-mqtt': 'completed' })
    expect(calls).toEqual(['echo'])
    expect(hub.connections.list().map((c) => c.transport).sort()).toEqual(['mqtt', 'serial'])
  })
})
