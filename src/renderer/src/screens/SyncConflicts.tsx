// Conflict review (#/sync/conflicts): open conflicts (device, kind, when, who changed what),
// and for the chosen one a three-way field view (path | base | site | cloud) with a choice per
// field (keep cloud / keep site / edit a value) or "keep all" of one side; registry
// conflicts in words with what each choice does. Resolving needs the link online.
import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { HubErrorInfo, SyncChange, SyncConflictView, SyncFieldChoice } from '../../../shared/contract/index'
import { useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { conflictRows, conflictWords, fieldLabel, parseEdited, resolutionOf, showValue, whoWords, type FieldRow } from '../lib/sync'
import { ago } from '../lib/time'
import type { SyncStore } from '../state/sync'
import './sync.css'

const KIND_WORDS: Record<string, string> = { desired: 'Desired properties', tags: 'Tags', registry: 'Identity', localDeleted: 'Deleted at the site' }

export function SyncConflicts ({ sync, selectedId, deviceId, navigate }: { sync: SyncStore; selectedId: string | undefined; deviceId: string | undefined; navigate: (hash: string) => void }) {
  useEffect(() => sync.start(), [sync])
  const { conflicts, conflictsLoaded, resolved, status, error } = useStore(sync.store)
  const selected = conflicts.find(c => c.id === selectedId) ?? conflicts.find(c => c.deviceId === deviceId) ?? conflicts[0]
  const online = status?.state === 'online' || status?.state === 'degraded'
  return (
    <section aria-labelledby="conflicts-h">
      <div className="toolbar">
        <h1 id="conflicts-h">Sync conflicts <small className="muted" data-testid="conflict-count">{conflicts.length}</small></h1>
        <a className="button" href="#/sync">Back to cloud sync</a>
      </div>
      <p className="muted">The site and the cloud both changed the same thing while they could not talk. Nothing was overwritten: decide here which value stays.</p>
      {error !== undefined && <ErrorNote error={error} />}
      {status !== undefined && !online && conflicts.length > 0 &&
        <p className="note warn" data-testid="conflicts-offline">The link to the cloud is {status.state}: you can review conflicts now, and resolve them once it is online again (both sides are written).</p>}
      {conflictsLoaded && conflicts.length === 0 && <p className="note good" data-testid="conflicts-empty">No conflicts: the site and the cloud agree on everything they both changed.</p>}
      {conflicts.length > 0 &&
        <div className="conflicts-layout">
          <ul className="conflict-list" data-testid="conflict-list">
            {conflicts.map(c => (
              <li key={c.id}>
                <a href={`#/sync/conflicts?id=${encodeURIComponent(c.id)}`} aria-current={c === selected} data-testid="conflict-item" data-id={c.id}>
                  <strong className="mono">{c.deviceId}</strong> · {KIND_WORDS[c.kind] ?? c.kind}<br />
                  <small className="muted">{c.fields.join(', ')} · detected {ago(c.detectedAt)}</small>
                </a>
              </li>
            ))}
          </ul>
          {selected !== undefined && <ConflictDetail key={selected.id} sync={sync} conflict={selected} online={online} navigate={navigate} />}
        </div>}
      {resolved.length > 0 &&
        <>
          <h2>Recently ended</h2>
          <table className="results" data-testid="resolved-list">
            <thead><tr><th>Device</th><th>What</th><th>Outcome</th><th>Values kept</th><th>When</th></tr></thead>
            <tbody>
              {resolved.slice(0, 50).map(r => (
                <tr key={`${r.id}|${r.clearedAt}`} data-testid="resolved" data-id={r.id}>
                  <td className="mono">{r.deviceId}</td>
                  <td>{KIND_WORDS[r.kind] ?? r.kind}: {r.fields.join(', ')}</td>
                  <td>{r.outcome === 'converged' ? 'Both sides came to agree' : `${r.decision === 'cloud' ? "Cloud's values kept" : r.decision === 'local' ? "Site's values kept" : 'Decided field by field'} by ${whoWords(r.by) ?? 'someone'}`}</td>
                  <td className="mono small">{Object.entries(r.applied).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')}</td>
                  <td>{ago(r.clearedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>}
    </section>
  )
}

function Who ({ change, side }: { change: SyncChange; side: string }) {
  const by = whoWords(change.by)
  if (change.at === null && (by === null || side === 'cloud')) return null
  return <span className="who" data-testid={`who-${side}`}>changed {change.at !== null ? ago(change.at) : ''}{by !== null && side !== 'cloud' ? ` by ${by}` : ''}</span>
}

function ConflictDetail ({ sync, conflict: c, online, navigate }: { sync: SyncStore; conflict: SyncConflictView; online: boolean; navigate: (hash: string) => void }) {
  const may = useCan('sync.resolve')
  const words = conflictWords(c)
  const rows = conflictRows(c)
  const fieldLevel = c.kind === 'desired' || c.kind === 'tags'
  const [choices, setChoices] = useState<Record<string, SyncFieldChoice | undefined>>({})
  const [edits, setEdits] = useState<Record<string, string>>({})
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const resolution = resolutionOf(c, choices)
  const all = (side: 'cloud' | 'local'): void => { setChoices(Object.fromEntries(c.fields.map(f => [f, side]))) }
  const pick = (path: string, ch: SyncFieldChoice): void => { setChoices(s => ({ ...s, [path]: ch })) }

  async function apply (): Promise<void> {
    if (resolution === undefined) return
    setBusy(true)
    const err = await sync.resolve(c.id, resolution)
    setBusy(false)
    setError(err)
    if (err === undefined) navigate('#/sync/conflicts')
  }

  const summary = resolution === undefined
    ? (fieldLevel && c.perField ? `Choose a value for every field (${c.fields.filter(f => choices[f] === undefined).length} left), or keep all of one side.` : 'Choose which side to keep.')
    : resolution === 'cloud' ? (fieldLevel ? 'Keep the cloud\'s value for every field: the site takes them (its devices are told).' : words.keepCloud)
      : resolution === 'local' ? (fieldLevel ? 'Keep the site\'s value for every field: they are written to the cloud.' : words.keepLocal)
        : `Field by field: ${Object.entries(resolution.fields).map(([f, v]) => `${f} = ${v === 'cloud' ? 'cloud' : v === 'local' ? 'site' : JSON.stringify(v.value)}`).join(', ')}.`

  return (
    <div className="panel" data-testid="conflict-detail" data-id={c.id} data-kind={c.kind}>
      <h2>{words.title}</h2>
      <p>{words.detail}</p>
      <p className="small muted">Detected {ago(c.detectedAt)} ({new Date(c.detectedAt).toLocaleString()}). <a href={`#/devices/${encodeURIComponent(c.deviceId)}`}>Open {c.deviceId}</a></p>
      {c.autoResolveAt !== null && c.autoResolution !== null &&
        <p className="note" data-testid="auto-resolve">If nobody decides, the default policy keeps the {c.autoResolution === 'cloud' ? "cloud's" : "site's"} values {Date.parse(c.autoResolveAt) <= Date.now() ? 'as soon as the link is online' : `on ${new Date(c.autoResolveAt).toLocaleString()}`}.</p>}
      {c.resolving && <p className="note warn" data-testid="resolving">A decision is being applied to both sides.</p>}
      {rows.length > 0 && !(c.kind === 'registry' && c.fields.some(f => f.startsWith('deleted'))) && c.kind !== 'localDeleted' &&
        <table className="threeway" data-testid="threeway">
          <thead><tr><th>Field</th><th>Last agreed</th><th>Site (here)</th><th>Cloud</th>{fieldLevel && c.perField && <th>Keep</th>}</tr></thead>
          <tbody>
            {rows.map(r => <FieldLine key={r.path} row={r} label={fieldLabel(c.kind, r.path)} choice={choices[r.path]} perField={fieldLevel && c.perField} edit={edits[r.path] ?? ''}
              onPick={ch => { pick(r.path, ch) }} onEdit={t => { setEdits(s => ({ ...s, [r.path]: t })); pick(r.path, { value: parseEdited(t) }) }} />)}
          </tbody>
        </table>}
      {fieldLevel && !c.perField && <p className="small muted">This hub resolves a conflict by keeping one side for all its fields.</p>}
      <div className="row wrap">
        <button type="button" className="button" aria-pressed={resolution === 'cloud'} data-testid="keep-all-cloud" onClick={() => { all('cloud') }}>{words.keepCloud}</button>
        <button type="button" className="button" aria-pressed={resolution === 'local'} data-testid="keep-all-local" onClick={() => { all('local') }}>{words.keepLocal}</button>
      </div>
      <p data-testid="resolve-summary">{summary}</p>
      <div className="row wrap">
        <button type="button" className="button primary" disabled={resolution === undefined || busy || !online || !may.ok} title={may.ok ? undefined : may.reason} data-testid="resolve-apply" onClick={() => { void apply() }}>Resolve</button>
        {!online && <span className="muted">Needs the link to the cloud online.</span>}
        {!may.ok && <span className="muted" data-testid="not-allowed">{may.reason}.</span>}
        {busy && <span className="muted">Writing both sides…</span>}
      </div>
      {error !== undefined && <ErrorNote error={error} />}
    </div>
  )
}

function FieldLine ({ row: r, label, choice, perField, edit, onPick, onEdit }: {
  row: FieldRow; label: string; choice: SyncFieldChoice | undefined; perField: boolean; edit: string; onPick: (c: SyncFieldChoice) => void; onEdit: (text: string) => void
}) {
  const name = `choice-${r.path}`
  return (
    <tr data-testid="tw-row" data-path={r.path}>
      <td className={label === r.path ? 'mono' : ''}>{label}</td>
      <td className="mono" data-testid="tw-base">{showValue(r.base)}</td>
      <td className={`mono${choice === 'local' ? ' picked' : ''}`} data-testid="tw-local">{showValue(r.local)}<Who change={r.localChange} side="local" /></td>
      <td className={`mono${choice === 'cloud' ? ' picked' : ''}`} data-testid="tw-cloud">{showValue(r.cloud)}<Who change={r.cloudChange} side="cloud" /></td>
      {perField &&
        <td className="choice">
          <label className="radio"><input type="radio" name={name} checked={choice === 'local'} data-testid="choice-local" onChange={() => { onPick('local') }} />Site</label>
          <label className="radio"><input type="radio" name={name} checked={choice === 'cloud'} data-testid="choice-cloud" onChange={() => { onPick('cloud') }} />Cloud</label>
          <label className="radio"><input type="radio" name={name} checked={typeof choice === 'object'} data-testid="choice-edit" onChange={() => { onEdit(edit === '' ? showValue(r.cloud ?? r.local) : edit) }} />Other:</label>
          {typeof choice === 'object' && <input type="text" className="mono" aria-label={`Value for ${r.path} (JSON or text)`} value={edit} data-testid="choice-value" onChange={e => { onEdit(e.target.value) }} />}
        </td>}
    </tr>
  )
}
