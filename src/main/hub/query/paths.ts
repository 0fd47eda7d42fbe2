// Property paths (D.1 path, D.2 casing rules). A path is resolved once, at compile time, to
// the document's own spelling: the fixed twin / job-record fields are matched
// case-insensitively (`DeviceId`, `LastActivityTime` — D.2 [DOC]) while user keys under
// tags / desired / reported / configurations stay case-sensitive (D.2 recommendation).
// Reading a path from a row is a compiled closure: no per-row string work.
import type { Collection, PathSegment } from './ast.js'
import type { Value } from './evaluate.js'

interface FieldNode {
  name: string
  /** Fixed sub-fields; absent: everything below is user data (case-sensitive). */
  children?: ReadonlyMap<string, FieldNode>
}

function fields (spec: Record<string, ReadonlyMap<string, FieldNode> | null>): ReadonlyMap<string, FieldNode> {
  const m = new Map<string, FieldNode>()
  for (const [name, children] of Object.entries(spec)) {
    m.set(name.toLowerCase(), children === null ? { name } : { name, children })
  }
  return m
}

// B.1 twin document. `tags`, `desired`, `reported` and `configurations` hold user keys.
const TWIN_FIELDS = fields({
  deviceId: null,
  moduleId: null,
  etag: null,
  deviceEtag: null,
  status: null,
  statusReason: null,
  statusUpdateTime: null,
  connectionState: null,
  lastActivityTime: null,
  cloudToDeviceMessageCount: null,
  authenticationType: null,
  x509Thumbprint: fields({ primaryThumbprint: null, secondaryThumbprint: null }),
  modelId: null,
  version: null,
  tags: null,
  properties: fields({ desired: null, reported: null }),
  capabilities: fields({ iotEdge: null }),
  deviceScope: null,
  parentScopes: null,
  configurations: null
})

// E.3 per-device job record. D.3 #15 filters on `createdTimeUtc` while records carry
// `createdDateTimeUtc`: both spellings resolve to the stored field.
const JOB_FIELDS = (() => {
  const m = new Map(fields({
    deviceId: null,
    moduleId: null,
    jobId: null,
    jobType: null,
    status: null,
    startTimeUtc: null,
    endTimeUtc: null,
    createdDateTimeUtc: null,
    lastUpdatedDateTimeUtc: null,
    outcome: fields({ deviceMethodResponse: fields({ status: null, payload: null }) }),
    error: fields({ code: null, description: null })
  }))
  m.set('createdtimeutc', { name: 'createdDateTimeUtc' })
  m.set('lastupdatedtimeutc', { name: 'lastUpdatedDateTimeUtc' })
  return m
})()

const eqi = (seg: PathSegment | undefined, word: string): boolean =>
  seg !== undefined && !seg.escaped && seg.name.toLowerCase() === word

/**
 * Drops a collection prefix: `devices.jobs.deviceId` (D.3 #13), `devices.modules.moduleId`,
 * `devices.deviceId`. A lone `devices` stays a (missing) property.
 */
function stripPrefix (from: Collection, segs: readonly PathSegment[]): readonly PathSegment[] {
  if (!eqi(segs[0], 'devices') || segs.length < 2) return segs
  if (from === 'devices.jobs') return eqi(segs[1], 'jobs') && segs.length > 2 ? segs.slice(2) : segs
  if (from === 'devices.modules' && eqi(segs[1], 'modules') && segs.length > 2) return segs.slice(2)
  return segs.slice(1)
}

/**
 * The canonical (flat, internalized) copy of a string. Names and literals cut from the query
 * text are slices or concatenations: as a property key each access would have to look the key
 * up in V8's string table, and as a compared literal each `===` would compare characters where
 * identity can do. A property key is internalized, and Object.keys hands that copy back.
 */
export function internalize (s: string): string {
  const o: Record<string, true> = {}
  o[s] = true
  return Object.keys(o)[0] ?? s // '__proto__' sets the prototype instead: keep it as is
}

/** The path as stored in the document: prefix removed, fixed fields in their own casing. */
export function canonicalPath (from: Collection, segments: readonly PathSegment[]): string[] {
  let level: ReadonlyMap<string, FieldNode> | undefined = from === 'devices.jobs' ? JOB_FIELDS : TWIN_FIELDS
  const out: string[] = []
  for (const seg of stripPrefix(from, segments)) {
    const node: FieldNode | undefined = level?.get(seg.name.toLowerCase())
    out.push(node === undefined ? internalize(seg.name) : node.name)
    level = node?.children
  }
  return out
}

/**
 * `configurations.[[id]].status` is stored lower-case ('applied', F) but the documentation
 * compares it with 'Applied': comparisons involving it ignore case (F, UNVERIFIED).
 */
export function isCaseInsensitiveValue (from: Collection, path: readonly string[]): boolean {
  return from !== 'devices.jobs' && path.length === 3 && path[0] === 'configurations' && path[2]?.toLowerCase() === 'status'
}

/** A key identifying a canonical path (segments may contain '.', so join on a control char). */
export const pathKey = (path: readonly string[]): string => path.join('\u0000')

export type Getter = (row: object) => Value
type Rec = Record<string, unknown>

const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * A closure reading a path from a row. Arrays are not traversed (the grammar has no index
 * syntax) and inherited properties never leak (`tags.constructor` is undefined).
 */
export function compileGetter (path: readonly string[]): Getter {
  const inherited = path.some((s) => s in Object.prototype)
  if (inherited) {
    return (row) => {
      let cur: unknown = row
      for (const s of path) {
        if (!isObj(cur) || !Object.hasOwn(cur, s)) return undefined
        cur = cur[s]
      }
      return cur
    }
  }
  const [a, b, c, d] = path
  switch (path.length) {
    case 1: return (row) => (row as Rec)[a as string]
    case 2: return (row) => {
      const x = (row as Rec)[a as string]
      return isObj(x) ? x[b as string] : undefined
    }
    case 3: return (row) => {
      const x = (row as Rec)[a as string]
      if (!isObj(x)) return undefined
      const y = x[b as string]
      return isObj(y) ? y[c as string] : undefined
    }
    case 4: return (row) => {
      const x = (row as Rec)[a as string]
      if (!isObj(x)) return undefined
      const y = x[b as string]
      if (!isObj(y)) return undefined
      const z = y[c as string]
      return isObj(z) ? z[d as string] : undefined
    }
    default: return (row) => {
      let cur: unknown = row
      for (const s of path) {
        if (!isObj(cur)) return undefined
        cur = cur[s]
      }
      return cur
    }
  }
}
