// Pure helpers of the sync screens: the three-way field table of a conflict, the resolution
// a set of per-field choices amounts to, registry conflicts in words, and the backlog drain
// (progress, rate, time left). No React, no DOM: unit-tested in test/ui/sync-lib.test.ts.
import type {
  JsonValue, SyncChange, SyncConflictView, SyncFieldChoice, SyncLinkState, SyncResolution
} from '../../../shared/contract/index'

export interface FieldRow {
  path: string
  /** undefined = the field is absent on that side (deleted, or never set). */
  base: JsonValue | undefined
  local: JsonValue | undefined
  cloud: JsonValue | undefined
  localChange: SyncChange
  cloudChange: SyncChange
}

/** Walks a dotted path; a literal key containing dots wins (conflicts may key by full path or nest). */
export function valueAt (o: JsonValue | null | undefined, path: string): JsonValue | undefined {
  if (o === null || o === undefined || typeof o !== 'object' || Array.isArray(o)) return undefined
  if (Object.hasOwn(o, path)) return o[path]
  const dot = path.indexOf('.')
  if (dot < 0) return undefined
  return valueAt(o[path.slice(0, dot)], path.slice(dot + 1))
}

const NONE: SyncChange = { at: null, by: null }

/** One row per conflicting field: path | base | site | cloud, with who/when per side where known. */
export function conflictRows (c: SyncConflictView): FieldRow[] {
  return c.fields.map(path => ({
    path,
    base: valueAt(c.base, path),
    local: valueAt(c.local, path),
    cloud: valueAt(c.cloud, path),
    localChange: c.changes[path]?.local ?? NONE,
    cloudChange: c.changes[path]?.cloud ?? NONE
  }))
}

/** A value as the table shows it: JSON, or "(not set)" for an absent field. */
export function showValue (v: JsonValue | undefined): string {
  return v === undefined ? '(not set)' : JSON.stringify(v)
}

export function sameChoice (a: SyncFieldChoice | undefined, b: SyncFieldChoice | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  if (typeof a === 'string' || typeof b === 'string') return a === b
  return JSON.stringify(a.value) === JSON.stringify(b.value)
}

/**
 * What per-field choices amount to: 'cloud' / 'local' when every field keeps the same side,
 * else the per-field form; undefined while a field has no choice.
 */
export function resolutionOf (c: SyncConflictView, choices: Record<string, SyncFieldChoice | undefined>): SyncResolution | undefined {
  const picked: Record<string, SyncFieldChoice> = {}
  for (const f of c.fields) {
    const ch = choices[f]
    if (ch === undefined) return undefined
    picked[f] = ch
  }
  const sides = new Set(Object.values(picked).map(v => (typeof v === 'string' ? v : 'value')))
  if (sides.size === 1 && sides.has('cloud')) return 'cloud'
  if (sides.size === 1 && sides.has('local')) return 'local'
  return { fields: picked }
}

/** Parses an edited value: JSON when it parses, else the text itself (a string). */
export function parseEdited (text: string): JsonValue {
  const t = text.trim()
  if (t === '') return ''
  try { return JSON.parse(t) as JsonValue } catch { return text }
}

const FIELD_WORDS: Record<string, string> = {
  'authentication.symmetricKey.primaryKey': 'primary key',
  'authentication.symmetricKey.secondaryKey': 'secondary key',
  status: 'status (enabled/disabled)',
  deviceScope: 'parent edge (device scope)'
}

/** A field as the three-way table names it: identity fields in words, twin paths as they are. */
export function fieldLabel (kind: SyncConflictView['kind'], path: string): string {
  if (kind !== 'registry' && kind !== 'localDeleted') return path
  const w = FIELD_WORDS[path]
  if (w === undefined) return path
  return path.startsWith('authentication.') ? `${w} (fingerprint)` : w
}

export interface ConflictWords {
  title: string
  detail: string
  keepCloud: string
  keepLocal: string
}

