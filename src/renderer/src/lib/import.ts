// Bulk import: CSV (header row: deviceId or id, optional status, statusReason, primaryKey,
// secondaryKey, tags.<path> and desired.<path> columns) or JSON lines ({deviceId, status?, tags?}
// per line, or IoT Hub's ExportImportDevice lines {id, status, authentication, tags,
// properties.desired}). These are also the files the export writes (the UI's and
// `sitehub device export`), so an export imports back unchanged. Every row is checked before
// anything is sent, so the preview can show each bad row with its reason.
import { DEVICE_ID, type JsonObject, type JsonValue, type MethodInput } from '../../../shared/contract/index'

export interface ImportRow {
  /** 1-based line in the input. */
  line: number
  deviceId: string
  status: 'enabled' | 'disabled'
  tags: JsonObject | undefined
  /** Why this row cannot be imported; undefined = fine. */
  problem: string | undefined
  statusReason?: string | undefined
  desired?: JsonObject | undefined
  primaryKey?: string | undefined
  secondaryKey?: string | undefined
}

/** Splits one CSV line (RFC 4180 quotes, "" inside quotes); unquoted fields are trimmed. */
export function csvFields (line: string): string[] {
  return csvRecords(line)[0]?.fields ?? ['']
}

/** CSV records (RFC 4180): quoted fields may hold commas, quotes ("") and line breaks. */
export function csvRecords (text: string): Array<{ line: number; fields: string[] }> {
  const out: Array<{ line: number; fields: string[] }> = []
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  let line = 1
  let i = 0
  while (i < src.length) {
    const start = line
    const fields: string[] = []
    for (;;) {
      let field = ''
      let quoted = false
      while (i < src.length && (src[i] === ' ' || src[i] === '\t')) field += src[i++]
      if (src[i] === '"') {
        quoted = true
        field = ''
        i++
        while (i < src.length) {
          const c = src[i]
          if (c === '"' && src[i + 1] === '"') { field += '"'; i += 2; continue }
          if (c === '"') { i++; break }
          if (c === '\n') line++
          field += c
          i++
        }
      }
      while (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') field += src[i++]
      fields.push(quoted ? field.replace(/[ \t]+$/, '') : field.trim())
      if (src[i] === ',') { i++; continue }
      if (src[i] === '\r') i++
      if (src[i] === '\n') i++
      line++
      break
    }
    out.push({ line: start, fields })
  }
  return out
}

const NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

/**
 * A tags/desired cell as a JSON value (the rules of `sitehub device import`): empty = not set;
 * true, false, null and plainly written numbers are JSON; {...} and [...] must be valid JSON;
 * "..." is a JSON string (to force text: "42"); anything else is text.
 */
export function parseCell (cell: string): { value?: JsonValue; error?: string } {
  if (cell === '') return {}
  if (cell === 'true' || cell === 'false' || cell === 'null') return { value: JSON.parse(cell) as JsonValue }
  if (NUMBER_RE.test(cell)) {
    const n = Number(cell)
    return Number.isFinite(n) && String(n) === cell ? { value: n } : { value: cell }
  }
  if (cell.startsWith('{') || cell.startsWith('[')) {
    try { return { value: JSON.parse(cell) as JsonValue } } catch (e) { return { error: `is not valid JSON (${(e as Error).message})` } }
  }
  if (cell.startsWith('"')) {
    try {
      const v = JSON.parse(cell) as unknown
      if (typeof v === 'string') return { value: v }
    } catch { /* text that starts with a quote */ }
  }
  return { value: cell }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

function setPath (root: JsonObject, path: string[], value: JsonValue): void {
  let cur = root
  for (const [i, seg] of path.entries()) {
    if (i === path.length - 1) { cur[seg] = value; return }
    const next = cur[seg]
    if (!isObject(next)) cur[seg] = {}
    cur = cur[seg] as JsonObject
  }
}

/** Twin sections as exported carry $metadata/$version: not data to write back. */
function clean (o: Record<string, unknown>): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(o)) if (!k.startsWith('$')) out[k] = v as JsonValue
  return out
}

