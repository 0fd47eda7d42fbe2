// Text output: aligned tables and "label: value" blocks.
import type { DeviceDocument, SharedAccessPolicy } from '../hub/types.js'

export function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

const NEVER = '0001-01-01T00:00:00'
const time = (iso: string | undefined): string => (iso === undefined || iso.startsWith(NEVER) ? 'never' : iso)

export function deviceTable (devices: DeviceDocument[]): string {
  if (devices.length === 0) return 'No devices.'
  return table(
    ['DEVICE ID', 'STATUS', 'AUTH', 'CONNECTION', 'EDGE', 'LAST ACTIVITY'],
    devices.map((d) => [
      d.moduleId === undefined ? d.deviceId : `${d.deviceId}/${d.moduleId}`,
      d.status, d.authentication.type, d.connectionState, d.capabilities.iotEdge ? 'yes' : 'no', time(d.lastActivityTime)
    ])
  )
}

export function deviceDetails (d: DeviceDocument): string {
  const { symmetricKey, x509Thumbprint } = d.authentication
  const rows: Array<[string, string | null | undefined]> = [
    ['Device ID', d.deviceId],
    ['Module ID', d.moduleId],
    ['Status', d.statusReason ? `${d.status} (${d.statusReason})` : d.status],
    ['Status updated', time(d.statusUpdatedTime)],
    ['Connection', `${d.connectionState} (since ${time(d.connectionStateUpdatedTime)})`],
    ['Last activity', time(d.lastActivityTime)],
    ['Authentication', d.authentication.type],
    ['Primary key', symmetricKey.primaryKey],
    ['Secondary key', symmetricKey.secondaryKey],
    ['Primary thumbprint', x509Thumbprint.primaryThumbprint],
    ['Secondary thumbprint', x509Thumbprint.secondaryThumbprint],
    ['IoT Edge', d.capabilities.iotEdge ? 'yes' : 'no'],
    ['C2D messages queued', String(d.cloudToDeviceMessageCount)],
    ['Generation ID', d.generationId],
    ['ETag', d.etag]
  ]
  const shown = rows.filter((r): r is [string, string] => r[1] !== null && r[1] !== undefined && r[1] !== '')
  const width = Math.max(...shown.map(([l]) => l.length)) + 2
  return shown.map(([l, v]) => `${`${l}:`.padEnd(width)}${v}`).join('\n')
}

export function policyTable (policies: SharedAccessPolicy[]): string {
  if (policies.length === 0) return 'No shared access policies.'
  return table(['NAME', 'RIGHTS'], policies.map((p) => [p.keyName, p.rights.join(', ')]))
}
