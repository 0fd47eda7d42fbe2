// What the audit log keeps of a call: its target, its input with secrets redacted, and the
// relevant state before and after it. Core changes get a state snapshot taken the same way
// before and after (so the Audit screen can diff them); anything else records its input and
// a summary of its result. Keys, passwords and connection strings are never stored: a
// device's keys appear as short SHA-256 fingerprints, so a regeneration shows as a change.
import { createHash } from 'node:crypto'
import type { AuditEntry, JsonObject, JsonValue, MethodName } from '../../../../shared/contract/index.js'
import type { AccountService } from '../../accounts/index.js'
import type { Hub } from '../../services.js'
import type { Identity } from '../../types.js'
import { ackState } from './alert-acks.js'

const REDACTED = '(redacted)'

function secretKey (k: string): boolean {
  const l = k.toLowerCase()
  return l.includes('password') || l.includes('secret') || l.includes('token') || l.includes('signature') ||
    l.includes('connectionstring') || l.includes('sharedaccess') || l === 'key' || l.endsWith('key') || l.endsWith('keys')
}
const secretText = (s: string): boolean => /SharedAccessKey=|SharedAccessSignature\s|sig=[A-Za-z0-9%]/i.test(s)

/** A deep copy with secret-looking fields and strings replaced. */
export function redact (v: unknown, depth = 0): JsonValue {
  if (v === undefined) return null
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v
  if (typeof v === 'string') return secretText(v) ? REDACTED : v
  if (depth > 20) return '(too deep)'
  if (Array.isArray(v)) return v.map(x => redact(x, depth + 1))
  if (typeof v === 'object') {
    const out: JsonObject = {}
    // a secret-named text or list is hidden; a flag or a count (withKeys, includeKeys: true) is not a secret, an object is looked into
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = secretKey(k) && (typeof x === 'string' || Array.isArray(x)) ? REDACTED : redact(x, depth + 1)
    return out
  }
  return String(v)
}

export function targetOf (method: string, input: unknown): AuditEntry['target'] {
  const rec = input !== null && typeof input === 'object' ? input as Record<string, unknown> : {}
  const s = (k: string): string | undefined => (typeof rec[k] === 'string' ? rec[k] : undefined)
  if (s('deviceId') !== undefined) return { kind: 'device', id: s('deviceId') as string }
  if (s('jobId') !== undefined) return { kind: 'job', id: s('jobId') as string }
  if (method.startsWith('configurations.') && s('id') !== undefined) return { kind: 'configuration', id: s('id') as string }
  if ((method.startsWith('accounts.') || method.startsWith('auth.')) && s('name') !== undefined) return { kind: 'account', id: (s('name') as string).toLowerCase() }
  return null
}

const fingerprint = (key: string | null | undefined): string | null =>
  key === null || key === undefined ? null : `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`

/** The parts of `doc` that `patch` addresses (a patch's shape, with the document's values). */
export function project (doc: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return doc === undefined ? null : doc
  if (doc === null || doc === undefined || typeof doc !== 'object' || Array.isArray(doc)) return doc === undefined ? null : doc
  const out: JsonObject = {}
  for (const k of Object.keys(patch)) {
    const d = (doc)[k]
    out[k] = d === undefined ? null : project(d, (patch)[k] as JsonValue)
  }
  return out
}

type State = (hub: Hub, input: Record<string, unknown>) => JsonValue
const devId = (input: Record<string, unknown>): { deviceId: string } => ({ deviceId: String(input['deviceId']) })

/** A device's (or module's) status, tags and desired properties; null when it does not exist. */
export function identityState (hub: Hub, identity: Identity): JsonValue {
  const d = hub.registry.get(identity)
  if (d === undefined) return null
  const t = hub.twins.get(identity)
  return redact({ status: d.status, statusReason: d.statusReason ?? null, tags: t.tags ?? {}, desired: t.properties.desired })
}
const deviceState = (hub: Hub, input: Record<string, unknown>): JsonValue => identityState(hub, devId(input))

/** A configuration's definition; null when it does not exist. */
export function configurationState (hub: Hub, id: string): JsonValue {
  const c = hub.configurations.get(id)
  return c === undefined ? null : redact({ targetCondition: c.targetCondition, priority: c.priority, content: c.content, metrics: c.metrics })
}