function check (row: Omit<ImportRow, 'problem'> & { problem?: string | undefined }, seen: Set<string>): ImportRow {
  let problem = row.problem
  if (problem === undefined && row.deviceId === '') problem = 'No deviceId'
  if (problem === undefined && !DEVICE_ID.test(row.deviceId)) problem = `"${row.deviceId}" is not a valid device id (letters, digits and - . + % _ # * ? ! ( ) , : = @ $ ', up to 128)`
  if (problem === undefined && seen.has(row.deviceId)) problem = `"${row.deviceId}" appears twice in this file`
  seen.add(row.deviceId)
  const out: ImportRow = { line: row.line, deviceId: row.deviceId, status: row.status, tags: row.tags, problem }
  if (row.statusReason !== undefined) out.statusReason = row.statusReason
  if (row.desired !== undefined) out.desired = row.desired
  if (row.primaryKey !== undefined) out.primaryKey = row.primaryKey
  if (row.secondaryKey !== undefined) out.secondaryKey = row.secondaryKey
  return out
}

const NOT_HERE = 'add it with `sitehub device import`'

function jsonLine (l: string, n: number, seen: Set<string>): ImportRow {
  const none = { line: n, deviceId: '', status: 'enabled' as const, tags: undefined }
  let v: unknown
  try { v = JSON.parse(l) } catch { return check({ ...none, problem: 'Not valid JSON' }, seen) }
  if (!isObject(v)) return check({ ...none, problem: 'Each line must be a JSON object' }, seen)
  const id = v['deviceId'] ?? v['id']
  const status = v['status'] === undefined || v['status'] === null ? 'enabled' : v['status']
  const tags = v['tags']
  const props = v['properties']
  const desired = v['desired'] ?? (isObject(props) ? props['desired'] : undefined)
  const auth = isObject(v['authentication']) ? v['authentication'] : {}
  const sk = isObject(auth['symmetricKey']) ? auth['symmetricKey'] : {}
  const caps = isObject(v['capabilities']) ? v['capabilities'] : {}
  const key = (k: unknown): string | undefined => (typeof k === 'string' && k !== '' ? k : undefined)
  const bad = status !== 'enabled' && status !== 'disabled' ? 'status must be enabled or disabled'
    : tags !== undefined && tags !== null && !isObject(tags) ? 'tags must be an object'
      : desired !== undefined && desired !== null && !isObject(desired) ? 'desired properties must be an object'
        : typeof v['moduleId'] === 'string' ? `This line is a module: ${NOT_HERE}`
          : auth['type'] !== undefined && auth['type'] !== 'sas' ? `Authentication ${String(auth['type'])} is not SAS keys: ${NOT_HERE}`
            : caps['iotEdge'] === true ? `IoT Edge devices: ${NOT_HERE}`
              : typeof v['importMode'] === 'string' && v['importMode'].toLowerCase() !== 'create' && v['importMode'].toLowerCase() !== 'createorupdate' ? `importMode ${v['importMode']}: this screen only adds devices; ${NOT_HERE}`
                : undefined
  const tagsObj = isObject(tags) && Object.keys(clean(tags)).length > 0 ? clean(tags) : undefined
  const desiredObj = isObject(desired) && Object.keys(clean(desired)).length > 0 ? clean(desired) : undefined
  return check({
    line: n,
    deviceId: typeof id === 'string' ? id : '',
    status: status === 'disabled' ? 'disabled' : 'enabled',
    tags: tagsObj,
    ...(typeof v['statusReason'] === 'string' && v['statusReason'] !== '' ? { statusReason: v['statusReason'] } : {}),
    ...(desiredObj === undefined ? {} : { desired: desiredObj }),
    ...(key(sk['primaryKey']) === undefined ? {} : { primaryKey: key(sk['primaryKey']) }),
    ...(key(sk['secondaryKey']) === undefined ? {} : { secondaryKey: key(sk['secondaryKey']) }),
    ...(bad === undefined ? {} : { problem: bad })
  }, seen)
}

const FIXED = ['deviceid', 'id', 'status', 'statusreason', 'authtype', 'primarykey', 'secondarykey', 'primarythumbprint', 'secondarythumbprint', 'edge', 'moduleid', 'importmode']

