// `sitehub device import|export FILE`: bulk device files in JSON lines (devices.txt, C.2) or CSV.
// The whole file is checked before anything is applied; rows then go to the hub in batches
// (registry.importItems), through the admin socket when the hub runs.
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { stringOpt, type CommandSpec, type OptionValues } from '../args.js'
import { dataDirOf, dataDirOption } from '../common.js'
import { CliError, UsageError } from '../errors.js'
import { withHub } from '../hub-access.js'
import type { CliIo } from '../io.js'
import type { FileFormat, ImportRow, ParsedFile, RowError } from '../device-file.js'
import type { JsonObject } from '../../hub/types.js'

const fileArg = { name: 'file', description: 'the device file: .csv, or JSON lines (.jsonl, .json, .txt)' }
const formatOption = { type: 'string' as const, value: 'FORMAT', description: 'csv or jsonl (default: from the file extension)' }
const MODES = ['create', 'createOrUpdate', 'update', 'delete'] as const

/** Rows per registry.importItems call (the hub takes up to 500): small enough for steady progress. */
const BATCH_ROWS = 100
/** Request lines are capped at 1 MiB; keep batches well under. */
const BATCH_BYTES = 512 * 1024
const PROGRESS_ROWS = 500
const PROGRESS_MS = 1000

function formatOf (values: OptionValues, file: string, command: string): FileFormat {
  const given = stringOpt(values, 'format')
  if (given !== undefined) {
    const f = given.toLowerCase()
    if (f === 'csv' || f === 'jsonl') return f
    throw new UsageError(`--format must be csv or jsonl, not '${given}'`, command)
  }
  const ext = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase()
  if (ext === 'csv') return 'csv'
  if (ext === 'jsonl' || ext === 'json' || ext === 'txt' || ext === 'ndjson') return 'jsonl'
  throw new UsageError(`cannot tell the format of '${basename(file)}' from its name; add --format csv or --format jsonl`, command)
}

/** An id as printed: JSON-quoted when it holds line breaks or other control characters. */
const shown = (id: string): string => (/[\u0000-\u001f]/.test(id) ? JSON.stringify(id) : id)
const where = (e: { line: number; id?: string }): string => `line ${e.line}${e.id === undefined ? '' : ` (${shown(e.id)})`}`

function errorLines (errors: RowError[]): string[] {
  return errors.map((e) => `  ${where(e)}: ${e.message}`)
}

function modeCounts (rows: ImportRow[]): string {
  const counts = new Map<string, number>()
  for (const r of rows) counts.set(r.mode, (counts.get(r.mode) ?? 0) + 1)
  return [...counts].map(([m, n]) => `${m} ${n}`).join(', ')
}

function preview (file: string, parsed: ParsedFile): string {
  const { rows, errors } = parsed
  const lines = [`${file}: ${rows.length} valid row${rows.length === 1 ? '' : 's'}${rows.length > 0 ? ` (${modeCounts(rows)})` : ''}, ${errors.length} error${errors.length === 1 ? '' : 's'}`]
  if (errors.length > 0) lines.push('Errors:', ...errorLines(errors))
  lines.push('Dry run: nothing was changed.')
  return lines.join('\n')
}

async function readInput (file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new CliError(`cannot read ${file}: there is no such file`)
    if (code === 'EISDIR') throw new CliError(`cannot read ${file}: it is a folder`)
    throw err
  }
}

/** Cuts the rows into batches by count and size. */
function batches (rows: ImportRow[]): ImportRow[][] {
  const out: ImportRow[][] = []
  let current: ImportRow[] = []
  let bytes = 0
  for (const row of rows) {
    const size = Buffer.byteLength(JSON.stringify(row.item))
    if (current.length > 0 && (current.length >= BATCH_ROWS || bytes + size > BATCH_BYTES)) { out.push(current); current = []; bytes = 0 }
    current.push(row)
    bytes += size
  }
  if (current.length > 0) out.push(current)
  return out
}

