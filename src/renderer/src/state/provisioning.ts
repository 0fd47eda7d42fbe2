// Provisioning: device export (a file in the formats the import reads) and bulk import in
// batches with one outcome per row. No DOM here: the screen saves the file (lib/download.ts).
import { createStore } from 'zustand/vanilla'
import type { ExportFile, HubApi, HubErrorInfo } from '../../../shared/contract/index'
import { toImportInputs, type ImportRow } from '../lib/import'
import { plainMessage } from '../lib/plain-errors'

export interface ImportResult { line: number; deviceId: string; ok: boolean; message: string }

export interface ProvisioningState {
  exporting: boolean
  exportError: HubErrorInfo | undefined
  /** The last export (without its content, which went to the file). */
  lastExport: Omit<ExportFile, 'content'> | undefined
  importing: boolean
  results: ImportResult[]
}

/** Rows per devices.import call: small enough for the UI socket's 1 MB frames, big enough to be quick. */
export const IMPORT_BATCH = 100

export function createProvisioningStore (api: HubApi) {
  const store = createStore<ProvisioningState>()(() => ({ exporting: false, exportError: undefined, lastExport: undefined, importing: false, results: [] }))

  /** Asks the hub for the file; `save` gets it (the screen downloads it). */
  async function exportDevices (opts: { format: 'csv' | 'jsonl'; includeKeys: boolean; query: string }, save: (f: ExportFile) => void): Promise<void> {
    store.setState({ exporting: true, exportError: undefined })
    const r = await api.call('devices.export', { format: opts.format, includeKeys: opts.includeKeys, ...(opts.query.trim() === '' ? {} : { query: opts.query.trim() }) })
    if (!r.ok) { store.setState({ exporting: false, exportError: r.error }); return }
    save(r.value)
    const { content: _c, ...info } = r.value
    store.setState({ exporting: false, lastExport: info })
  }

  /** Imports the good rows in batches; results appear as each batch answers. */
  async function importRows (rows: ImportRow[]): Promise<void> {
    const good = rows.filter(r => r.problem === undefined)
    store.setState({ importing: true, results: [] })
    const results: ImportResult[] = []
    for (let i = 0; i < good.length; i += IMPORT_BATCH) {
      const batch = good.slice(i, i + IMPORT_BATCH)
      const r = await api.call('devices.import', { rows: toImportInputs(batch) })
      batch.forEach((row, k) => {
        const o = r.ok ? r.value[k] : undefined
        const e = r.ok ? o?.error : r.error
        results.push(o?.ok === true
          ? { line: row.line, deviceId: row.deviceId, ok: true, message: `${row.deviceId} added` }
          : { line: row.line, deviceId: row.deviceId, ok: false, message: e === undefined ? `${row.deviceId}: no answer` : `${row.deviceId}: ${plainMessage(e)} (${e.name} ${e.code})` })
      })
      store.setState({ results: [...results] })
    }
    store.setState({ importing: false })
  }

  function clearResults (): void { store.setState({ results: [] }) }

  return { store, exportDevices, importRows, clearResults }
}

export type ProvisioningStore = ReturnType<typeof createProvisioningStore>