export function parseImport (text: string): ImportRow[] {
  const seen = new Set<string>()
  const firstLine = text.split(/\r?\n/).map(l => l.trim()).find(l => l !== '' && !l.startsWith('#'))
  if (firstLine === undefined) return []
  if (firstLine.startsWith('{')) {
    return text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), n: i + 1 })).filter(x => x.l !== '' && !x.l.startsWith('#')).map(({ l, n }) => jsonLine(l, n, seen))
  }
  const records = csvRecords(text).filter(r => !(r.fields.length === 1 && r.fields[0] === '') && !(r.fields[0] ?? '').startsWith('#'))
  const headerRec = records[0]
  const header = headerRec?.fields ?? []
  const lower = header.map(h => h.toLowerCase())
  const idCol = lower.indexOf('deviceid') >= 0 ? lower.indexOf('deviceid') : lower.indexOf('id')
  const headerLine = headerRec?.line ?? 1
  const headerProblem = (problem: string): ImportRow[] => [{ line: headerLine, deviceId: '', status: 'enabled', tags: undefined, problem }]
  if (idCol < 0) return headerProblem('The first line must be a header with a deviceId column (e.g. deviceId,status,tags.site)')
  const unknown = header.find((h, i) => !FIXED.includes(lower[i] ?? '') && !/^(tags|desired)(\.[^.]+)*$/i.test(h))
  if (unknown !== undefined) return headerProblem(`Unknown column "${unknown}" (columns: deviceId, status, statusReason, primaryKey, secondaryKey, tags.<name>, desired.<name>)`)
  const col = (name: string): number => lower.indexOf(name)
  return records.slice(1).map(({ line, fields }) => {
    const cell = (name: string): string => { const c = col(name); return c < 0 ? '' : fields[c] ?? '' }
    const tags: JsonObject = {}
    const desired: JsonObject = {}
    let problem: string | undefined
    header.forEach((h, i) => {
      const m = /^(tags|desired)((?:\.[^.]+)*)$/i.exec(h)
      if (m === null || fields[i] === undefined || fields[i] === '') return
      const parsed = parseCell(fields[i] ?? '')
      if (parsed.error !== undefined) { problem ??= `${h} ${parsed.error}`; return }
      if (parsed.value === undefined) return
      const path = (m[2] ?? '').split('.').filter(p => p !== '')
      const target = (m[1] ?? '').toLowerCase() === 'tags' ? tags : desired
      if (path.length === 0) {
        if (!isObject(parsed.value)) { problem ??= `${h} must be a JSON object`; return }
        Object.assign(target, parsed.value)
      } else setPath(target, path, parsed.value)
    })
    const status = cell('status') === '' ? 'enabled' : cell('status')
    const auth = cell('authtype')
    problem ??= status !== 'enabled' && status !== 'disabled' ? `status must be enabled or disabled, not "${status}"`
      : cell('moduleid') !== '' ? `This row is a module: ${NOT_HERE}`
        : auth !== '' && auth !== 'sas' ? `Authentication ${auth} is not SAS keys: ${NOT_HERE}`
          : cell('edge') === 'true' ? `IoT Edge devices: ${NOT_HERE}`
            : undefined
    return check({
      line,
      deviceId: fields[idCol] ?? '',
      status: status === 'disabled' ? 'disabled' : 'enabled',
      tags: Object.keys(tags).length > 0 ? tags : undefined,
      ...(cell('statusreason') === '' ? {} : { statusReason: cell('statusreason') }),
      ...(Object.keys(desired).length > 0 ? { desired } : {}),
      ...(cell('primarykey') === '' ? {} : { primaryKey: cell('primarykey') }),
      ...(cell('secondarykey') === '' ? {} : { secondaryKey: cell('secondarykey') }),
      ...(problem === undefined ? {} : { problem })
    }, seen)
  })
}

export type ImportInput = MethodInput<'devices.import'>['rows'][number]

/** The good rows as `devices.import` rows. */
export function toImportInputs (rows: ImportRow[]): ImportInput[] {
  return rows.filter(r => r.problem === undefined).map(r => ({
    deviceId: r.deviceId,
    status: r.status,
    ...(r.statusReason === undefined ? {} : { statusReason: r.statusReason }),
    ...(r.tags === undefined ? {} : { tags: r.tags }),
    ...(r.desired === undefined ? {} : { desired: r.desired }),
    ...(r.primaryKey === undefined ? {} : { primaryKey: r.primaryKey }),
    ...(r.secondaryKey === undefined ? {} : { secondaryKey: r.secondaryKey })
  }))
}
