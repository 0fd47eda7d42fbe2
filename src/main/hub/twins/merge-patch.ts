// Recursive JSON merge for twin sections (protocol B.3): objects merge, scalars and arrays
// replace, null deletes the key and its subtree, deleting an absent key is a no-op.
// Besides the merged value it computes the *effective change*: devices merge desired
// notifications into a cached copy and drop nulls afterwards (A.7), so a removal must
// reach them as an explicit null, including whole-section clears (B.3, pitfall G.7).
import type { JsonObject } from '../types.js'
import { cloneJson, isJsonObject, jsonEqual, own, setOwn } from './json.js'

export interface MergeResult {
  /** The merged section. Inputs are not mutated; unchanged subtrees are shared with `target`. */
  value: JsonObject
  /**
   * What actually changed: new or different values, removed keys as null. Writing a value
   * equal to the current one is not a change. A key that was not an object before and is
   * one now is carried whole, so that a consumer merging it gets the exact new subtree.
   */
  change: JsonObject
  /** The patch as applied: the patch without deletions of absent keys, nulls in new subtrees dropped. */
  applied: JsonObject
}

export function mergePatch (target: JsonObject, patch: JsonObject): MergeResult {
  const value: JsonObject = { ...target }
  const change: JsonObject = {}
  const applied: JsonObject = {}
  for (const [k, p] of Object.entries(patch)) {
    const old = own(target, k)
    if (p === null) {
      if (old === undefined) continue
      delete value[k]
      setOwn(change, k, null)
      setOwn(applied, k, null)
    } else if (isJsonObject(p)) {
      // A non-object (or absent) value is replaced by an object built from the patch alone.
      const sub = mergePatch(isJsonObject(old) ? old : {}, p)
      setOwn(value, k, sub.value)
      setOwn(applied, k, sub.applied)
      if (!isJsonObject(old)) setOwn(change, k, cloneJson(sub.value))
      else if (Object.keys(sub.change).length > 0) setOwn(change, k, sub.change)
    } else {
      setOwn(value, k, cloneJson(p))
      setOwn(applied, k, cloneJson(p))
      if (!jsonEqual(old, p)) setOwn(change, k, cloneJson(p))
    }
  }
  return { value, change, applied }
}

/** The patch that clears a whole section: every top-level key as null (B.3 `{"tags":null}`). */
export function clearPatch (section: JsonObject): JsonObject {
  const patch: JsonObject = {}
  for (const k of Object.keys(section)) setOwn(patch, k, null)
  return patch
}

/**
 * The merge patch that turns `from` into `to` (PUT semantics, C.3): removed keys become
 * null, nested objects are diffed, anything else that differs is carried whole.
 * Nulls inside `to` mean "absent".
 */
export function diffPatch (from: JsonObject, to: JsonObject): JsonObject {
  const patch: JsonObject = {}
  for (const k of Object.keys(from)) {
    if (own(to, k) === undefined || own(to, k) === null) setOwn(patch, k, null)
  }
  for (const [k, v] of Object.entries(to)) {
    if (v === null) continue
    const old = own(from, k)
    if (isJsonObject(v) && isJsonObject(old)) {
      const sub = diffPatch(old, v)
      if (Object.keys(sub).length > 0) setOwn(patch, k, sub)
    } else if (!jsonEqual(old, v)) {
      setOwn(patch, k, cloneJson(v))
    }
  }
  return patch
}

/** True when a change (or patch) carries nothing. */
export function isEmpty (o: JsonObject): boolean {
  return Object.keys(o).length === 0
}
