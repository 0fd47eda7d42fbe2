// Bulk import: CSV (header row: deviceId, optional status, any tags.<name> columns) or JSON
// lines ({deviceId, status?, tags?} per line). Every row is checked before anything is sent,
// so the preview can show each bad row with its reason.
import { DEVICE_ID, type JsonObject, type JsonValue } from '../../../shared/contract/index'

export interface ImportRow {
  /** 1-based line in the input. */
  line: number
  deviceId: string
  status: 'enabled' | 'disabled'
  tags: JsonObject | undefined
  /** Why this row cannot be imported; undefined = fine. */
  problem: string | undefined
}

/** Splits one CSV line (RFC 4180 quotes, "" inside quotes). */
export function csvFields (line: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++ } else if (c === '"') quoted = false
      else cur += c
    } else if (c === '"') quoted = true
    else if (c === ',') { out.push(cur); cur = '' } else cur += c
  }
  out.push(cur)
  return out.map(f => f.trim())
}

function scalar (text: string): JsonValue {
  if (text === 'true' || text === 'false') return text === 'true'
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text)
  return text
}

function check (row: Omit<ImportRow, 'problem'> & { problem?: string }, seen: Set<string>): ImportRow {
  let problem = row.problem
  if (problem === undefined && row.deviceId === '') problem = 'No deviceId'
  if (problem === undefined && !DEVICE_ID.test(row.deviceId)) problem = `"${row.deviceId}" is not a valid device id (letters, digits and - . + % _ # * ? ! ( ) , : = @ $ ', up to 128)`
  if (problem === undefined && seen.has(row.deviceId)) problem = `"${row.deviceId}" appears twice in this file`
  seen.add(row.deviceId)
  return { ...row, problem }
}

export function parseImport (text: string): ImportRow[] {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), n: i + 1 })).filter(x => x.l !== '' && !x.l.startsWith('#'))
  if (lines.length === 0) return []
  const seen = new Set<string>()
  if (lines[0]?.l.startsWith('{') === true) {
    return lines.map(({ l, n }) => {
      let v: unknown
      try { v = JSON.parse(l) } catch { return check({ line: n, deviceId: '', status: 'enabled', tags: undefined, problem: 'Not valid JSON' }, seen) }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return check({ line: n, deviceId: '', status: 'enabled', tags: undefined, problem: 'Each line must be a JSON object' }, seen)
      const o = v as Record<string, unknown>
      const status = o['status'] === undefined ? 'enabled' : o['status']
      const tags = o['tags']
      const bad = status !== 'enabled' && status !== 'disabled' ? 'status must be enabled or disabled'
        : tags !== undefined && (tags === null || typeof tags !== 'object' || Array.isArray(tags)) ? 'tags must be an object' : undefined
      return check({ line: n, deviceId: typeof o['deviceId'] === 'string' ? o['deviceId'] : '', status: status === 'disabled' ? 'disabled' : 'enabled', tags: tags as JsonObject | undefined, ...(bad === undefined ? {} : { problem: bad }) }, seen)
    })
  }
  const header = csvFields(lines[0]?.l ?? '')
  const idCol = header.indexOf('deviceId')
  if (idCol < 0) return [{ line: lines[0]?.n ?? 1, deviceId: '', status: 'enabled', tags: undefined, problem: 'The first line must be a header with a deviceId column (e.g. deviceId,status,tags.site)' }]
  const statusCol = header.indexOf('status')
  return lines.slice(1).map(({ l, n }) => {
    const f = csvFields(l)
    const tags: JsonObject = {}
    header.forEach((h, i) => { if (h.startsWith('tags.') && f[i] !== undefined && f[i] !== '') tags[h.slice(5)] = scalar(f[i] ?? '') })
    const status = statusCol < 0 || (f[statusCol] ?? '') === '' ? 'enabled' : f[statusCol]
    const bad = status !== 'enabled' && status !== 'disabled' ? `status must be enabled or disabled, not "${status ?? ''}"` : undefined
    return check({ line: n, deviceId: f[idCol] ?? '', status: status === 'disabled' ? 'disabled' : 'enabled', tags: Object.keys(tags).length > 0 ? tags : undefined, ...(bad === undefined ? {} : { problem: bad }) }, seen)
  })
}
