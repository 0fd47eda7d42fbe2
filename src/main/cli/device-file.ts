// Device files for `sitehub device import|export`: JSON lines (devices.txt, C.2: one
// ExportImportDevice per line) and a technician's CSV (RFC 4180) with one column per field.
// Parsing checks the whole file and collects every bad row with its line number.
import { IMPORT_MODES, type ImportMode } from '../hub/registry/import-item.js'
import { validateId } from '../hub/registry/ids.js'
import { normalizeThumbprint } from '../hub/tls/thumbprint.js'
import type { JsonValue } from '../hub/types.js'
import { cellOf, csvField, parseCell, toCsv, toJsonLines, writeCsv } from '../hub/registry/device-file-format.js'

// The writers (and the cell rules they share with the reader) live with the hub: its UI exports the same files.
export { cellOf, csvField, parseCell, toCsv, toJsonLines, writeCsv }

export type FileFormat = 'csv' | 'jsonl'

/** One row ready to apply: an ExportImportDevice item. */
export interface ImportRow {
  line: number
  /** deviceId, or deviceId/moduleId. */
  id: string
  /** The import mode that applies to the row, as written in docs (createOrUpdate...). */
  mode: string
  item: Record<string, unknown>
}

export interface RowError {
  line: number
  id?: string
  message: string
}

export interface ParsedFile {
  rows: ImportRow[]
  errors: RowError[]
}

/** importMode names as IoT Hub spells them; matching is case-insensitive. */
export const MODE_NAMES = [
  'create', 'createOrUpdate', 'createOrUpdateIfMatchETag', 'update', 'updateIfMatchETag',
  'updateTwin', 'updateTwinIfMatchETag', 'delete', 'deleteIfMatchETag'
] as const

/** The canonical spelling of an importMode, or undefined when it is not one. */
export function modeName (mode: string): string | undefined {
  const lower = mode.toLowerCase()
  if (!IMPORT_MODES.includes(lower as ImportMode)) return undefined
  return MODE_NAMES.find((m) => m.toLowerCase() === lower)
}

/** Items larger than this cannot travel over the admin socket (its lines are capped at 1 MiB). */
export const MAX_ITEM_BYTES = 900 * 1024

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180): fields separated by commas, records by CRLF or LF; a field in double quotes may
// hold commas, line breaks and quotes (doubled). A leading BOM is ignored.

export interface CsvRecord {
  /** Line where the record starts (records can span lines inside quoted fields). */
  line: number
  fields: string[]
  error?: string
}

export function parseCsv (input: string): { records: CsvRecord[]; fatal?: RowError } {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  const records: CsvRecord[] = []
  const n = text.length
  let line = 1
  let i = 0
  const isEnd = (c: string | undefined): boolean => c === ',' || c === '\n' || c === '\r'
  while (i < n) {
    const rec: CsvRecord = { line, fields: [] }
    for (;;) {
      let field = ''
      if (text[i] === '"') {
        const startLine = line
        i++
        for (;;) {
          if (i >= n) return { records, fatal: { line: startLine, message: 'a quoted field is never closed (a closing " is missing)' } }
          const q = text.indexOf('"', i)
          if (q === -1) { i = n; continue }
          const chunk = text.slice(i, q)
          for (let k = chunk.indexOf('\n'); k !== -1; k = chunk.indexOf('\n', k + 1)) line++
          field += chunk
          if (text[q + 1] === '"') { field += '"'; i = q + 2; continue }
          i = q + 1
          break
        }
        if (i < n && !isEnd(text[i])) {
          rec.error ??= 'text follows a closing quote (inside a quoted field, write a quote as "")'
          while (i < n && !isEnd(text[i])) field += text[i++] ?? ''
        }
      } else {
        const start = i
        while (i < n && !isEnd(text[i])) i++
        field = text.slice(start, i)
      }
      rec.fields.push(field)
      if (text[i] === ',') { i++; continue }
      if (text[i] === '\r') i++
      if (text[i] === '\n') i++
      line++
      break
    }
    records.push(rec)
  }
  return { records }
}

// ---------------------------------------------------------------------------------------------
// CSV columns.

const FIXED_COLUMNS = [
  'id', 'moduleId', 'status', 'statusReason', 'authType', 'primaryKey', 'secondaryKey',
  'primaryThumbprint', 'secondaryThumbprint', 'edge', 'importMode'
] as const
type FixedColumn = typeof FIXED_COLUMNS[number]

type Column =
  | { kind: 'fixed'; name: FixedColumn }
  | { kind: 'tags' | 'desired'; name: string; path: string[] }
  | { kind: 'bad'; name: string }

const AUTH_TYPES = ['sas', 'selfSigned', 'certificateAuthority', 'none'] as const

