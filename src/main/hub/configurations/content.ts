// Pure configuration logic: validating a configuration body (C.7), turning content into
// desired paths, resolving priority per path (F) and computing a twin's next desired state.
import { HubError, argumentInvalid } from '../errors.js'
import { compileCondition } from '../query/engine.js'
import { parseCondition, parseQuery } from '../query/parse.js'
import { cloneJson, isJsonObject, jsonEqual, own, setOwn } from '../twins/json.js'
import { checkSection, checkSize, keyProblem } from '../twins/limits.js'
import { diffPatch } from '../twins/merge-patch.js'
import type { JsonObject, JsonValue } from '../types.js'
import type { ConfigurationContent, StoredConfiguration } from './types.js'

export const MAX_METRICS = 5
// [C.7] <= 128 chars, lower-case, no spaces or & ^ [ ] { } \ | " < > /
const ID_RE = /^[a-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/
const DESIRED = 'properties.desired'

export function validateConfigurationId (id: unknown): HubError | undefined {
  if (typeof id !== 'string' || id === '') return argumentInvalid('A configuration id is required.')
  if (!ID_RE.test(id)) {
    return argumentInvalid(`The configuration id '${id.slice(0, 140)}' is not valid: use at most 128 lower-case letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ ' (no spaces, no upper case).`)
  }
  return undefined
}

/** A desired path as segments below `properties.desired`, with its value. */
export interface ContentPath { path: string[]; value: JsonValue }

export type ContentKind = 'deviceContent' | 'moduleContent' | 'modulesContent'

/** Drops absent/null/empty content kinds, so an update resending `{deviceContent, moduleContent: {}}` compares equal. */
export function normalizeContent (content: ConfigurationContent): ConfigurationContent {
  const out: ConfigurationContent = {}
  for (const k of ['deviceContent', 'moduleContent', 'modulesContent'] as const) {
    const v = content[k]
    if (v !== undefined && v !== null && !(isJsonObject(v) && Object.keys(v).length === 0)) out[k] = v
  }
  return out
}

export function contentKind (content: ConfigurationContent): ContentKind | undefined {
  const nonEmpty = Object.keys(normalizeContent(content))[0] as ContentKind | undefined
  if (nonEmpty !== undefined) return nonEmpty
  if (content.deviceContent !== undefined) return 'deviceContent'
  if (content.moduleContent !== undefined) return 'moduleContent'
  if (content.modulesContent !== undefined) return 'modulesContent'
  return undefined
}

const contentError = (msg: string): HubError => new HubError('InvalidConfigurationContent', msg)

/**
 * The paths a device/module content writes (F): `properties.desired.a.b` -> [a, b];
 * `properties.desired` with an object -> one path per top-level key. Throws 400402.
 */
export function contentPaths (section: Record<string, JsonValue>): ContentPath[] {
  const out: ContentPath[] = []
  for (const [key, value] of Object.entries(section)) {
    if (key === DESIRED) {
      if (!isJsonObject(value)) throw contentError(`'${DESIRED}' must map to a JSON object of desired properties.`)
      for (const [k, v] of Object.entries(value)) out.push({ path: [k], value: v })
    } else if (key.startsWith(DESIRED + '.')) {
      out.push({ path: key.slice(DESIRED.length + 1).split('.'), value })
    } else {
      throw contentError(`Content path '${key}' is not supported: device and module content can only set '${DESIRED}' or '${DESIRED}.<path>'.`)
    }
  }
  for (const { path } of out) {
    for (const seg of path) {
      const problem = keyProblem(seg)
      if (problem !== undefined) throw contentError(`Content path '${DESIRED}.${path.join('.')}': the key '${seg}' ${problem}.`)
    }
  }
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      if (overlaps((out[i] as ContentPath).path, (out[j] as ContentPath).path)) {
        throw contentError(`Content paths '${(out[i] as ContentPath).path.join('.')}' and '${(out[j] as ContentPath).path.join('.')}' overlap; a configuration sets each property once.`)
      }
    }
  }
  // The values must be valid desired properties (B.4): check them as one desired section.
  const asDesired: JsonObject = {}
  for (const { path, value } of out) if (value !== null) setAt(asDesired, path, cloneJson(value))
  const err = checkSection('desired', asDesired) ?? checkSize('desired', asDesired)
  if (err) throw contentError(`Invalid content: ${err.message}`)
  return out
}

