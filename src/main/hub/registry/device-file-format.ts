// Device files as `sitehub device export` writes them and `sitehub device import` reads them
// (docs/cli.md): JSON lines (devices.txt, C.2: one ExportImportDevice per line) and a CSV with
// one column per field, tags and desired properties as dotted columns. Used by the CLI and by
// the UI's export (api/ui/ops.ts), so both write byte-identical files.
import type { JsonObject, JsonValue } from '../types.js'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180) writing.

/** One CSV field, quoted when it must be. */
export function csvField (value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

export function writeCsv (rows: string[][]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n'
}

// ---------------------------------------------------------------------------------------------
// CSV cells <-> JSON values for tags.* and desired.* columns.

const NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

/**
 * A tags/desired cell as a JSON value: empty = not set; true, false, null and plainly written
 * numbers (42, -3.5: the number reads back the same) are JSON; {...} and [...] must be valid
 * JSON; "..." is a JSON string when valid (to force a string: "42"); anything else is text.
 */
export function parseCell (cell: string): { value?: JsonValue; error?: string } {
  if (cell === '') return {}
  if (cell === 'true' || cell === 'false' || cell === 'null') return { value: JSON.parse(cell) as JsonValue }
  if (NUMBER_RE.test(cell)) {
    const num = Number(cell)
    return Number.isFinite(num) && String(num) === cell ? { value: num } : { value: cell }
  }
  if (cell.startsWith('{') || cell.startsWith('[')) {
    try {
      return { value: JSON.parse(cell) as JsonValue }
    } catch (err) {
      return { error: `is not valid JSON (${(err as Error).message})` }
    }
  }
  if (cell.startsWith('"')) {
    try {
      const v = JSON.parse(cell) as unknown
      if (typeof v === 'string') return { value: v }
    } catch { /* plain text that starts with a quote */ }
  }
  return { value: cell }
}

/** The cell that parseCell reads back as `value`. */
export function cellOf (value: JsonValue): string {
  if (typeof value !== 'string') return JSON.stringify(value)
  const back = parseCell(value)
  return back.value === value ? value : JSON.stringify(value)
}


// ---------------------------------------------------------------------------------------------
// Export.

export function toJsonLines (items: JsonObject[]): string {
  return items.map((i) => JSON.stringify(i) + '\n').join('')
}

type Flat = Map<string, JsonValue>

/** Leaves of a tags/desired object as dotted paths; stops (writes JSON) where keys contain dots or at `stops`. */
function flatten (value: JsonObject, prefix: string, stops: Set<string>, out: Flat): void {
  const keys = Object.keys(value).filter((k) => !k.startsWith('$'))
  if (keys.length === 0) return
  const clean = (v: JsonValue): JsonValue => {
    if (!isObject(v)) return v
    return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('$')).map(([k, x]) => [k, clean(x as JsonValue)])) as JsonObject
  }
  if (stops.has(prefix) || keys.some((k) => k === '' || k.includes('.'))) {
    out.set(prefix, clean(value))
    return
  }
  for (const k of keys) {
    const v = value[k] as JsonValue
    const path = `${prefix}.${k}`
    if (isObject(v) && Object.keys(v).some((x) => !x.startsWith('$')) && !stops.has(path)) flatten(v as JsonObject, path, stops, out)
    else out.set(path, clean(v))
  }
}

function flattenTwin (item: JsonObject, stops: Set<string>): Flat {
  const out: Flat = new Map()
  if (isObject(item['tags'])) flatten(item['tags'] as JsonObject, 'tags', stops, out)
  const props = item['properties']
  if (isObject(props) && isObject(props['desired'])) flatten(props['desired'] as JsonObject, 'desired', stops, out)
  return out
}

/** Exported items (devices.txt lines) as CSV with the import columns; tags and desired as dotted columns. */
export function toCsv (items: JsonObject[]): string {
  let flats = items.map((i) => flattenTwin(i, new Set()))
  // tags.* columns first, then desired.*, each sorted.
  const rank = (c: string): string => (c.startsWith('tags') ? `0${c}` : `1${c}`)
  const columnsOf = (fs: Flat[]): string[] => [...new Set(fs.flatMap((f) => [...f.keys()]))].sort((a, b) => (rank(a) < rank(b) ? -1 : 1))
  // A column that is a prefix of another (tags.a = 1 on one device, tags.a.b on another) holds JSON.
  const first = columnsOf(flats)
  const stops = new Set(first.filter((c) => first.some((o) => o.startsWith(`${c}.`))))
  if (stops.size > 0) flats = items.map((i) => flattenTwin(i, stops))
  const twinCols = columnsOf(flats)
  const withModules = items.some((i) => typeof i['moduleId'] === 'string')
  const header = [
    'id', ...(withModules ? ['moduleId'] : []), 'status', 'statusReason', 'authType', 'primaryKey', 'secondaryKey',
    'primaryThumbprint', 'secondaryThumbprint', 'edge', ...twinCols
  ]
  const str = (v: unknown): string => (typeof v === 'string' ? v : '')
  const rows = items.map((item, idx) => {
    const auth = isObject(item['authentication']) ? item['authentication'] : {}
    const sk = isObject(auth['symmetricKey']) ? auth['symmetricKey'] : {}
    const tp = isObject(auth['x509Thumbprint']) ? auth['x509Thumbprint'] : {}
    const caps = isObject(item['capabilities']) ? item['capabilities'] : {}
    const flat = flats[idx] ?? new Map()
    return [
      str(item['id']), ...(withModules ? [str(item['moduleId'])] : []), str(item['status']), str(item['statusReason']),
      str(auth['type']), str(sk['primaryKey']), str(sk['secondaryKey']), str(tp['primaryThumbprint']), str(tp['secondaryThumbprint']),
      caps['iotEdge'] === true ? 'true' : 'false',
      ...twinCols.map((c) => { const v = flat.get(c); return v === undefined ? '' : cellOf(v) })
    ]
  })
  return writeCsv([header, ...rows])
}
