// Ready-made queries over the device management layout (layout.ts): each one plain IoT Hub
// query language, so the same text also works against Azure IoT Hub (POST /devices/query).
import { FIRMWARE_IN_PROGRESS } from './layout.js'

export interface ReportDefinition {
  name: string
  title: string
  description: string
  /** 'groups': one row per distinct value with a `devices` count; 'devices': one row per device. */
  kind: 'groups' | 'devices'
  query: string
}

const list = (values: readonly string[]): string => `[${values.map((v) => `'${v}'`).join(', ')}]`
const R = 'properties.reported'

export const REPORTS: readonly ReportDefinition[] = [
  {
    name: 'firmware-status',
    title: 'Firmware update status',
    description: 'Devices per firmware.status (current, downloading, verifying, applying, rebooting, rollingBack, failed).',
    kind: 'groups',
    query: `SELECT ${R}.firmware.status AS status, COUNT() AS devices FROM devices GROUP BY ${R}.firmware.status`
  },
  {
    name: 'firmware-versions',
    title: 'Firmware versions in the field',
    description: 'Devices per running firmware version (firmware.current).',
    kind: 'groups',
    query: `SELECT ${R}.firmware.current AS version, COUNT() AS devices FROM devices GROUP BY ${R}.firmware.current`
  },
  {
    name: 'firmware-in-progress',
    title: 'Devices mid-update',
    description: 'Devices with an update under way, with the target version, step and percent progress.',
    kind: 'devices',
    query: `SELECT deviceId, ${R}.firmware.current AS current, ${R}.firmware.pending AS pending, ${R}.firmware.status AS status, ` +
      `${R}.firmware.progress AS progress, ${R}.firmware.lastUpdate AS lastUpdate FROM devices WHERE ${R}.firmware.status IN ${list(FIRMWARE_IN_PROGRESS)}`
  },
  {
    name: 'firmware-failed',
    title: 'Failed firmware updates',
    description: 'Devices whose last update failed (and rolled back), with the error.',
    kind: 'devices',
    query: `SELECT deviceId, ${R}.firmware.current AS current, ${R}.firmware.pending AS pending, ${R}.firmware.error AS error, ` +
      `${R}.firmware.lastUpdate AS lastUpdate FROM devices WHERE ${R}.firmware.status = 'failed'`
  },
  {
    name: 'reboot-status',
    title: 'Reboot status',
    description: 'Devices per rebootStatus (rebooting, completed).',
    kind: 'groups',
    query: `SELECT ${R}.rebootStatus AS rebootStatus, COUNT() AS devices FROM devices GROUP BY ${R}.rebootStatus`
  },
  {
    name: 'device-state',
    title: 'Device state',
    description: 'Devices per reported state (running, rebooting, resetting, updating).',
    kind: 'groups',
    query: `SELECT ${R}.state AS state, COUNT() AS devices FROM devices GROUP BY ${R}.state`
  },
  {
    name: 'config-status',
    title: 'Configuration status',
    description: 'Devices per Plug and Play ack code of the desired configuration (config.ac: 200 applied, 202 pending, 4xx/5xx error).',
    kind: 'groups',
    query: `SELECT ${R}.config.ac AS ac, COUNT() AS devices FROM devices GROUP BY ${R}.config.ac`
  },
  {
    name: 'config-pending',
    title: 'Configuration not yet applied',
    description: 'Devices still applying their desired configuration (config.ac 202), with the desired version they acknowledged (av).',
    kind: 'devices',
    query: `SELECT deviceId, ${R}.config.ac AS ac, ${R}.config.av AS av FROM devices ` +
      `WHERE ${R}.config.ac = 202`
  },
  {
    name: 'devices-in-error',
    title: 'Devices in error',
    description: 'Devices with a failed firmware update or a rejected configuration.',
    kind: 'devices',
    query: `SELECT deviceId, ${R}.firmware.status AS firmwareStatus, ${R}.firmware.error AS firmwareError, ${R}.config.ac AS configAc, ` +
      `${R}.config.ad AS configError FROM devices WHERE ${R}.firmware.status = 'failed' OR ${R}.config.ac >= 400`
  },
  {
    name: 'connection-state',
    title: 'Connected devices',
    description: 'Devices per connectionState (Connected, Disconnected).',
    kind: 'groups',
    query: 'SELECT connectionState, COUNT() AS devices FROM devices GROUP BY connectionState'
  }
]