function parseHeader (fields: string[], line: number, errors: RowError[]): Column[] {
  const seen = new Map<string, string>()
  const cols = fields.map((raw): Column => {
    const name = raw.trim()
    const fixed = FIXED_COLUMNS.find((c) => c.toLowerCase() === name.toLowerCase())
    const bad = (message: string): Column => { errors.push({ line, message }); return { kind: 'bad', name } }
    if (name === '') return bad('the header has an empty column name')
    const key = fixed ?? name
    const first = seen.get(key.toLowerCase())
    if (first !== undefined) return bad(`column '${name}' appears twice in the header`)
    seen.set(key.toLowerCase(), name)
    if (fixed !== undefined) return { kind: 'fixed', name: fixed }
    const m = /^(tags|desired)(?:\.(.*))?$/i.exec(name)
    if (m === null) {
      return bad(`unknown column '${name}' (the columns are ${FIXED_COLUMNS.join(', ')}, tags.<path> and desired.<path>)`)
    }
    const kind = (m[1] ?? '').toLowerCase() as 'tags' | 'desired'
    const path = m[2] === undefined ? [] : m[2].split('.')
    if (path.some((p) => p === '')) return bad(`column '${name}' has an empty part in its dotted path`)
    return { kind, name, path }
  })
  if (!cols.some((c) => c.kind === 'fixed' && c.name === 'id')) errors.push({ line, message: "the header has no 'id' column" })
  // tags.a and tags.a.b cannot both be set: one would overwrite the other.
  const paths = cols.filter((c): c is Extract<Column, { path: string[] }> => c.kind === 'tags' || c.kind === 'desired')
  for (const a of paths) {
    const b = paths.find((o) => o !== a && o.kind === a.kind && o.path.length > a.path.length && a.path.every((p, i) => o.path[i] === p))
    if (b !== undefined) errors.push({ line, message: `columns '${a.name}' and '${b.name}' overlap (one sets a value inside the other)` })
  }
  return cols
}

function setPath (root: Record<string, unknown>, path: string[], value: JsonValue): void {
  let node = root
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (isObject(next)) { node = next; continue }
    const created: Record<string, unknown> = {}
    node[key] = created
    node = created
  }
  const last = path[path.length - 1]
  if (last !== undefined) node[last] = value
}

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false }

/** A CSV record as an ExportImportDevice item; pushes plain-words errors. */
function csvItem (cols: Column[], rec: CsvRecord, fail: (message: string) => void): Record<string, unknown> {
  const item: Record<string, unknown> = {}
  const auth: { type?: string; symmetricKey?: Record<string, string>; x509Thumbprint?: Record<string, string> } = {}
  let tags: Record<string, unknown> | undefined
  let desired: Record<string, unknown> | undefined
  cols.forEach((col, idx) => {
    const cell = rec.fields[idx] ?? ''
    if (col.kind === 'bad') return
    if (col.kind === 'tags' || col.kind === 'desired') {
      const parsed = parseCell(cell)
      if (parsed.error !== undefined) { fail(`column ${col.name} ${parsed.error}`); return }
      if (parsed.value === undefined) return
      if (col.path.length === 0) {
        if (!isObject(parsed.value)) { fail(`column ${col.name} must hold a JSON object`); return }
        if (col.kind === 'tags') tags = { ...tags, ...parsed.value }
        else desired = { ...desired, ...parsed.value }
        return
      }
      if (col.kind === 'tags') setPath(tags ??= {}, col.path, parsed.value)
      else setPath(desired ??= {}, col.path, parsed.value)
      return
    }
    const value = cell.trim()
    if (value === '') return
    switch (col.name) {
      case 'id': item['id'] = value; break
      case 'moduleId': item['moduleId'] = value; break
      case 'statusReason': item['statusReason'] = cell; break
      case 'status':
        if (value.toLowerCase() !== 'enabled' && value.toLowerCase() !== 'disabled') fail(`status must be enabled or disabled, not '${value}'`)
        else item['status'] = value.toLowerCase()
        break
      case 'authType': {
        const type = AUTH_TYPES.find((t) => t.toLowerCase() === value.toLowerCase())
        if (type === undefined) fail(`authType must be one of ${AUTH_TYPES.join(', ')}, not '${value}'`)
        else auth.type = type
        break
      }
      case 'primaryKey': case 'secondaryKey':
        (auth.symmetricKey ??= {})[col.name] = value
        break
      case 'primaryThumbprint': case 'secondaryThumbprint': {
        const thumb = normalizeThumbprint(value)
        if (thumb === null) fail(`${col.name} must be 40 or 64 hex digits (a SHA-1 or SHA-256 thumbprint), not '${value}'`)
        else (auth.x509Thumbprint ??= {})[col.name] = thumb
        break
      }
      case 'edge': {
        const flag = Object.hasOwn(BOOLEAN_WORDS, value.toLowerCase()) ? BOOLEAN_WORDS[value.toLowerCase()] : undefined
        if (flag === undefined) fail(`edge must be true or false, not '${value}'`)
        else item['capabilities'] = { iotEdge: flag }
        break
      }
      case 'importMode': {
        const mode = modeName(value)
        if (mode === undefined) fail(`unknown importMode '${value}' (use one of ${MODE_NAMES.join(', ')})`)
        else item['importMode'] = mode
        break
      }
    }
  })
  if (auth.symmetricKey !== undefined && auth.x509Thumbprint !== undefined) {
    fail('give either keys (primaryKey, secondaryKey) or thumbprints (primaryThumbprint, secondaryThumbprint), not both')
  } else if (auth.type !== undefined || auth.symmetricKey !== undefined || auth.x509Thumbprint !== undefined) {
    item['authentication'] = auth
  }
  if (tags !== undefined) item['tags'] = tags
  if (desired !== undefined) item['properties'] = { desired }
  return item
}

