// Before/after of an audit entry as rows of a diff: every leaf path in either value, with
// what it was and what it became. Pure, for the Audit screen and its tests.
import type { JsonValue } from '../../../shared/contract/index'

export interface DiffRow { path: string; before: string | undefined; after: string | undefined; change: 'same' | 'added' | 'removed' | 'changed' }

function flatten (v: JsonValue | undefined, path: string, out: Map<string, string>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) flatten(x, path === '' ? k : `${path}.${k}`, out)
    return
  }
  if (v === undefined) return
  out.set(path === '' ? '(value)' : path, JSON.stringify(v))
}

export function diffRows (before: JsonValue, after: JsonValue): DiffRow[] {
  const b = new Map<string, string>()
  const a = new Map<string, string>()
  if (before !== null) flatten(before, '', b)
  if (after !== null) flatten(after, '', a)
  const paths = [...new Set([...b.keys(), ...a.keys()])].sort()
  return paths.map(path => {
    const x = b.get(path)
    const y = a.get(path)
    const change = x === undefined ? 'added' : y === undefined ? 'removed' : x === y ? 'same' : 'changed'
    return { path, before: x, after: y, change }
  })
}
