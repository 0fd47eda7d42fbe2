// The audit log: who did what, when, to which device, and whether it worked; filters by
// user, method, device, outcome and time; a selected entry shows its before/after as a diff.
import { useCallback, useEffect, useState } from 'react'
import { ROLE_LABELS, type AuditEntry, type HubApi, type HubErrorInfo } from '../../../shared/contract/index'
import { ErrorNote } from '../components/ErrorNote'
import { diffRows } from '../lib/audit-diff'
import { ago } from '../lib/time'
import './auth.css'

interface Filters { user: string; method: string; deviceId: string; outcome: '' | 'ok' | 'error'; from: string; to: string }

const PAGE = 50
/** datetime-local text (local time) to ISO, or undefined. */
const iso = (local: string): string | undefined => (local === '' ? undefined : new Date(local).toISOString())

export function Audit ({ api, initialDeviceId = '', initialUser = '' }: { api: HubApi; initialDeviceId?: string; initialUser?: string }) {
  const [filters, setFilters] = useState<Filters>({ user: initialUser, method: '', deviceId: initialDeviceId, outcome: '', from: '', to: '' })
  const [applied, setApplied] = useState(filters)
  const [items, setItems] = useState<AuditEntry[]>([])
  const [total, setTotal] = useState<number | undefined>()
  const [next, setNext] = useState<number | null>(null)
  const [selected, setSelected] = useState<AuditEntry | undefined>()
  const [error, setError] = useState<HubErrorInfo | undefined>()

  const load = useCallback(async (f: Filters, beforeSeq?: number) => {
    const r = await api.call('audit.list', {
      limit: PAGE,
      ...(f.user.trim() === '' ? {} : { user: f.user.trim() }),
      ...(f.method.trim() === '' ? {} : { method: f.method.trim() }),
      ...(f.deviceId.trim() === '' ? {} : { deviceId: f.deviceId.trim() }),
      ...(f.outcome === '' ? {} : { outcome: f.outcome }),
      ...(iso(f.from) === undefined ? {} : { from: iso(f.from) as string }),
      ...(iso(f.to) === undefined ? {} : { to: iso(f.to) as string }),
      ...(beforeSeq === undefined ? {} : { beforeSeq })
    })
    if (!r.ok) { setError(r.error); return }
    setError(undefined)
    setItems(prev => (beforeSeq === undefined ? r.value.items : [...prev, ...r.value.items]))
    setTotal(r.value.total)
    setNext(r.value.next)
    if (beforeSeq === undefined) setSelected(s => r.value.items.find(e => e.seq === s?.seq) ?? r.value.items[0])
  }, [api])
  useEffect(() => { void load(applied) }, [load, applied])

  const set = (k: keyof Filters) => (e: { target: { value: string } }) => { setFilters({ ...filters, [k]: e.target.value }) }
  return (
    <section aria-labelledby="audit-h" className="audit">
      <div className="toolbar">
        <h1 id="audit-h">Audit log</h1>
        <button className="button" data-testid="audit-refresh" onClick={() => { void load(applied) }}>Refresh</button>
      </div>
      <form className="panel filters" data-testid="audit-filters" onSubmit={e => { e.preventDefault(); setApplied(filters) }}>
        <label className="field grow"><span>User</span><input value={filters.user} data-testid="audit-user" onChange={set('user')} /></label>
        <label className="field grow"><span>What (e.g. twins. or devices.create)</span><input value={filters.method} data-testid="audit-method" onChange={set('method')} /></label>
        <label className="field grow"><span>Device</span><input value={filters.deviceId} data-testid="audit-device" onChange={set('deviceId')} /></label>
        <label className="field"><span>Outcome</span>
          <select value={filters.outcome} data-testid="audit-outcome" onChange={set('outcome')}>
            <option value="">All</option><option value="ok">Done</option><option value="error">Refused or failed</option>
          </select></label>
        <label className="field"><span>From</span><input type="datetime-local" value={filters.from} onChange={set('from')} /></label>
        <label className="field"><span>To</span><input type="datetime-local" value={filters.to} onChange={set('to')} /></label>
        <button className="button primary" type="submit" data-testid="audit-apply">Filter</button>
      </form>
      {error !== undefined && <ErrorNote error={error} />}
      {total === 0
        ? <p className="note teach" data-testid="audit-empty">No entries{applied.user + applied.method + applied.deviceId + applied.outcome + applied.from + applied.to !== '' ? ' match these filters' : ' yet: changes made in the UI (desired properties, methods, jobs, accounts…) appear here'}.</p>
        : (
          <div className="audit-layout">
            <div className="panel">
              <p className="muted" data-testid="audit-total">{total === undefined ? '…' : `${total} ${total === 1 ? 'entry' : 'entries'}`}</p>
              <table className="table" data-testid="audit-table">
                <thead><tr><th>When</th><th>Who</th><th>What</th><th>Target</th><th>Outcome</th></tr></thead>
                <tbody>
                  {items.map(e => (
                    <tr key={e.seq} className="selectable" tabIndex={0} aria-selected={selected?.seq === e.seq} data-testid="audit-row" data-method={e.method}
                      onClick={() => { setSelected(e) }} onKeyDown={k => { if (k.key === 'Enter' || k.key === ' ') { k.preventDefault(); setSelected(e) } }}>
                      <td title={e.at}>{ago(e.at)}</td>
                      <td>{e.user}{e.role !== null && <span className="muted"> · {ROLE_LABELS[e.role]}</span>}</td>
                      <td className="mono">{e.method}</td>
                      <td className="mono">{e.target?.id ?? ''}</td>
                      <td>{e.outcome === 'ok' ? <span className="pill good">done</span> : <span className="pill warn" title={e.error?.message}>{e.error?.name ?? 'failed'}</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {next !== null && <button className="button" data-testid="audit-more" onClick={() => { void load(applied, next) }}>Older entries</button>}
            </div>
            {selected !== undefined && <AuditDetail entry={selected} />}
          </div>
          )}
    </section>
  )
}

function AuditDetail ({ entry }: { entry: AuditEntry }) {
  const rows = diffRows(entry.before, entry.after)
  return (
    <div className="panel" data-testid="audit-detail" aria-label="Selected entry">
      <h2 className="mono">{entry.method}</h2>
      <dl className="facts">
        <dt>When</dt><dd>{new Date(entry.at).toLocaleString()}</dd>
        <dt>Who</dt><dd>{entry.user}{entry.role !== null ? ` (${ROLE_LABELS[entry.role]})` : ''} from {entry.address}</dd>
        {entry.target !== null && <><dt>Target</dt><dd>{entry.target.kind} <span className="mono">{entry.target.id}</span></dd></>}
        <dt>Outcome</dt><dd>{entry.outcome === 'ok' ? 'Done' : `${entry.error?.message ?? 'Failed'} (${entry.error?.name ?? ''} ${entry.error?.code ?? ''})`}</dd>
      </dl>
      <h3>Before and after</h3>
      {rows.length === 0
        ? <p className="muted">This call has no recorded state.</p>
        : (
          <table className="diff" data-testid="audit-diff">
            <thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead>
            <tbody>
              {rows.map(r => (
                <tr key={r.path} className={r.change} data-change={r.change}>
                  <td className="mono">{r.path}</td>
                  <td className={`mono${r.change === 'same' ? '' : ' changed-before'}`}>{r.before ?? '—'}</td>
                  <td className={`mono${r.change === 'same' ? '' : ' changed-after'}`}>{r.after ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
      <h3>Input</h3>
      <pre className="mono wrap">{JSON.stringify(entry.input, null, 2)}</pre>
    </div>
  )
}
