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
  'sync.settings.test': 'admin'
}

/** Read-level calls that still change something (so they are audited). */
const AUDITED_READS = new Set<MethodName>(['accounts.changeOwnPassword'])
/**
 * Calls above 'read' that change nothing (so they are not audited): add a method here when
 * it only reads but needs a higher level (a secret, an admin-only list).
 */
export const UNAUDITED: ReadonlySet<MethodName> = new Set<MethodName>(['auth.status', 'devices.connectionString', 'accounts.list', 'sync.settings.test'])

/** Whether an accepted call goes into the audit log: every call that changes something. */
export function isAudited (method: MethodName): boolean {
  if (ACCESS[method] === 'read') return AUDITED_READS.has(method)
  return !UNAUDITED.has(method)
}
