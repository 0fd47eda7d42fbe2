// The official Azure IoT device SDK (CommonJS), loaded on first use: the CLI's --help must not
// pay for it, and the packages are dev dependencies (the simulator is a development and test tool).
import { createRequire } from 'node:module'

export type DeviceClient = import('azure-iot-device').Client
export type DeviceTwin = import('azure-iot-device').Twin
export type MethodRequest = import('azure-iot-device').DeviceMethodRequest
export type MethodResponse = import('azure-iot-device').DeviceMethodResponse

export interface DeviceSdk {
  device: typeof import('azure-iot-device')
  mqtt: typeof import('azure-iot-device-mqtt')
}

let loaded: DeviceSdk | undefined

export function loadDeviceSdk (): DeviceSdk {
  if (loaded !== undefined) return loaded
  const require = createRequire(import.meta.url)
  try {
    loaded = {
      device: require('azure-iot-device') as typeof import('azure-iot-device'),
      mqtt: require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt')
    }
  } catch (err) {
    throw new Error('the simulator needs the packages azure-iot-device and azure-iot-device-mqtt ' +
      `(npm install, with dev dependencies): ${(err as Error).message}`)
  }
  return loaded
}

/** Fields of a device connection string (HostName, DeviceId, SharedAccessKey, ...). */
export function parseDeviceConnectionString (cs: string): Record<string, string> & { HostName: string; DeviceId: string } {
  const out: Record<string, string> = {}
  for (const part of cs.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  if (out['HostName'] === undefined || out['DeviceId'] === undefined) throw new Error('not a device connection string (needs HostName and DeviceId)')
  return out as Record<string, string> & { HostName: string; DeviceId: string }
}
