import { useState } from 'react'
import { useStore } from 'zustand'
import { ErrorNote } from './ErrorNote'
import { downloadText } from '../lib/download'
import type { ProvisioningStore } from '../state/provisioning'

/** Export devices as a file the bulk import (and `sitehub device import`) reads back. */
export function ExportDevices ({ prov }: { prov: ProvisioningStore }) {
  const { exporting, exportError, lastExport } = useStore(prov.store)
  const [format, setFormat] = useState<'csv' | 'jsonl'>('csv')
  const [includeKeys, setIncludeKeys] = useState(false)
  const [query, setQuery] = useState('')
  return (
    <section className="panel" aria-labelledby="export-h">
      <h2 id="export-h">Export devices</h2>
      <p className="small muted">A file with each device's id, status, tags and desired properties, in the same format the import above reads: to move devices to another hub, or to keep a copy.</p>
      <div className="row wrap">
        <label className="radio"><input type="radio" name="export-format" checked={format === 'csv'} data-testid="export-csv" onChange={() => { setFormat('csv') }} /> CSV (spreadsheets)</label>
        <label className="radio"><input type="radio" name="export-format" checked={format === 'jsonl'} data-testid="export-jsonl" onChange={() => { setFormat('jsonl') }} /> JSON lines (IoT Hub devices.txt)</label>
      </div>
      <label className="field">
        <span>Only devices matching (optional query condition, e.g. <code className="mono">tags.site = 'hall-2'</code>)</span>
        <input className="mono" value={query} data-testid="export-query" onChange={e => { setQuery(e.target.value) }} />
      </label>
      <label className="radio"><input type="checkbox" checked={includeKeys} data-testid="export-keys" onChange={e => { setIncludeKeys(e.target.checked) }} /> Include the devices' keys</label>
      {includeKeys && (
        <p className="note warn export-warning" data-testid="export-keys-warning" role="alert">
          Anyone holding this file can connect as these devices. Keep it like a password: do not e-mail it, delete it once it is imported.
          Without keys, imported devices get new keys and each needs its new connection string.
        </p>
      )}
      {exportError !== undefined && <ErrorNote error={exportError} />}
      <div className="row">
        <button className="button primary" data-testid="export-run" disabled={exporting}
          onClick={() => { void prov.exportDevices({ format, includeKeys, query }, f => { downloadText(f.fileName, f.mimeType, f.content) }) }}>
          {exporting ? 'Exporting…' : includeKeys ? 'Download with keys' : 'Download'}
        </button>
        {lastExport !== undefined && <span className="small" data-testid="export-done">Saved {lastExport.fileName}: {lastExport.devices} device{lastExport.devices === 1 ? '' : 's'}{lastExport.withKeys ? ', with keys' : ', without keys'}.</span>}
      </div>
    </section>
  )
}
