// Field-level three-way merge of a twin section (desired or tags) between the last agreed
// base, the site's value and the cloud's value (docs/sync.md "Desired properties and tags").
// Objects merge leaf by leaf; scalars and arrays are leaves (IoT Hub replaces arrays whole);
// an absent key and null are the same thing (IoT Hub never stores nulls: writing null
// deletes). Twin keys cannot contain '.', so a dotted path names a field unambiguously.
import { diffPatch } from '../twins/merge-patch.js'
import { cloneJson, isJsonObject, jsonEqual } from '../twins/json.js'
import type { JsonObject, JsonValue } from '../types.js'

export interface Merge3Result {
  /** Merge patch to apply at the site (the cloud's one-sided changes). */
  down: JsonObject
  /** Merge patch to send to the cloud (the site's one-sided changes). */
  up: JsonObject
  /** The new agreed base; a conflicting field keeps its old base value. */
  base: JsonObject
  /** Dotted paths of the fields both sides changed differently, in document order. */
  conflicts: string[]
}

type V = JsonValue | undefined
const norm = (v: V): V => (v === null ? undefined : v)
const objOrAbsent = (v: V): boolean => v === undefined || isJsonObject(v)
const asObj = (v: V): JsonObject => (isJsonObject(v) ? v : {})

/** A merge-patch value turning `from` into `to` (objects are diffed, so removed keys become null). */
export function patchFor (from: V, to: V): JsonValue {
  if (to === undefined || to === null) return null
  return isJsonObject(from) && isJsonObject(to) ? diffPatch(from, to) : cloneJson(to)
}

/**
 * Three-way merge. At every key: equal on both sides = agreed; changed on one side only = that
 * side wins (also for whole subtrees added, replaced or removed); changed on both sides and
 * both sides (and the base) objects or absent = merged one level down; otherwise a conflict
 * at that path, which keeps its base (neither side is overwritten).
 */
export function merge3 (base: JsonObject, local: JsonObject, cloud: JsonObject): Merge3Result {
  const conflicts: string[] = []
  const r = mergeObj(base, local, cloud, '', conflicts)
  return { down: r.down, up: r.up, base: r.next, conflicts }
}

function mergeObj (base: JsonObject, local: JsonObject, cloud: JsonObject, prefix: string, conflicts: string[]): { down: JsonObject; up: JsonObject; next: JsonObject } {
  const down: JsonObject = {}
  const up: JsonObject = {}
  const next: JsonObject = {}
  const keys = new Set([...Object.keys(local), ...Object.keys(cloud), ...Object.keys(base)])
  for (const k of keys) {
    const b = norm(own(base, k)); const l = norm(own(local, k)); const c = norm(own(cloud, k))
    if (jsonEqual(l, c)) { if (c !== undefined) next[k] = cloneJson(c); continue }
    if (jsonEqual(b, l)) { down[k] = patchFor(l, c); if (c !== undefined) next[k] = cloneJson(c); continue }
    if (jsonEqual(b, c)) { up[k] = patchFor(c, l); if (l !== undefined) next[k] = cloneJson(l); continue }
    // Both changed. Objects (or a side that removed the object) merge one level down: a removed
    // subtree counts as every leaf removed. A scalar base replaced by objects on both sides too.
    const recurse = (isJsonObject(l) && isJsonObject(c)) || (objOrAbsent(b) && objOrAbsent(l) && objOrAbsent(c))
    if (recurse) {
      const sub = mergeObj(asObj(b), asObj(l), asObj(c), `${prefix}${k}.`, conflicts)
      if (Object.keys(sub.down).length > 0) down[k] = sub.down
      if (Object.keys(sub.up).length > 0) up[k] = sub.up
      if (Object.keys(sub.next).length > 0 || (isJsonObject(l) && isJsonObject(c))) next[k] = sub.next
      continue
    }
    conflicts.push(`${prefix}${k}`)
    if (b !== undefined) next[k] = cloneJson(b)
  }
  return { down, up, next }
}

function own (o: JsonObject, k: string): V {
  return Object.hasOwn(o, k) ? o[k] : undefined
}

/** The value at a dotted path (undefined when absent or under a non-object). */
export function getPath (o: JsonObject | null | undefined, path: string): JsonValue | undefined {
  let cur: V = o ?? undefined
  for (const seg of path.split('.')) {
    if (!isJsonObject(cur)) return undefined
    cur = own(cur, seg)
  }
  return norm(cur)
}

/** Sets (or, for undefined/null, removes) the value at a dotted path, creating objects on the way. Mutates `o`. */
export function setPath (o: JsonObject, path: string, value: V): void {
  const segs = path.split('.')
  let cur = o
  for (const seg of segs.slice(0, -1)) {
    let child = own(cur, seg)
    if (!isJsonObject(child)) {
      if (value === undefined || value === null) return // nothing to remove below
      child = {}
      cur[seg] = child
    }
    cur = child
  }
  const last = segs[segs.length - 1] as string
  if (value === undefined || value === null) delete cur[last]
  else cur[last] = cloneJson(value)
}

/** A nested object holding only the given paths' values (absent ones left out). */
export function pickPaths (o: JsonObject, paths: string[]): JsonObject {
  const out: JsonObject = {}
  for (const p of paths) {
    const v = getPath(o, p)
    if (v !== undefined) setPath(out, p, v)
  }
  return out
}

/**
 * A merge patch that sets the field at `path` to `to` (undefined/null removes it), given the
 * section's current value. Returns null when the field already has that value. Never creates
 * empty parent objects for a removal.
 */
export function pathPatch (current: JsonObject, path: string, to: V): JsonObject | null {
  const from = getPath(current, path)
  const target = norm(to)
  if (jsonEqual(from, target)) return null
  const segs = path.split('.')
  const patch: JsonObject = {}
  let cur = patch
  for (const seg of segs.slice(0, -1)) { const child: JsonObject = {}; cur[seg] = child; cur = child }
  cur[segs[segs.length - 1] as string] = patchFor(from, target)
  return patch
}

/** Deep merge of merge patches (later wins), for combining several pathPatch results. */
export function combinePatches (into: JsonObject, patch: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(patch)) {
    const cur = own(into, k)
    if (isJsonObject(cur) && isJsonObject(v)) combinePatches(cur, v)
    else into[k] = cloneJson(v)
  }
  return into
}

/** Leaf paths written by a merge patch (an object value is descended; scalars, arrays, null and {} are leaves). */
export function patchPaths (patch: JsonObject, prefix = ''): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(patch)) {
    if (isJsonObject(v) && Object.keys(v).length > 0) out.push(...patchPaths(v, `${prefix}${k}.`))
    else out.push(`${prefix}${k}`)
  }
  return out
}