/** Snapshots taken before and after the core changes. */
const STATE: Partial<Record<MethodName, State>> = {
  'devices.create': deviceState,
  'devices.remove': deviceState,
  'devices.setStatus': (hub, input) => {
    const d = hub.registry.get(devId(input))
    return d === undefined ? null : { status: d.status, statusReason: d.statusReason ?? null }
  },
  'devices.regenerateKey': (hub, input) => {
    const d = hub.registry.get(devId(input))
    const k = d?.authentication.symmetricKey
    return k === undefined ? null : { keyFingerprints: { primary: fingerprint(k.primaryKey), secondary: fingerprint(k.secondaryKey) } }
  },
  'twins.patchDesired': (hub, input) => {
    if (hub.registry.get(devId(input)) === undefined) return null
    const t = hub.twins.get(devId(input))
    return redact({ desired: project(t.properties.desired as JsonValue, input['patch'] as JsonValue), version: t.properties.desired['$version'] ?? null })
  },
  'twins.patchTags': (hub, input) => {
    if (hub.registry.get(devId(input)) === undefined) return null
    const t = hub.twins.get(devId(input))
    return redact({ tags: project((t.tags ?? {}) as JsonValue, input['patch'] as JsonValue), etag: t.etag })
  },
  /** Each device's value at the tag path (null: no such tag), before and after a bulk tag. */
  'devices.tag': (hub, input) => {
    const ids = Array.isArray(input['deviceIds']) ? input['deviceIds'].map(String) : []
    const shape = String(input['tag']).split('.').reduceRight<JsonValue>((inner, name) => ({ [name]: inner }), null)
    const out: JsonObject = {}
    for (const id of new Set(ids)) {
      if (hub.registry.get({ deviceId: id }) === undefined) { out[id] = null; continue }
      out[id] = project((hub.twins.get({ deviceId: id }).tags ?? {}) as JsonValue, shape)
    }
    return redact({ tag: String(input['tag']), devices: out })
  },
  'alerts.acknowledge': (hub, input) => ackState(hub, String(input['id'])),
  'configurations.create': (hub, input) => configurationState(hub, String(input['id'])),
  'configurations.remove': (hub, input) => configurationState(hub, String(input['id'])),
  'configurations.update': (hub, input) => {
    const c = hub.configurations.get(String(input['id']))
    return c === undefined ? null : redact({ targetCondition: c.targetCondition, priority: c.priority, labels: c.labels, metrics: c.metrics.queries, etag: c.etag })
  },
  'serial.update': (hub, input) => redact(hub.serial.get(String(input['name'])) ?? null),
  'serial.remove': (hub, input) => redact(hub.serial.get(String(input['name'])) ?? null),
  'firmware.remove': (hub, input) => redact(hub.firmware.get(String(input['name']), String(input['version'])) ?? null),
  'settings.update': (hub) => redact(hub.settings.get()),
  'jobs.cancel': (hub, input) => {
    try {
      const j = hub.jobs.get(String(input['jobId']))
      return { status: j.status }
    } catch { return null }
  }
}

export interface Capture {
  before: JsonValue
  /** After the call: its result (ok) or null (failed). */
  after(ok: boolean, result: unknown): JsonValue
}

/** Result fields worth keeping when there is no state snapshot. */
function summarize (method: MethodName, result: unknown): JsonValue {
  if (method === 'methods.invoke' || method === 'devices.firmwareUpdate') {
    const r = result as { status?: unknown; payload?: unknown } | null
    return redact({ status: r?.status ?? null, payload: r?.payload ?? null })
  }
  if (method === 'jobs.create') {
    const j = result as Record<string, unknown> | null
    return redact({ jobId: j?.['jobId'] ?? null, type: j?.['type'] ?? null, status: j?.['status'] ?? null, queryCondition: j?.['queryCondition'] ?? null })
  }
  if (method === 'devices.export') {
    // never the file itself: it may hold every device's keys
    const f = result as { fileName?: unknown; devices?: unknown; withKeys?: unknown } | null
    return { fileName: (f?.fileName ?? null) as JsonValue, devices: (f?.devices ?? null) as JsonValue, withKeys: (f?.withKeys ?? null) as JsonValue }
  }
  if (method === 'devices.import') {
    const rows = Array.isArray(result) ? result as Array<{ deviceId: string; ok: boolean }> : []
    return { added: rows.filter(r => r.ok).map(r => r.deviceId), refused: rows.filter(r => !r.ok).map(r => r.deviceId) }
  }
  if (method === 'auth.setup' || method === 'auth.signIn') {
    const s = result as { name?: string; role?: string } | null
    return { name: s?.name ?? null, role: s?.role ?? null }
  }
  return shortStrings(redact(result))
}

/** A result's long texts (files, documents) as their size: they are not state, and may hold secrets in forms no rule knows. */
function shortStrings (v: JsonValue): JsonValue {
  if (typeof v === 'string') return v.length > 512 ? `(text, ${v.length} characters)` : v
  if (Array.isArray(v)) return v.map(shortStrings)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shortStrings(x)]))
  return v
}

/** Starts capturing a call; `after` is called once it is done. `self`: the caller's account name. */
export function capture (hub: Hub, accounts: AccountService, method: MethodName, input: unknown, self: string | undefined): Capture {
  const rec = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>
  const state = STATE[method]
  if (method.startsWith('accounts.') && method !== 'accounts.list') {
    const name = method === 'accounts.changeOwnPassword' ? self : typeof rec['name'] === 'string' ? rec['name'] : undefined
    const account = (): JsonValue => {
      const a = name === undefined ? undefined : accounts.get(name)
      return a === undefined ? null : { name: a.name, role: a.role, passwordChangedAt: a.passwordChangedAt }
    }
    const before = account()
    return { before, after: () => account() }
  }
  if (state === undefined) return { before: null, after: (ok, result) => (ok ? summarize(method, result) : null) }
  const before = state(hub, rec)
  return { before, after: () => state(hub, rec) }
}
