// Value semantics of the query language (D.2). Values are JSON values or `undefined`
// (a missing property). Everything here is total: no input throws, an operation that is
// not defined for its operands yields `undefined`, and a row passes only on `true`.

/** A value during evaluation: a JSON value read from a row, a literal, or undefined. */
export type Value = unknown

/** Primitives comparable with each other (D.2: comparisons are defined only between primitives). */
export function isPrimitive (v: Value): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
}

/**
 * `=`: same-type primitives only (D.2 recommendation, UNVERIFIED upstream). `null = null` is
 * true (null is a primitive of its own type); any other type mix, objects, arrays and
 * undefined give undefined, so the row is rejected whatever the operator.
 */
export function equals (a: Value, b: Value): boolean | undefined {
  if (a === null || b === null) return a === null && b === null ? true : undefined
  const t = typeof a
  if (t !== typeof b) return undefined
  if (t === 'string' || t === 'number' || t === 'boolean') return a === b
  return undefined
}

export function notEquals (a: Value, b: Value): boolean | undefined {
  const r = equals(a, b)
  return r === undefined ? undefined : !r
}

/**
 * Ordering (`<`, `>`, `<=`, `>=`): numbers numerically, strings ordinally (UTF-16 code unit
 * order, like Cosmos DB's ordinal comparison), booleans false < true. Null has no order.
 * Returns -1/0/1, or undefined when the operands are not comparable.
 */
export function order (a: Value, b: Value): -1 | 0 | 1 | undefined {
  const t = typeof a
  if (t !== typeof b || a === null || b === null) return undefined
  if (t === 'number' || t === 'string') return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  if (t === 'boolean') return a === b ? 0 : a === false ? -1 : 1
  return undefined
}

/** Three-valued NOT: only booleans negate (D.2: NOT undefined -> undefined). */
export function not (v: Value): boolean | undefined {
  return typeof v === 'boolean' ? !v : undefined
}

/** Arithmetic on numbers only; a non-finite result (x / 0) is undefined, since JSON cannot carry it. */
export function arith (op: string, a: Value, b: Value): number | undefined {
  if (typeof a !== 'number' || typeof b !== 'number') return undefined
  let r: number
  switch (op) {
    case '+': r = a + b; break
    case '-': r = a - b; break
    case '*': r = a * b; break
    case '/': r = a / b; break
    default: r = a % b
  }
  return Number.isFinite(r) ? r : undefined
}

/** A stable string key for a primitive value: the hash-index and GROUP BY key. */
export function primitiveKey (v: string | number | boolean | null): string {
  switch (typeof v) {
    case 'string': return `s${v}`
    case 'number': return `n${v === 0 ? 0 : v}` // -0 and 0 are equal
    case 'boolean': return v ? 'bt' : 'bf'
    default: return 'z'
  }
}
