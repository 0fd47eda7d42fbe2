// Who still needs a library image: devices installing it, active jobs whose firmwareUpdate
// method (or desired `firmware` patch) names it, and queued commands that will send it.
// The UI refuses to delete an image while this list is not empty.
import type { CommandService } from '../commands/types.js'
import { ACTIVE_JOB, type JobService } from '../jobs/types.js'
import type { JsonValue } from '../types.js'
import type { FirmwareLibrary } from './types.js'

export interface FirmwareUsers { devices: string[]; jobs: string[]; commands: string[] }

const names = (v: JsonValue | undefined, name: string, version: string): boolean =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && v['name'] === name && v['version'] === version

export function firmwareUsers (deps: { firmware: FirmwareLibrary; jobs: JobService; commands: CommandService }, name: string, version: string): FirmwareUsers {
  const jobs: string[] = []
  for (const status of ACTIVE_JOB) {
    for (const j of deps.jobs.query({ jobStatus: status, pageSize: 1000 }).items) {
      const m = j.cloudToDeviceMethod
      const desired = j.updateTwin?.properties?.desired as Record<string, JsonValue> | undefined
      if ((m?.methodName === 'firmwareUpdate' && names(m.payload, name, version)) || names(desired?.['firmware'], name, version)) jobs.push(j.jobId)
    }
  }
  const commands = deps.commands.list({ status: ['queued', 'in_progress'], top: 1000 })
    .filter((c) => c.methodName === 'firmwareUpdate' && names(c.payload, name, version))
    .map((c) => c.commandId)
  return { devices: deps.firmware.inUseBy(name, version), jobs, commands }
}

/** "pump-fw 2.0.0 is still needed by: device d1 installing it; job j1; queued command c1" or null. */
export function describeUsers (u: FirmwareUsers): string | null {
  const parts: string[] = []
  const few = (xs: string[]): string => xs.slice(0, 5).join(', ') + (xs.length > 5 ? `, and ${xs.length - 5} more` : '')
  if (u.devices.length > 0) parts.push(`${u.devices.length === 1 ? 'device' : `${u.devices.length} devices`} installing it (${few(u.devices)})`)
  if (u.jobs.length > 0) parts.push(`${u.jobs.length === 1 ? 'job' : `${u.jobs.length} jobs`} ${few(u.jobs)}`)
  if (u.commands.length > 0) parts.push(`${u.commands.length === 1 ? 'queued command' : `${u.commands.length} queued commands`} ${few(u.commands)}`)
  return parts.length === 0 ? null : parts.join('; ')
}
