import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { ConfigurationView, HubErrorInfo } from '../../../shared/contract/index'
import { IfCan, NotAllowed, useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { ago } from '../lib/time'
import { parsePatch } from '../state/device-detail'
import {
  contentToDesired, desiredToContent, labelsText, parseLabels, type ConfigurationsStore
} from '../state/configurations'
import './ops.css'

/** What the create form starts from: empty, or a duplicate of an existing configuration. */
interface Prefill { id: string; target: string; priority: number; desired: string; labels: string; metrics: MetricRow[] }
interface MetricRow { name: string; query: string }

const EMPTY: Prefill = { id: '', target: '', priority: 0, desired: '', labels: '', metrics: [] }

export function Configurations ({ configs }: { configs: ConfigurationsStore }) {
  useEffect(() => configs.start(), [configs])
  const { items, loaded, error } = useStore(configs.store)
  const [actionError, setActionError] = useState<HubErrorInfo | undefined>()
  const [prefill, setPrefill] = useState<{ n: number; p: Prefill }>({ n: 0, p: EMPTY })
  function duplicate (c: ConfigurationView): void {
    setPrefill(s => ({
      n: s.n + 1,
      p: {
        id: `${c.id}-v2`, target: c.targetCondition, priority: c.priority, desired: JSON.stringify(contentToDesired(c.content), null, 1),
        labels: labelsText(c.labels), metrics: Object.entries(c.metricQueries).map(([name, query]) => ({ name, query }))
      }
    }))
    document.getElementById('cfg-new')?.scrollIntoView({ behavior: 'smooth' })
  }
  return (
    <section aria-labelledby="cfg-page-h">
      <h1 id="cfg-page-h">Configurations</h1>
      <p className="muted">A configuration keeps desired properties set on every device its condition matches, now and as devices join. The highest priority wins where two overlap. Custom metrics count devices with a query of your own (e.g. those that report the new setting).</p>
      <IfCan method="configurations.create" fallback={<NotAllowed method="configurations.create" what="Creating configurations" />}>
        <NewConfiguration key={prefill.n} configs={configs} prefill={prefill.p} duplicate={prefill.n > 0} />
      </IfCan>
      {error !== undefined && <ErrorNote error={error} />}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      {loaded && items.length === 0 && <p className="note teach" data-testid="configs-page-empty">No configurations yet. Create one above, e.g. target <code className="mono">tags.site = 'hall-2'</code> with <code className="mono">{'{"telemetryInterval": 30}'}</code>.</p>}
      <ul className="jobs" data-testid="config-list">
        {items.map(c => <ConfigItem key={c.id} c={c} configs={configs} onDuplicate={duplicate} onError={setActionError} />)}
      </ul>
    </section>
  )
}

function ConfigItem ({ c, configs, onDuplicate, onError }: { c: ConfigurationView; configs: ConfigurationsStore; onDuplicate: (c: ConfigurationView) => void; onError: (e: HubErrorInfo | undefined) => void }) {
  const [editing, setEditing] = useState(false)
  const canEdit = useCan('configurations.update')
  const canCreate = useCan('configurations.create')
  const canRemove = useCan('configurations.remove')
  const labels = Object.entries(c.labels)
  return (
    <li className="panel" data-testid="config" data-id={c.id} data-applied={c.applied} data-targeted={c.targeted} data-priority={c.priority}>
      <div className="row wrap">
        <strong className="mono">{c.id}</strong>
        <small className="muted">priority {c.priority} · created {ago(c.createdTime)}{c.lastUpdatedTime !== c.createdTime ? ` · changed ${ago(c.lastUpdatedTime)}` : ''}</small>
        {labels.length > 0 && <span className="labels" data-testid="config-labels">{labels.map(([k, v]) => <span key={k} className="label-chip">{k}={v}</span>)}</span>}
        <span className="grow" />
        <button className="button" data-testid="config-edit" aria-expanded={editing} disabled={!canEdit.ok} title={canEdit.reason} onClick={() => { setEditing(!editing) }}>{editing ? 'Close' : 'Edit'}</button>
        <button className="button" data-testid="config-duplicate" disabled={!canCreate.ok} title={canCreate.reason} onClick={() => { onDuplicate(c) }}>Duplicate</button>
        <button className="button danger" disabled={!canRemove.ok} title={canRemove.reason} onClick={() => { void configs.remove(c.id).then(onError) }}>Delete</button>
      </div>
      <p className="small">Targets <code className="mono">{c.targetCondition === '' ? '(nothing)' : c.targetCondition}</code> · sets <code className="mono">{JSON.stringify(contentToDesired(c.content))}</code></p>
      <div className="progress" role="progressbar" aria-label={`${c.id} applied`} aria-valuemin={0} aria-valuemax={c.targeted} aria-valuenow={c.applied}>
        <div className="progress-ok" style={{ width: `${c.targeted === 0 ? 0 : (c.applied / c.targeted) * 100}%` }} />
      </div>
      <small data-testid="config-counts">{c.applied} applied of {c.targeted} targeted</small>
      {Object.keys(c.metricQueries).length > 0 && (
        <ul className="metric-list small" data-testid="config-metrics">
          {Object.entries(c.metricQueries).map(([name, q]) => (
            <li key={name} data-testid="config-metric" data-name={name} data-count={c.metrics[name] ?? 0}>
              <strong>{name}: {c.metrics[name] ?? 0}</strong> <code className="mono muted">{q}</code>
            </li>
          ))}
        </ul>
      )}
      {editing && <EditConfiguration c={c} configs={configs} onDone={() => { setEditing(false) }} onDuplicate={() => { onDuplicate(c) }} />}
    </li>
  )
}

function MetricsEditor ({ rows, onChange }: { rows: MetricRow[]; onChange: (rows: MetricRow[]) => void }) {
  return (
    <fieldset className="plan-box">
      <legend>Custom metrics (up to 5)</legend>
      {rows.length > 0 && (
        <div className="metric-rows">
          {rows.map((m, i) => (
            <div key={i} style={{ display: 'contents' }}>
              <input aria-label={`Metric ${i + 1} name`} placeholder="name" value={m.name} data-testid="metric-name" onChange={e => { onChange(rows.map((r, j) => (j === i ? { ...r, name: e.target.value.trim() } : r))) }} />
              <input className="mono" aria-label={`Metric ${i + 1} query`} placeholder="SELECT deviceId FROM devices WHERE properties.reported.mode = 'eco'" value={m.query} data-testid="metric-query"
                onChange={e => { onChange(rows.map((r, j) => (j === i ? { ...r, query: e.target.value } : r))) }} />
              <button type="button" className="button ghost" aria-label={`Remove metric ${m.name}`} onClick={() => { onChange(rows.filter((_, j) => j !== i)) }}>Remove</button>
            </div>
          ))}
        </div>
      )}
      {rows.length < 5 && <button type="button" className="button" data-testid="metric-add" onClick={() => { onChange([...rows, { name: '', query: '' }]) }}>Add a metric</button>}
      <p className="small muted">Each metric counts the devices its query returns, e.g. <code className="mono">SELECT deviceId FROM devices WHERE properties.reported.telemetryInterval = 30</code>.</p>
    </fieldset>
  )
}

function metricsOf (rows: MetricRow[]): { ok: true; value: Record<string, string> } | { ok: false; message: string } {
  const value: Record<string, string> = {}
  for (const r of rows) {
    if (r.name === '' && r.query.trim() === '') continue
    if (!/^[A-Za-z0-9\-_.]{1,128}$/.test(r.name)) return { ok: false, message: `Metric name "${r.name}": letters, digits, - _ . only` }
    if (r.query.trim() === '') return { ok: false, message: `Metric ${r.name} needs a query` }
    if (r.name in value) return { ok: false, message: `Metric ${r.name} appears twice` }
    value[r.name] = r.query.trim()
  }
  return { ok: true, value }
}

function EditConfiguration ({ c, configs, onDone, onDuplicate }: { c: ConfigurationView; configs: ConfigurationsStore; onDone: () => void; onDuplicate: () => void }) {
  const [target, setTarget] = useState(c.targetCondition)
  const [priority, setPriority] = useState(c.priority)
  const [labels, setLabels] = useState(labelsText(c.labels))
  const [metrics, setMetrics] = useState<MetricRow[]>(Object.entries(c.metricQueries).map(([name, query]) => ({ name, query })))
  const [error, setError] = useState<{ e: HubErrorInfo; conflict: boolean } | undefined>()
  const [busy, setBusy] = useState(false)
  // The version being edited: a change by someone else meanwhile is a conflict, not an overwrite.
  const [etag] = useState(c.etag)
  const l = parseLabels(labels)
  const m = metricsOf(metrics)
  const ready = l.ok && m.ok && !busy
  async function save (): Promise<void> {
    if (!l.ok || !m.ok) return
    setBusy(true)
    const r = await configs.update(c.id, etag, { targetCondition: target, priority, labels: l.value, metrics: m.value })
    setBusy(false)
    if (r.ok) { setError(undefined); onDone() } else setError({ e: r.error, conflict: r.conflict })
  }
  return (
    <form className="cfg-edit" aria-label={`Edit ${c.id}`} onSubmit={e => { e.preventDefault(); void save() }}>
      <div className="row wrap">
        <label className="field grow2"><span>Target condition</span><input className="mono" value={target} data-testid="edit-target" onChange={e => { setTarget(e.target.value) }} /></label>
        <label className="field"><span>Priority</span><input type="number" min={0} value={priority} data-testid="edit-priority" onChange={e => { setPriority(Math.max(0, Math.floor(Number(e.target.value)))) }} /></label>
      </div>
      <label className="field"><span>Labels (name=value, comma separated)</span><input value={labels} data-testid="edit-labels" onChange={e => { setLabels(e.target.value) }} /></label>
      {!l.ok && <p className="field-error">{l.message}</p>}
      <MetricsEditor rows={metrics} onChange={setMetrics} />
      {!m.ok && <p className="field-error">{m.message}</p>}
      <div className="note small" data-testid="content-immutable">
        <p>The settings it writes (<code className="mono">{JSON.stringify(contentToDesired(c.content))}</code>) cannot change: IoT Hub keeps a configuration's content fixed (error 400403), so every device can be traced to one version.
          To change them, duplicate it with new content, give the copy a higher priority, then delete this one.</p>
        <button type="button" className="button" data-testid="edit-duplicate" onClick={onDuplicate}>Duplicate with new content</button>
      </div>
      {error !== undefined && !error.conflict && <ErrorNote error={error.e} />}
      {error !== undefined && error.conflict && (
        <div className="note error" role="alert" data-testid="error-note" data-code={error.e.code}>
          <p>Someone changed this configuration after you opened it. Reload it and make your change again.</p>
          <button type="button" className="button" data-testid="edit-reload" onClick={() => { void configs.refresh().then(onDone) }}>Reload it</button>
          <small>{error.e.message} · {error.e.name} {error.e.code}</small>
        </div>
      )}
      <div className="row">
        <button className="button primary" type="submit" disabled={!ready} data-testid="edit-save">{busy ? 'Saving…' : 'Save changes'}</button>
        <button className="button" type="button" onClick={onDone}>Cancel</button>
      </div>
    </form>
  )
}

function NewConfiguration ({ configs, prefill, duplicate }: { configs: ConfigurationsStore; prefill: Prefill; duplicate: boolean }) {
  const [id, setId] = useState(prefill.id)
  const [target, setTarget] = useState(prefill.target)
  const [priority, setPriority] = useState(prefill.priority)
  const [desired, setDesired] = useState(prefill.desired)
  const [labels, setLabels] = useState(prefill.labels)
  const [metrics, setMetrics] = useState<MetricRow[]>(prefill.metrics)
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const parsed = desired.trim() === '' ? undefined : parsePatch(desired)
  const l = parseLabels(labels)
  const m = metricsOf(metrics)
  const ready = id !== '' && target.trim() !== '' && parsed?.ok === true && l.ok && m.ok
  async function submit (): Promise<void> {
    if (!ready || parsed?.ok !== true || !l.ok || !m.ok) return
    const err = await configs.create({
      id, targetCondition: target, priority, content: desiredToContent(parsed.value),
      ...(Object.keys(l.value).length > 0 ? { labels: l.value } : {}), ...(Object.keys(m.value).length > 0 ? { metrics: m.value } : {})
    })
    setError(err)
    if (err === undefined) { setId(''); setDesired(''); setLabels(''); setMetrics([]) }
  }
  return (
    <form className="panel" id="cfg-new" aria-label="New configuration" onSubmit={e => { e.preventDefault(); void submit() }}>
      <h2>{duplicate ? 'New configuration (duplicate: change the settings, give it a higher priority)' : 'New configuration'}</h2>
      <div className="row wrap">
        <label className="field grow"><span>Name (lower case)</span><input value={id} data-testid="cfg-id" onChange={e => { setId(e.target.value.trim()) }} /></label>
        <label className="field"><span>Priority</span><input type="number" min={0} value={priority} data-testid="cfg-priority" onChange={e => { setPriority(Math.max(0, Math.floor(Number(e.target.value)))) }} /></label>
      </div>
      <label className="field"><span>Target condition</span><input className="mono" value={target} data-testid="cfg-target" placeholder="tags.site = 'hall-2'" onChange={e => { setTarget(e.target.value) }} /></label>
      <label className="field"><span>Desired properties to keep set (JSON object)</span>
        <textarea className="mono" rows={3} value={desired} data-testid="cfg-desired" placeholder='{"telemetryInterval": 30}' onChange={e => { setDesired(e.target.value) }} />
      </label>
      {parsed !== undefined && !parsed.ok && <p className="field-error">{parsed.message}</p>}
      <label className="field"><span>Labels (optional: name=value, comma separated)</span><input value={labels} data-testid="cfg-labels" placeholder="owner=maintenance, ticket=4711" onChange={e => { setLabels(e.target.value) }} /></label>
      {!l.ok && <p className="field-error">{l.message}</p>}
      <MetricsEditor rows={metrics} onChange={setMetrics} />
      {!m.ok && <p className="field-error">{m.message}</p>}
      {error !== undefined && <ErrorNote error={error} />}
      <button className="button primary" type="submit" disabled={!ready} data-testid="cfg-create">Create configuration</button>
    </form>
  )
}
