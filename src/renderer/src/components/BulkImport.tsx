import { useState } from 'react'
import { useStore } from 'zustand'
import { parseImport, type ImportRow } from '../lib/import'
import type { ProvisioningStore } from '../state/provisioning'

export function BulkImport ({ prov }: { prov: ProvisioningStore }) {
  const [text, setText] = useState('')
  const { importing, results } = useStore(prov.store)
  const rows: ImportRow[] = parseImport(text)
  const good = rows.filter(r => r.problem === undefined)
  const withKeys = good.filter(r => r.primaryKey !== undefined || r.secondaryKey !== undefined).length

  function readFile (file: File | undefined): void {
    if (file === undefined) return
    void file.text().then(t => { setText(t); prov.clearResults() })
  }

  return (
    <section className="panel" aria-labelledby="bulk-h">
      <h2 id="bulk-h">Add many devices</h2>
      <p className="small muted">
        CSV with a header (<code className="mono">deviceId,status,tags.site</code>; also <code className="mono">statusReason</code>, <code className="mono">primaryKey</code>, <code className="mono">secondaryKey</code>, <code className="mono">desired.&lt;name&gt;</code>) or JSON lines (<code className="mono">{'{"deviceId": "press-3", "tags": {"site": "hall-2"}}'}</code>).
        Files exported below (or by <code className="mono">sitehub device export</code>) import as they are. Nothing is added until you confirm.
      </p>
      <label className="field"><span>File</span><input type="file" accept=".csv,.jsonl,.json,.txt" data-testid="import-file" onChange={e => { readFile(e.target.files?.[0]) }} /></label>
      <label className="field"><span>…or paste</span>
        <textarea className="mono" rows={5} value={text} data-testid="import-text" onChange={e => { setText(e.target.value); prov.clearResults() }} />
      </label>
      {rows.length > 0 && (
        <>
          <p data-testid="import-summary">{good.length} of {rows.length} rows can be added{rows.length > good.length ? '; fix or drop the others' : ''}.{withKeys > 0 ? ` ${withKeys} keep the keys from the file.` : ''}</p>
          <div className="table-scroll">
            <table className="results" data-testid="import-preview">
              <thead><tr><th>Line</th><th>Device</th><th>Status</th><th>Tags</th><th>Desired</th><th>Keys</th><th>Check</th></tr></thead>
              <tbody>
                {rows.slice(0, 500).map(r => (
                  <tr key={r.line} data-testid="import-row" data-ok={r.problem === undefined}>
                    <td>{r.line}</td><td className="mono">{r.deviceId}</td><td>{r.status}</td>
                    <td className="mono">{r.tags === undefined ? '' : JSON.stringify(r.tags)}</td>
                    <td className="mono">{r.desired === undefined ? '' : JSON.stringify(r.desired)}</td>
                    <td>{r.primaryKey !== undefined || r.secondaryKey !== undefined ? 'from file' : 'new'}</td>
                    <td className={r.problem === undefined ? '' : 'field-error'}>{r.problem ?? 'ok'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {rows.length > 500 && <p className="small muted">The first 500 of {rows.length} rows are shown; all are checked.</p>}
          </div>
          <button className="button primary" data-testid="import-run" disabled={importing || good.length === 0} onClick={() => { void prov.importRows(rows) }}>
            {importing ? `Adding… (${results.length}/${good.length})` : `Add ${good.length} device${good.length === 1 ? '' : 's'}`}
          </button>
        </>
      )}
      {results.length > 0 && (
        <ul className="calls" data-testid="import-results">
          {results.map(o => <li key={o.line} className={o.ok ? '' : 'failed'} data-ok={o.ok}>line {o.line}: {o.message}</li>)}
        </ul>
      )}
    </section>
  )
}
