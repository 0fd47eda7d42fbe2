// The $metadata tree of a twin section (protocol B.2). It mirrors the section: every object
// and leaf carries $lastUpdated, under desired also $lastUpdatedVersion (the desired
// $version that last wrote it); the section root carries them too. Because every level has
// metadata, deleting a key refreshes its parent's $lastUpdated. Arrays are leaves.
import type { JsonObject, MetaNode } from '../types.js'
import { isJsonObject, own } from './json.js'

/** ISO-8601 UTC with 7 fractional digits, as the cloud prints (B.1); we only have milliseconds. */
let lastMs = NaN
let lastIso = ''
export function isoTime (ms: number): string {
  // Many writes land in the same millisecond under load: format once per millisecond.
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = new Date(ms).toISOString().slice(0, -1) + '0000Z'
  }
  return lastIso
}

/** A fresh node. `version` is given for desired only. */
export function stamp (at: string, version?: number): MetaNode {
  return version === undefined ? { $lastUpdated: at } : { $lastUpdated: at, $lastUpdatedVersion: version }
}

/** Metadata for a whole section written at once (twin creation, initial import). */
export function createMeta (value: JsonObject, at: string, version?: number): MetaNode {
  const node = stamp(at, version)
  for (const [k, v] of Object.entries(value)) {
    if (v === null) continue
    setChild(node, k, isJsonObject(v) ? createMeta(v, at, version) : stamp(at, version))
  }
  return node
}

/**
 * New metadata after a write. `value` is the section after the write, `change` the tree
 * of written paths (a merge-patch effective change or applied patch: null = removed).
 * Every node on a written path, the root included, is stamped; untouched siblings keep
 * their timestamps. Call it only when something was written. Does not mutate `meta`.
 */
export function updateMeta (meta: MetaNode, value: JsonObject, change: JsonObject, at: string, version?: number): MetaNode {
  const node: MetaNode = { ...meta, ...stamp(at, version) }
  for (const [k, c] of Object.entries(change)) {
    if (c === null) {
      delete node[k]
      continue
    }
    const v = own(value, k)
    if (isJsonObject(c) && isJsonObject(v)) {
      // An object that replaced a leaf arrives whole in `change`, so starting from a bare
      // stamp rebuilds all its children.
      const prev = node[k]
      setChild(node, k, updateMeta(isMetaNode(prev) ? prev : stamp(at, version), v, c, at, version))
    } else {
      // A leaf (or an array, or a leaf replacing an object: its children's metadata goes).
      setChild(node, k, stamp(at, version))
    }
  }
  return node
}

function isMetaNode (v: unknown): v is MetaNode {
  return typeof v === 'object' && v !== null && typeof (v as MetaNode).$lastUpdated === 'string'
}

/** Twin keys cannot start with '$' (B.4), so they never collide with $lastUpdated; `__proto__` is still an own key. */
function setChild (node: MetaNode, k: string, child: MetaNode): void {
  Object.defineProperty(node, k, { value: child, enumerable: true, writable: true, configurable: true })
}
