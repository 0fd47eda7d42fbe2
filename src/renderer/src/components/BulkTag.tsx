// Bulk "tag" on the selected devices: set a tag (or a nested one, location.hall) to a value, or
// remove it; a confirmation naming the change and the device count; then progress and one
// outcome per device (failures listed with the reason).
import { useState } from 'react'
import { useStore } from 'zustand'
import { plainMessage } from '../lib/plain-errors'
import { parseTagValue, tagNameProblem, type BulkTagStore } from '../state/bulk-tag'

export function BulkTag ({ bulk, deviceIds, onClose }: { bulk: BulkTagStore; deviceIds: string[]; onClose: () => void }) {
  const s = useStore(bulk.store)
  const [tag, setTag] = useState('')
  const [mode, setMode] = useState<'set' | 'remove'>('set')
  const [raw, setRaw] = useState('')
  const [confirming, setConfirming] = useState(false)
  const [showAll, setShowAll] = useState(false)
  const nameProblem = tagNameProblem(tag)
  const value = mode === 'set' ? parseTagValue(raw) : undefined
  const ready = nameProblem === undefined && (mode === 'remove' || value?.ok === true)
  const n = deviceIds.length
  const what = mode === 'remove' ? `Remove the tag ${tag.trim()}` : `Set ${tag.trim()} to ${value?.ok === true ? JSON.stringify(value.value) : ''}`
  const finished = !s.running && s.total > 0

  return (
    <section className="panel bulk-tag" aria-labelledby="bulk-tag-h" data-testid="bulk-tag">
      <h2 id="bulk-tag-h">Tag {n} device{n === 1 ? '' : 's'}</h2>
      {!s.running && !finished && (
        <form onSubmit={e => { e.preventDefault(); if (ready) setConfirming(true) }}>
          <div className="row wrap">
            <label className="radio"><input type="radio" checked={mode === 'set'} onChange={() => { setMode('set'); setConfirming(false) }} /> Set a tag</label>
            <label className="radio"><input type="radio" checked={mode === 'remove'} data-testid="bulk-tag-remove" onChange={() => { setMode('remove'); setConfirming(false) }} /> Remove a tag</label>
          </div>
          <div className="row wrap">
            <label className="field grow"><span>Tag</span>
              <input className="mono" value={tag} autoFocus data-testid="bulk-tag-name" placeholder="e.g. site or location.hall" aria-invalid={tag !== '' && nameProblem !== undefined}
                onChange={e => { setTag(e.target.value); setConfirming(false) }} />
            </label>
            {mode === 'set' && (
              <label className="field grow"><span>Value {value?.ok === true && <small className="muted" data-testid="bulk-tag-type">({value.type})</small>}</span>
                <input className="mono" value={raw} data-testid="bulk-tag-value" placeholder="e.g. hall-2, 3, true" aria-invalid={raw !== '' && value?.ok === false}
                  onChange={e => { setRaw(e.target.value); setConfirming(false) }} />
              </label>
            )}
          </div>
          {tag !== '' && nameProblem !== undefined && <p className="field-error">{nameProblem}</p>}
          {mode === 'set' && raw !== '' && value?.ok === false && <p className="field-error">{value.message}</p>}
          {!confirming && (
            <div className="row">
              <button type="submit" className="button primary" data-testid="bulk-tag-next" disabled={!ready}>Review…</button>
              <button type="button" className="button" onClick={onClose}>Cancel</button>
            </div>
          )}
        </form>
      )}
      {confirming && !s.running && !finished && (
        <div className="note warn" role="alertdialog" aria-label="Confirm tag change">
          <p data-testid="bulk-tag-summary">{what} on {n} device{n === 1 ? '' : 's'}? Each device's twin tags change now; devices see no message.</p>
          <div className="row">
            <button type="button" className="button primary" autoFocus data-testid="bulk-tag-confirm"
              onClick={() => { setConfirming(false); void bulk.run(deviceIds, tag.trim(), mode === 'remove' || value?.ok !== true ? undefined : value.value) }}>
              {mode === 'remove' ? 'Remove' : 'Set'} on {n} device{n === 1 ? '' : 's'}
            </button>
            <button type="button" className="button" onClick={() => { setConfirming(false) }}>Back</button>
          </div>
        </div>
      )}
      {(s.running || finished) && (
        <div data-testid="bulk-tag-progress" data-done={s.done} data-total={s.total} data-running={s.running}>
          <p>{s.label}: {s.running ? `${s.done} of ${s.total} devices…` : 'done.'}</p>
          <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={s.total} aria-valuenow={s.done} aria-label="Tagging progress">
            <div className={s.failed > 0 ? 'progress-bad' : 'progress-ok'} style={{ width: `${s.total === 0 ? 0 : Math.round((100 * s.done) / s.total)}%` }} />
          </div>
          <p data-testid="bulk-tag-result"><strong>{s.succeeded}</strong> changed · <strong>{s.failed}</strong> failed</p>
          {s.failed > 0 && (
            <ul className="outcomes" data-testid="bulk-tag-failures">
              {s.outcomes.map(o => o.ok
                ? null
                : <li key={o.deviceId} data-testid="bulk-tag-failure" data-id={o.deviceId}><span className="mono">{o.deviceId}</span>: {plainMessage(o.error)} <small className="muted">{o.error.name} {o.error.code}</small></li>)}
            </ul>
          )}
          {showAll && (
            <ul className="outcomes" data-testid="bulk-tag-outcomes">
              {s.outcomes.map(o => (
                <li key={o.deviceId} data-testid="bulk-tag-outcome" data-id={o.deviceId} data-ok={o.ok}>
                  <span aria-hidden="true">{o.ok ? '✓ ' : '✗ '}</span><span className="mono">{o.deviceId}</span>{o.ok ? ' changed' : `: ${plainMessage(o.error)}`}
                </li>
              ))}
            </ul>
          )}
          {finished && (
            <div className="row">
              <button type="button" className="button" data-testid="bulk-tag-show-all" onClick={() => { setShowAll(!showAll) }}>{showAll ? 'Hide the list' : `List every device (${s.outcomes.length})`}</button>
              <button type="button" className="button" data-testid="bulk-tag-close" onClick={() => { bulk.reset(); onClose() }}>Close</button>
            </div>
          )}
        </div>
      )}
    </section>
  )
}