/** A conflict in plain words, with what each choice will do. */
export function conflictWords (c: SyncConflictView): ConflictWords {
  const id = c.deviceId
  if (c.kind === 'localDeleted') {
    return {
      title: `${id} was deleted here at the site, but still exists in the cloud`,
      detail: 'It was mirrored before, so the deletion is not passed on silently.',
      keepCloud: `Bring ${id} back at the site with the cloud's keys`,
      keepLocal: `Delete ${id} in the cloud too`
    }
  }
  if (c.kind === 'registry' && c.fields.includes('deleted upstream')) {
    return {
      title: `${id} was deleted in the cloud, but still exists here at the site`,
      detail: 'It was mirrored before, so the deletion is not passed on silently. Until you decide, the device is not mirrored.',
      keepCloud: `Delete ${id} here at the site too (its devices lose their connection)`,
      keepLocal: `Create ${id} again in the cloud with the site's keys`
    }
  }
  if (c.kind === 'registry') {
    const what = c.fields.map(f => FIELD_WORDS[f] ?? f)
    const scope = c.fields.includes('deviceScope')
    return {
      title: scope ? `${id} belongs to another edge in the cloud` : `${id} has a different ${what.join(' and ')} in the cloud than here at the site`,
      detail: scope
        ? `The cloud's ${id} has parent scope ${showValue(valueAt(c.cloud, 'deviceScope'))}: another site may use the same device id. Until you decide, the device is not mirrored.`
        : 'Both sides changed it since they last agreed (keys are compared by fingerprint, never shown). Until you decide, the device is not mirrored.',
      keepCloud: scope ? `Take over the cloud's ${id} here (its keys replace the site's)` : `Use the cloud's ${what.join(' and ')} here (devices using the site's key need the new connection string)`,
      keepLocal: scope ? `Write the site's ${id} over the cloud's` : `Write the site's ${what.join(' and ')} to the cloud`
    }
  }
  const section = c.kind === 'desired' ? 'desired properties' : 'tags'
  const n = c.fields.length
  return {
    title: `${id}: ${n} ${section === 'tags' ? (n === 1 ? 'tag' : 'tags') : (n === 1 ? 'desired property' : 'desired properties')} changed on both sides`,
    detail: `The site and the cloud both changed ${c.fields.join(', ')} since they last agreed. The other ${section} still sync; these keep their last agreed value until you choose.`,
    keepCloud: "Keep all cloud's values",
    keepLocal: "Keep all site's values"
  }
}

export interface Drain {
  /** Most telemetry messages waiting during this backlog (the bar's 100 %). */
  peak: number
  pending: number
  /** Recent samples (ms since epoch, pending) for the rate. */
  samples: Array<[number, number]>
}

/** Follows the telemetry backlog: undefined when nothing waits; the peak only grows while it lasts. */
export function nextDrain (prev: Drain | undefined, pending: number, now: number): Drain | undefined {
  if (pending <= 0) return undefined
  const samples = [...(prev?.samples ?? []), [now, pending] as [number, number]].slice(-10)
  return { peak: Math.max(prev?.peak ?? 0, pending), pending, samples }
}

export interface DrainView {
  /** 0..1: sent of the peak. */
  done: number
  /** Messages per second leaving the queue over the recent samples; null when not draining. */
  rate: number | null
  /** Seconds left at that rate; null when unknown. */
  secondsLeft: number | null
}

export function drainView (d: Drain, state: SyncLinkState): DrainView {
  const done = d.peak === 0 ? 0 : (d.peak - d.pending) / d.peak
  const first = d.samples[0]
  const last = d.samples[d.samples.length - 1]
  let rate: number | null = null
  if (state === 'online' && first !== undefined && last !== undefined && last[0] > first[0] && first[1] > last[1]) {
    rate = (first[1] - last[1]) / ((last[0] - first[0]) / 1000)
  }
  return { done, rate, secondsLeft: rate === null || rate <= 0 ? null : Math.ceil(d.pending / rate) }
}

/** "3 h 12 min", "4 min 5 s", "12 s": a backlog's age or a time left. */
export function duration (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`
}

/** Who changed or decided something, in words: `ui:sam` -> "sam (in the UI)". */
export function whoWords (by: string | null): string | null {
  if (by === null || by === '') return null
  const [kind = '', ...rest] = by.split(':')
  const name = rest.join(':')
  switch (kind) {
    case 'ui': return name === '' ? 'someone in the UI' : `${name} (in the UI)`
    case 'rest': return `the REST API${name === '' ? '' : ` (policy ${name})`}`
    case 'job': return `job ${name}`
    case 'configuration': return `configuration ${name}`
    case 'device': return 'the device'
    case 'cloud': return 'the cloud'
    case 'policy': return 'the default policy'
    case 'hub': return 'the hub'
    default: return by
  }
}

export const POLICY_WORDS = { manual: 'Wait for a person', 'cloud-wins': "Keep the cloud's values", 'local-wins': "Keep the site's values" } as const

export const LINK_WORDS: Record<SyncLinkState, string> = {
  online: 'Online',
  degraded: 'Degraded (a heartbeat failed)',
  connecting: 'Connecting…',
  offline: 'Offline'
}

export const STATE_WORDS = { inSync: 'In sync', pending: 'Changes pending', conflict: 'In conflict', notMirrored: 'Not mirrored' } as const