function parseCsvFile (text: string, errors: RowError[]): Array<{ line: number; item: Record<string, unknown> | undefined }> {
  const { records, fatal } = parseCsv(text)
  if (fatal !== undefined) errors.push(fatal)
  const nonBlank = records.filter((r) => r.fields.some((f) => f.trim() !== ''))
  const header = nonBlank[0]
  if (header === undefined) return []
  const cols = parseHeader(header.fields, header.line, errors)
  return nonBlank.slice(1).map((rec) => {
    const rowErrors: string[] = []
    const fail = (message: string): void => { rowErrors.push(message) }
    if (rec.error !== undefined) fail(rec.error)
    if (rec.fields.length !== cols.length) fail(`the row has ${rec.fields.length} fields but the header has ${cols.length} columns`)
    const item = csvItem(cols, rec, fail)
    if (rowErrors.length > 0) {
      const id = typeof item['id'] === 'string' ? item['id'] : undefined
      for (const message of rowErrors) errors.push(id === undefined ? { line: rec.line, message } : { line: rec.line, id, message })
      return { line: rec.line, item: undefined }
    }
    return { line: rec.line, item }
  })
}

// ---------------------------------------------------------------------------------------------
// JSON lines.

function parseJsonLines (input: string, errors: RowError[]): Array<{ line: number; item: Record<string, unknown> | undefined }> {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  const out: Array<{ line: number; item: Record<string, unknown> | undefined }> = []
  const lines = text.split('\n')
  lines.forEach((raw, idx) => {
    const src = raw.trim()
    if (src === '') return
    const line = idx + 1
    let value: unknown
    try {
      value = JSON.parse(src)
    } catch (err) {
      const hint = idx === 0 && src === '[' ? ' (the file looks like a JSON array; write one JSON object per line instead)' : ''
      errors.push({ line, message: `bad JSON: ${(err as Error).message}${hint}` })
      out.push({ line, item: undefined })
      return
    }
    if (!isObject(value)) {
      errors.push({ line, message: 'each line must be one JSON object (an ExportImportDevice, as in devices.txt)' })
      out.push({ line, item: undefined })
      return
    }
    const mode = value['importMode']
    if (mode !== undefined && (typeof mode !== 'string' || modeName(mode) === undefined)) {
      const id = typeof value['id'] === 'string' ? value['id'] : undefined
      const message = `unknown importMode '${String(mode)}' (use one of ${MODE_NAMES.join(', ')})`
      errors.push(id === undefined ? { line, message } : { line, id, message })
      out.push({ line, item: undefined })
      return
    }
    out.push({ line, item: value })
  })
  return out
}

// ---------------------------------------------------------------------------------------------

/** Parses and checks a whole import file. `defaultMode` applies to rows without an importMode. */
export function parseImportFile (text: string, format: FileFormat, defaultMode: string): ParsedFile {
  const errors: RowError[] = []
  const parsed = format === 'csv' ? parseCsvFile(text, errors) : parseJsonLines(text, errors)
  const rows: ImportRow[] = []
  const firstLine = new Map<string, number>()
  for (const { line, item } of parsed) {
    if (item === undefined) continue
    const deviceId = item['id'] ?? item['deviceId']
    if (deviceId === undefined || deviceId === '') { errors.push({ line, message: 'missing id' }); continue }
    if (typeof deviceId !== 'string') { errors.push({ line, message: 'the id must be a string' }); continue }
    const moduleId = item['moduleId']
    if (moduleId !== undefined && typeof moduleId !== 'string') { errors.push({ line, id: deviceId, message: 'the moduleId must be a string' }); continue }
    const idError = validateId(deviceId) ?? (moduleId === undefined ? null : validateId(moduleId, 'module id'))
    if (idError !== null) { errors.push({ line, id: deviceId, message: idError.message }); continue }
    const id = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`
    const first = firstLine.get(id)
    if (first !== undefined) { errors.push({ line, id, message: `duplicate id ${id} in the file (first on line ${first})` }); continue }
    firstLine.set(id, line)
    if (Buffer.byteLength(JSON.stringify(item)) > MAX_ITEM_BYTES) {
      errors.push({ line, id, message: `the row is larger than ${MAX_ITEM_BYTES / 1024} KiB` })
      continue
    }
    const mode = typeof item['importMode'] === 'string' ? modeName(item['importMode']) : modeName(defaultMode)
    rows.push({ line, id, mode: mode ?? defaultMode, item })
  }
  errors.sort((a, b) => a.line - b.line)
  return { rows, errors }
}
