// Who may call what: every contract method's access level (compile-time complete: a new method
// without an entry does not build). The UI server and IPC check it in `createUiApi().handle`;
// the renderer uses it to hide or disable what the signed-in role cannot do.
import type { Access } from './auth.js'
import type { MethodName } from './methods.js'

export const ACCESS: Record<MethodName, Access> = {
  'hub.status': 'read',
  'fleet.summary': 'read',
  'devices.list': 'read',
  'devices.get': 'read',
  // The device registry is the admin's: identities and their keys.
  'devices.create': 'admin',
  'devices.remove': 'admin',
  'devices.regenerateKey': 'admin',
  // Operating devices on the floor.
  'devices.setStatus': 'operate',
  /** Shows the device's key: audited, and not for read-only accounts. */
  'devices.connectionString': 'operate',
  'twins.get': 'read',
  'twins.patchDesired': 'operate',
  'twins.patchTags': 'operate',
  'methods.invoke': 'operate',
  'devices.firmwareUpdate': 'operate',
  'telemetry.history': 'read',
  'query.run': 'read',
  'jobs.list': 'read',
  'jobs.get': 'read',
  'jobs.devices': 'read',
  'jobs.create': 'operate',
  'jobs.cancel': 'operate',
  'firmware.list': 'read',
  // Automatic configurations are fleet policy.
  'configurations.list': 'read',
  'configurations.create': 'admin',
  'configurations.remove': 'admin',
  /** Target, priority, labels and metrics of an existing configuration (content is immutable). */
  'configurations.update': 'admin',
  /** A file of devices, with keys only when asked: like showing connection strings, not for read-only accounts; audited. */
  'devices.export': 'operate',
  /** Creates identities (optionally with given keys), as devices.create. */
  'devices.import': 'admin',
  // Devices screen tools: saved views are shared by the site, tags are operating data.
  'views.list': 'read',
  'views.save': 'operate',
  'views.rename': 'operate',
  'views.remove': 'operate',
  'devices.tag': 'operate',
  // The offline command queue (docs/commands.md) and streamed telemetry.
  'commands.list': 'read',
  'commands.enqueue': 'operate',
  'commands.cancel': 'operate',
  'telemetry.since': 'read',
  'auth.status': 'public',
  'auth.setup': 'public',
  'auth.signIn': 'public',
  'auth.signOut': 'public',
  'accounts.list': 'admin',
  'accounts.create': 'admin',
  'accounts.remove': 'admin',
  'accounts.setRole': 'admin',
  'accounts.resetPassword': 'admin',
  /** Any signed-in account, for itself (audited as a change). */
  'accounts.changeOwnPassword': 'read',
  'audit.list': 'read',
  // Upstream sync (issue 7): resolving a conflict is an approval; the upstream is the admin's.
  'sync.status': 'read',
  'sync.devices': 'read',
  'sync.conflicts': 'read',
  'sync.conflicts.resolved': 'read',
  'sync.settings.get': 'read',
  'sync.resolve': 'approve',
  'sync.settings.set': 'admin',
  /** Probes an upstream (the one typed in, or the stored one); changes nothing. */
  'sync.settings.test': 'admin',
  // Serial ports: wiring devices on site is the technician's job.
  'serial.list': 'read',
  'serial.machinePorts': 'read',
  'serial.profiles': 'read',
  'serial.add': 'operate',
  'serial.update': 'operate',
  'serial.remove': 'operate',
  // Firmware library: technicians upload images (and delete their own mistakes; in-use images are refused).
  'firmware.uploadBegin': 'operate',
  'firmware.uploadChunk': 'operate',
  'firmware.uploadFinish': 'operate',
  'firmware.uploadAbort': 'operate',
  'firmware.remove': 'operate',
  // Hub settings (alert thresholds, store quota, theme) are the admin's.
  'settings.get': 'read',
  'settings.update': 'admin',
  // Approvals: supervisors (and admins) acknowledge alerts.
  'alerts.acknowledge': 'approve'
}

/** Read-level calls that still change something (so they are audited). */
const AUDITED_READS = new Set<MethodName>(['accounts.changeOwnPassword'])
/**
 * Calls above 'read' that change nothing (so they are not audited): add a method here when
 * it only reads but needs a higher level (a secret, an admin-only list).
 */
export const UNAUDITED: ReadonlySet<MethodName> = new Set<MethodName>(['auth.status', 'devices.connectionString', 'accounts.list',
  // an upload is audited once, when it is finished and stored (uploadFinish), not per chunk
  'firmware.uploadBegin', 'firmware.uploadChunk', 'firmware.uploadAbort',
  // a connection test of the upstream changes nothing
  'sync.settings.test'])

/** Whether an accepted call goes into the audit log: every call that changes something. */
export function isAudited (method: MethodName): boolean {
  if (ACCESS[method] === 'read') return AUDITED_READS.has(method)
  return !UNAUDITED.has(method)
}
