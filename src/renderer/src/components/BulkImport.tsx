import { useState } from 'react'
import type { HubApi } from '../../../shared/contract/index'
import { parseImport, type ImportRow } from '../lib/import'
import { plainMessage } from '../lib/plain-errors'

type Outcome = { line: number; ok: boolean; message: string }

export function BulkImport ({ api }: { api: HubApi }) {
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [outcomes, setOutcomes] = useState<Outcome[]>([])
  const rows: ImportRow[] = parseImport(text)
  const good = rows.filter(r => r.problem === undefined)

  async function run (): Promise<void> {
    setBusy(true)
    const out: Outcome[] = []
    for (const r of good) {
      const res = await api.call('devices.create', { deviceId: r.deviceId, status: r.status, ...(r.tags === undefined ? {} : { tags: r.tags }) })
      out.push({ line: r.line, ok: res.ok, message: res.ok ? `${r.deviceId} added` : `${r.deviceId}: ${plainMessage(res.error)} (${res.error.name} ${res.error.code})` })
      setOutcomes([...out])
    }
    setBusy(false)
  }

  function readFile (file: File | undefined): void {
    if (file === undefined) return
    void file.text().then(t => { setText(t); setOutcomes([]) })
  }

  return (
    <section className="panel" aria-labelledby="bulk-h">
      <h2 id="bulk-h">Add many devices</h2>
      <p className="small muted">CSV with a header (<code className="mono">deviceId,status,tags.site</code>) or JSON lines (<code className="mono">{'{"deviceId": "press-3", "tags": {"site": "hall-2"}}'}</code>). Nothing is added until you confirm.</p>
      <label className="field"><span>File</span><input type="file" accept=".csv,.jsonl,.json,.txt" onChange={e => { readFile(e.target.files?.[0]) }} /></label>
      <label className="field"><span>…or paste</span>
        <textarea className="mono" rows={5} value={text} data-testid="import-text" onChange={e => { setText(e.target.value); setOutcomes([]) }} />
      </label>
      {rows.length > 0 && (
        <>
          <p data-testid="import-summary">{good.length} of {rows.length} rows can be added{rows.length > good.length ? '; fix or drop the others' : ''}.</p>
          <table className="results" data-testid="import-preview">
            <thead><tr><th>Line</th><th>Device</th><th>Status</th><th>Tags</th><th>Check</th></tr></thead>
            <tbody>
              {rows.map(r => (
                <tr key={r.line} data-testid="import-row" data-ok={r.problem === undefined}>
                  <td>{r.line}</td><td className="mono">{r.deviceId}</td><td>{r.status}</td>
                  <td className="mono">{r.tags === undefined ? '' : JSON.stringify(r.tags)}</td>
                  <td className={r.problem === undefined ? '' : 'field-error'}>{r.problem ?? 'ok'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button className="button primary" data-testid="import-run" disabled={busy || good.length === 0} onClick={() => { void run() }}>
            {busy ? `Adding… (${outcomes.length}/${good.length})` : `Add ${good.length} device${good.length === 1 ? '' : 's'}`}
          </button>
        </>
      )}
      {outcomes.length > 0 && (
        <ul className="calls" data-testid="import-results">
          {outcomes.map(o => <li key={o.line} className={o.ok ? '' : 'failed'} data-ok={o.ok}>line {o.line}: {o.message}</li>)}
        </ul>
      )}
    </section>
  )
}
