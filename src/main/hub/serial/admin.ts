// Admin-channel methods for serial ports (`sitehub serial ...`), over hub.serial. Merged into
// the admin dispatcher (admin/handlers.ts) and typed in admin/protocol.ts.
import { argumentInvalid } from '../errors.js'
import type { Hub } from '../services.js'
import type { ProfileInfo } from './service.js'
import type { MachinePort, SerialPortConfig, SerialPortInput, SerialPortStatus } from './types.js'

export interface SerialAdminMethods {
  'serial.list': { params: Record<string, never>; result: SerialPortConfig[] }
  'serial.add': { params: SerialPortInput; result: SerialPortConfig }
  'serial.remove': { params: { name: string }; result: null }
  'serial.status': { params: Record<string, never>; result: SerialPortStatus[] }
  'serial.machinePorts': { params: Record<string, never>; result: { ports: MachinePort[]; error?: string } }
  'serial.profiles': { params: Record<string, never>; result: ProfileInfo[] }
}

export const SERIAL_ADMIN_METHODS: ReadonlyArray<keyof SerialAdminMethods> = [
  'serial.list', 'serial.add', 'serial.remove', 'serial.status', 'serial.machinePorts', 'serial.profiles'
]

type Params = Record<string, unknown>

export function serialAdminHandlers (hub: Hub): { [M in keyof SerialAdminMethods]: (p: Params) => Promise<SerialAdminMethods[M]['result']> } {
  return {
    'serial.list': async () => hub.serial.list(),
    'serial.add': async (p) => {
      if (typeof p['path'] !== 'string') throw argumentInvalid('path must be a string')
      return await hub.serial.add(p as unknown as SerialPortInput)
    },
    'serial.remove': async (p) => {
      if (typeof p['name'] !== 'string' || p['name'] === '') throw argumentInvalid('name must be a non-empty string')
      await hub.serial.remove(p['name'])
      return null
    },
    'serial.status': async () => hub.serial.status(),
    'serial.machinePorts': async () => await hub.serial.machinePorts(),
    'serial.profiles': async () => await hub.serial.profiles.list()
  }
}
