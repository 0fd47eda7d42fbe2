// Built-in functions (D.2). The docs list IS_DEFINED as the only function for twin queries
// and the rest for routing conditions; D.2 recommends the whole set for twin queries (a
// superset is harmless). Names are case-insensitive. Semantics follow Cosmos DB's SQL
// functions, the dialect IoT Hub's routing language documents: wrong argument types give
// undefined rather than an error, so a bad row never fails a whole query.
import type { Value } from './evaluate.js'

export interface FunctionDef {
  minArgs: number
  maxArgs: number
  impl: (args: Value[]) => Value
}

const str = (v: Value): v is string => typeof v === 'string'
const num = (v: Value): v is number => typeof v === 'number'
const finite = (v: number): number | undefined => (Number.isFinite(v) ? v : undefined)
const isObject = (v: Value): boolean => typeof v === 'object' && v !== null && !Array.isArray(v)

function math1 (f: (x: number) => number): FunctionDef {
  return { minArgs: 1, maxArgs: 1, impl: ([x]) => (num(x) ? finite(f(x)) : undefined) }
}

function is (test: (v: Value) => boolean): FunctionDef {
  return { minArgs: 1, maxArgs: 1, impl: ([x]) => test(x) }
}

/** Optional third argument of STARTSWITH/ENDSWITH/CONTAINS: ignore case (Cosmos DB). */
function strTest (test: (s: string, p: string) => boolean): FunctionDef {
  return {
    minArgs: 2,
    maxArgs: 3,
    impl: ([s, p, ignoreCase]) => {
      if (!str(s) || !str(p)) return undefined
      if (ignoreCase === undefined || ignoreCase === false) return test(s, p)
      if (ignoreCase !== true) return undefined
      return test(s.toLowerCase(), p.toLowerCase())
    }
  }
}

export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map<string, FunctionDef>([
  // IS_DEFINED is true for an existing property even when its value is null (D.2, D.3 #6).
  ['IS_DEFINED', is((v) => v !== undefined)],
  ['IS_NULL', is((v) => v === null)],
  ['IS_BOOL', is((v) => typeof v === 'boolean')],
  ['IS_NUMBER', is(num)],
  ['IS_STRING', is(str)],
  ['IS_OBJECT', is(isObject)],
  ['IS_ARRAY', is(Array.isArray)],
  ['IS_PRIMITIVE', is((v) => v === null || str(v) || num(v) || typeof v === 'boolean')],
  // STARTSWITH / ENDSWITH without underscore, as twin queries accept them (D.2 [OBS]).
  ['STARTSWITH', strTest((s, p) => s.startsWith(p))],
  ['ENDSWITH', strTest((s, p) => s.endsWith(p))],
  ['CONTAINS', strTest((s, p) => s.includes(p))],
  ['LOWER', { minArgs: 1, maxArgs: 1, impl: ([s]) => (str(s) ? s.toLowerCase() : undefined) }],
  ['UPPER', { minArgs: 1, maxArgs: 1, impl: ([s]) => (str(s) ? s.toUpperCase() : undefined) }],
  ['LENGTH', { minArgs: 1, maxArgs: 1, impl: ([s]) => (str(s) ? s.length : undefined) }],
  ['CONCAT', { minArgs: 2, maxArgs: Infinity, impl: (args) => (args.every(str) ? args.join('') : undefined) }],
  // SUBSTRING(s, start, length): zero-based start (Cosmos DB).
  ['SUBSTRING', {
    minArgs: 3,
    maxArgs: 3,
    impl: ([s, start, len]) => {
      if (!str(s) || !num(start) || !num(len)) return undefined
      const from = Math.max(0, Math.trunc(start))
      return s.slice(from, from + Math.max(0, Math.trunc(len)))
    }
  }],
  // INDEX_OF(s, sub[, start]): zero-based, -1 when absent.
  ['INDEX_OF', {
    minArgs: 2,
    maxArgs: 3,
    impl: ([s, sub, start]) => {
      if (!str(s) || !str(sub)) return undefined
      if (start === undefined) return s.indexOf(sub)
      return num(start) ? s.indexOf(sub, Math.max(0, Math.trunc(start))) : undefined
    }
  }],
  ['ABS', math1(Math.abs)],
  ['CEILING', math1(Math.ceil)],
  ['FLOOR', math1(Math.floor)],
  ['SIGN', math1(Math.sign)],
  ['SQRT', math1(Math.sqrt)],
  ['SQUARE', math1((x) => x * x)],
  ['EXP', math1(Math.exp)],
  ['POWER', { minArgs: 2, maxArgs: 2, impl: ([a, b]) => (num(a) && num(b) ? finite(a ** b) : undefined) }],
  // AS_NUMBER: a number, or a string holding a JSON number (no hex, no blanks); else undefined.
  ['AS_NUMBER', {
    minArgs: 1,
    maxArgs: 1,
    impl: ([v]) => {
      if (num(v)) return v
      if (!str(v) || !/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(v)) return undefined
      return finite(Number(v))
    }
  }]
])

/** Aggregates live in the SELECT list only; naming them in a condition gets a pointed error. */
export const AGGREGATES: ReadonlySet<string> = new Set(['COUNT', 'AVG', 'SUM', 'MIN', 'MAX'])
