// The sync half of the UI contract (issue 7, docs/sync.md "In the UI"): the link, the per-device
// table, conflicts and their resolution, the upstream settings. Spread into methods.ts.
import type { JsonValue } from './model.js'
import {
  SYNC_DEVICE_STATES, type SyncConflictView, type SyncDevicesPage, type SyncResolvedConflictView, type SyncResolution, type SyncSettingsView, type SyncStatusView, type SyncTestResult
} from './sync.js'
import { bool, int, jsonObject, none, object, oneOf, optional, str, type Validator } from './validate.js'

const DEVICE_ID = /^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/
const deviceId = str({ pattern: DEVICE_ID, patternHint: "must be 1-128 letters, digits or - . + % _ # * ? ! ( ) , : = @ $ '" })

/** 'cloud' | 'local' | {fields: {path: 'cloud' | 'local' | {value}}} (sync.ts SyncResolution). */
const syncResolution: Validator<SyncResolution> = (v, p = 'resolution') => {
  if (v === 'cloud' || v === 'local') return { ok: true, value: v }
  const o = object({ fields: jsonObject })(v, p)
  if (!o.ok) return { ok: false, message: `${p} must be 'cloud', 'local' or {fields: {path: 'cloud' | 'local' | {value}}}` }
  const fields = o.value.fields
  if (Object.keys(fields).length === 0) return { ok: false, message: `${p}.fields must choose at least one field` }
  for (const [k, c] of Object.entries(fields)) {
    if (c === 'cloud' || c === 'local') continue
    const ok = c !== null && typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length === 1 && Object.hasOwn(c, 'value')
    if (!ok) return { ok: false, message: `${p}.fields.${k} must be 'cloud', 'local' or {value}` }
  }
  return { ok: true, value: { fields: fields as Extract<SyncResolution, { fields: unknown }>['fields'] } }
}
/** Upstream settings as the UI writes them; the connection string is write-only (never read back). */
const syncSettingsShape = {
  /** Service connection string of the cloud hub; omitted = keep the stored one. */
  connectionString: optional(str({ min: 1, max: 4096 })),
  /** PEM of the CA that signed the cloud's certificate; '' = trust the system CAs; omitted = keep. */
  ca: optional(str({ max: 65_536 })),
  edgeDeviceId: optional(deviceId)
}

export const syncMethodInputs = {
  'sync.status': none,
  'sync.devices': optional(object({
    offset: optional(int({ min: 0 })),
    limit: optional(int({ min: 1, max: 20_000 })),
    state: optional(oneOf(SYNC_DEVICE_STATES)),
    /** Substring of the device id (case-insensitive). */
    search: optional(str({ max: 128 }))
  })),
  'sync.conflicts': optional(object({ deviceId: optional(deviceId) })),
  'sync.resolve': object({ id: str({ min: 1, max: 300 }), resolution: syncResolution }),
  'sync.settings.get': none,
  /** Conflicts that ended (newest first, the last 200): who decided what, and when. */
  'sync.conflicts.resolved': optional(object({ deviceId: optional(deviceId) })),
  /**
   * Saves the upstream (the link restarts with it; an empty input reconnects with the stored one),
   * and/or the default conflict policy; `enabled: false` turns sync off and forgets the upstream.
   */
  'sync.settings.set': object({
    ...syncSettingsShape,
    enabled: optional(bool),
    conflictPolicy: optional(object({ mode: oneOf(['manual', 'cloud-wins', 'local-wins'] as const), afterMinutes: int({ min: 0, max: 525_600 }) }))
  }),
  /** Tries the given (or stored) upstream once: reach, TLS trust, the policy's rights. Changes nothing. */
  'sync.settings.test': optional(object(syncSettingsShape))
} as const satisfies Record<string, Validator<unknown>>

export interface SyncMethodOutputs {
  'sync.status': SyncStatusView
  'sync.devices': SyncDevicesPage
  'sync.conflicts': SyncConflictView[]
  'sync.conflicts.resolved': SyncResolvedConflictView[]
  'sync.resolve': { id: string; by: string; applied: Record<string, JsonValue> }
  'sync.settings.get': SyncSettingsView
  'sync.settings.set': SyncSettingsView
  'sync.settings.test': SyncTestResult
}