interface Failure { line: number; id: string; name: string; code: number; message: string }

function summary (imported: number, failures: Failure[], stopped: boolean): string {
  const lines = [`imported ${imported}, failed ${failures.length}${stopped ? ' (the import stopped early; rows after these were not tried)' : ''}`]
  for (const f of failures) lines.push(`  line ${f.line} (${shown(f.id)}): ${f.name} (${f.code}): ${f.message}`)
  return lines.join('\n')
}

async function applyRows (dataDir: string, rows: ImportRow[], mode: string, io: CliIo): Promise<number> {
  return await withHub(dataDir, async (hub) => {
    const failures: Failure[] = []
    let imported = 0
    let done = 0
    let lastPrint = Date.now()
    let lastPrintRows = 0
    const showProgress = rows.length > PROGRESS_ROWS
    try {
      for (const batch of batches(rows)) {
        const res = await hub.call('registry.importItems', { items: batch.map((r) => r.item), mode })
        imported += res.imported
        for (const e of res.errors) {
          const row = batch[e.index]
          failures.push({ line: row?.line ?? 0, id: row?.id ?? '?', name: e.name, code: e.code, message: e.message })
        }
        done += batch.length
        const now = Date.now()
        if (showProgress && done < rows.length && (done - lastPrintRows >= PROGRESS_ROWS || now - lastPrint >= PROGRESS_MS)) {
          io.err(`importing: ${done}/${rows.length} rows (${Math.floor((done / rows.length) * 100)}%), ${failures.length} failed`)
          lastPrint = now
          lastPrintRows = done
        }
      }
    } catch (err) {
      io.out(summary(imported, failures, true))
      throw err
    }
    io.out(summary(imported, failures, false))
    return failures.length === 0 ? 0 : 1
  })
}