/** One is a prefix of (or equal to) the other. */
export function overlaps (a: string[], b: string[]): boolean {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Validates the `content` of a new configuration. Returns it without null kinds (empty ones
 * are kept: they still say whether device or module twins are meant). Throws 400402.
 */
export function validateContent (content: unknown): ConfigurationContent {
  if (!isJsonObject(content)) throw contentError('content must be a JSON object with deviceContent, moduleContent or modulesContent.')
  const out: ConfigurationContent = {}
  for (const [k, v] of Object.entries(content)) {
    if (!['deviceContent', 'moduleContent', 'modulesContent'].includes(k)) throw contentError(`Unknown content kind '${k}'.`)
    if (v === null) continue
    if (!isJsonObject(v)) throw contentError(`content.${k} must be a JSON object.`)
    if (k !== 'modulesContent') contentPaths(v)
    out[k as ContentKind] = v
  }
  if (Object.keys(normalizeContent(out)).length > 1) throw contentError('A configuration has one kind of content: deviceContent, moduleContent or modulesContent.')
  return out
}

/** Validates a target condition for a content kind. Throws 400401. */
export function validateTargetCondition (text: unknown, kind: ContentKind | undefined): string {
  if (text === undefined || text === null) return ''
  if (typeof text !== 'string') throw new HubError('InvalidConfigurationTargetCondition', 'targetCondition must be a string.')
  let from: 'devices' | 'devices.modules'
  try {
    from = parseCondition(text).from
    compileCondition(text)
  } catch (err) {
    throw new HubError('InvalidConfigurationTargetCondition', `Invalid target condition: ${(err as Error).message}`)
  }
  if (kind === 'moduleContent' && text.trim() !== '' && from !== 'devices.modules') {
    throw new HubError('InvalidConfigurationTargetCondition', "A module configuration targets module twins: use 'FROM devices.modules WHERE ...'.")
  }
  if (kind === 'deviceContent' && from !== 'devices') {
    throw new HubError('InvalidConfigurationTargetCondition', 'A device configuration targets device twins: its condition cannot use FROM devices.modules.')
  }
  return text
}

/** A metric query's problem, or undefined. */
export function metricProblem (query: unknown): string | undefined {
  if (typeof query !== 'string' || query.trim() === '') return 'the metric query must be a non-empty string'
  try {
    parseQuery(query)
  } catch (err) {
    return (err as Error).message
  }
  return undefined
}

/** Validates metrics.queries: <= 5 named queries. Throws 400404. */
export function validateMetrics (metrics: unknown): Record<string, string> {
  if (metrics === undefined || metrics === null) return {}
  if (!isJsonObject(metrics)) throw new HubError('InvalidConfigurationCustomMetricsQuery', 'metrics must be a JSON object with queries.')
  const queries = own(metrics, 'queries')
  if (queries === undefined || queries === null) return {}
  if (!isJsonObject(queries)) throw new HubError('InvalidConfigurationCustomMetricsQuery', 'metrics.queries must map metric names to queries.')
  const names = Object.keys(queries)
  if (names.length > MAX_METRICS) throw new HubError('InvalidConfigurationCustomMetricsQuery', `A configuration has at most ${MAX_METRICS} custom metrics; got ${names.length}.`)
  const out: Record<string, string> = {}
  for (const name of names) {
    if (name === '' || name.length > 128) throw new HubError('InvalidConfigurationCustomMetricsQuery', 'A metric name must be 1 to 128 characters.')
    const q = queries[name]
    const problem = metricProblem(q)
    if (problem !== undefined) throw new HubError('InvalidConfigurationCustomMetricsQuery', `Invalid query for metric '${name}': ${problem}`)
    out[name] = q as string
  }
  return out
}

/** Highest priority first; on a tie the newest; then by id for a stable order. */
export function byPrecedence (a: StoredConfiguration, b: StoredConfiguration): number {
  return b.priority - a.priority || b.createdTimeUtc.localeCompare(a.createdTimeUtc) || a.id.localeCompare(b.id)
}

/** Which configuration owns each path on a twin, given its matching configurations in precedence order. */
export function resolveOwners (matching: Array<{ id: string; paths: ContentPath[] }>): Map<string, { configId: string; path: string[]; value: JsonValue }> {
  const owners = new Map<string, { configId: string; path: string[]; value: JsonValue }>()
  const claimed: string[][] = []
  for (const cfg of matching) {
    for (const { path, value } of cfg.paths) {
      if (claimed.some((p) => overlaps(p, path))) continue
      claimed.push(path)
      owners.set(path.join('.'), { configId: cfg.id, path, value })
    }
  }
  return owners
}

/**
 * The desired merge patch for an ownership change (F): paths whose owner is gone or changed
 * are removed, paths with a new owner get that owner's value (wholesale); paths with an
 * unchanged owner are left alone, so later edits by people or jobs are not fought.
 */
export function desiredPatchFor (desired: JsonObject, oldOwners: Record<string, string>, owners: Map<string, { configId: string; path: string[]; value: JsonValue }>): JsonObject {
  const next = cloneJson(desired)
  let touched = false
  for (const [p, configId] of Object.entries(oldOwners)) {
    if (owners.get(p)?.configId === configId) continue
    deleteAt(next, p.split('.'))
    touched = true
  }
  for (const [p, o] of owners) {
    if (oldOwners[p] === o.configId) continue
    if (o.value === null) deleteAt(next, o.path)
    else setAt(next, o.path, cloneJson(o.value))
    touched = true
  }
  if (!touched || jsonEqual(next, desired)) return {}
  return diffPatch(desired, next)
}

function setAt (o: JsonObject, path: string[], value: JsonValue): void {
  let cur = o
  for (const seg of path.slice(0, -1)) {
    const child = own(cur, seg)
    if (!isJsonObject(child)) setOwn(cur, seg, {})
    cur = cur[seg] as JsonObject
  }
  setOwn(cur, path[path.length - 1] as string, value)
}

function deleteAt (o: JsonObject, path: string[]): void {
  let cur: JsonValue | undefined = o
  for (const seg of path.slice(0, -1)) {
    cur = isJsonObject(cur) ? own(cur, seg) : undefined
    if (!isJsonObject(cur)) return
  }
  if (isJsonObject(cur)) delete cur[path[path.length - 1] as string]
}