const importCommand: CommandSpec = {
  path: 'device import',
  summary: 'Create, update or delete devices from a CSV or JSON lines file.',
  description: [
    'The whole file is checked first; if any row is bad, every bad row is listed with its line',
    'number and nothing is changed. Then the rows are applied one by one; a row that fails (the',
    'device already exists...) is listed at the end and the others still apply. Exit status: 0',
    'when every row was imported, 1 when the file has errors or any row failed (rows already',
    'applied stay applied), 2 for usage errors. More in docs/cli.md.',
    '',
    'JSON lines: one ExportImportDevice object per line, as in an IoT Hub devices.txt',
    '(id, importMode, status, authentication, tags, properties.desired...).',
    '',
    'CSV: a header row, then one device per row. Columns (only id is required):',
    '  id, status (enabled/disabled), statusReason, authType (sas, selfSigned,',
    '  certificateAuthority, none; guessed from the keys or thumbprints when left out),',
    '  primaryKey, secondaryKey, primaryThumbprint, secondaryThumbprint, edge (true/false),',
    '  importMode (per row, overrides --mode), moduleId,',
    '  tags.<path> and desired.<path>: dotted paths build nested objects. Cells holding',
    '  numbers, true, false, null or {...}/[...] JSON are read as JSON, anything else as text',
    '  (to keep 42 as text, write it as a JSON string: """42""" in the file). An empty cell',
    '  sets nothing.',
    'Fields with commas, quotes or line breaks go in double quotes ("" for a quote).',
    '',
    'Example CSV:',
    '  id,status,edge,tags.site,tags.line.number,desired.telemetryInterval',
    '  pump-7,enabled,false,Plant 2,4,30',
    '  "press,12",disabled,true,"Plant 2, hall B",5,60'
  ].join('\n'),
  args: [fileArg],
  options: {
    'data-dir': dataDirOption,
    format: formatOption,
    mode: { type: 'string', value: 'MODE', description: `importMode for rows without one: ${MODES.join(', ')}`, default: 'createOrUpdate' },
    'dry-run': { type: 'boolean', description: 'check the file and show what would be done, change nothing' }
  },
  examples: [
    'sitehub device import devices.csv --dry-run',
    'sitehub device import devices.csv --mode create',
    'sitehub device import devices.txt --format jsonl'
  ],
  async run ({ values, args, io }) {
    const file = resolve(args[0] ?? '')
    const format = formatOf(values, file, 'device import')
    const modeGiven = stringOpt(values, 'mode') ?? 'createOrUpdate'
    const mode = MODES.find((m) => m.toLowerCase() === modeGiven.toLowerCase())
    if (mode === undefined) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, not '${modeGiven}'`, 'device import')
    const text = await readInput(file)
    const { parseImportFile } = await import('../device-file.js')
    const parsed = parseImportFile(text, format, mode)
    if (values['dry-run'] === true) {
      io.out(preview(file, parsed))
      return parsed.errors.length === 0 ? 0 : 1
    }
    if (parsed.errors.length > 0) {
      const n = parsed.errors.length
      io.err([`${file} has ${n} error${n === 1 ? '' : 's'}; nothing was imported:`, ...errorLines(parsed.errors),
        'Fix these rows and run the import again (--dry-run checks a file without changing anything).'].join('\n'))
      return 1
    }
    if (parsed.rows.length === 0) {
      io.out('imported 0, failed 0 (the file has no device rows)')
      return 0
    }
    return await applyRows(dataDirOf(values), parsed.rows, mode, io)
  }
}

/** Every identity of the hub, page by page. */
async function exportAll (dataDir: string, excludeKeys: boolean): Promise<JsonObject[]> {
  return await withHub(dataDir, async (hub) => {
    const items: JsonObject[] = []
    let after: string | undefined
    for (;;) {
      const page = await hub.call('registry.exportItems', after === undefined ? { excludeKeys } : { after, excludeKeys })
      items.push(...page.items)
      if (page.next === null) return items
      after = page.next
    }
  })
}

/** Writes next to the target, then renames: a reader never sees half a file. */
async function writeAtomically (file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  try {
    await writeFile(tmp, text, { mode: 0o600 })
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new CliError(`cannot write ${file}: the folder ${dirname(file)} does not exist`)
    throw err
  }
}

const exportCommand: CommandSpec = {
  path: 'device export',
  summary: 'Write every device (keys, status, tags, desired properties) to a CSV or JSON lines file.',
  description: [
    'JSON lines is the IoT Hub devices.txt format (one ExportImportDevice per line). CSV has the',
    "columns 'sitehub device import' reads, with tags and desired properties as dotted columns",
    '(tags.site, desired.telemetryInterval...). Both import back with \'sitehub device import\'.',
    'The file holds device keys unless --exclude-keys is given: it is created readable by you only.'
  ].join('\n'),
  args: [fileArg],
  options: {
    'data-dir': dataDirOption,
    format: formatOption,
    'exclude-keys': { type: 'boolean', description: 'leave the symmetric keys out (an import then generates new ones)' }
  },
  examples: ['sitehub device export devices.csv', 'sitehub device export backup.jsonl --exclude-keys'],
  async run ({ values, args, io }) {
    const file = resolve(args[0] ?? '')
    const format = formatOf(values, file, 'device export')
    const excludeKeys = values['exclude-keys'] === true
    const items = await exportAll(dataDirOf(values), excludeKeys)
    const { toCsv, toJsonLines } = await import('../device-file.js')
    await writeAtomically(file, format === 'csv' ? toCsv(items) : toJsonLines(items))
    const modules = items.filter((i) => typeof i['moduleId'] === 'string').length
    const devices = items.length - modules
    io.out(`exported ${devices} device${devices === 1 ? '' : 's'}${modules > 0 ? ` and ${modules} module${modules === 1 ? '' : 's'}` : ''} to ${file}`)
    return 0
  }
}

export const deviceIoCommands: CommandSpec[] = [importCommand, exportCommand]
