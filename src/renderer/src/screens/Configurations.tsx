import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { HubErrorInfo, JsonObject } from '../../../shared/contract/index'
import { IfCan, NotAllowed, useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { ago } from '../lib/time'
import { parsePatch } from '../state/device-detail'
import type { ConfigurationsStore } from '../state/configurations'

export function Configurations ({ configs }: { configs: ConfigurationsStore }) {
  useEffect(() => configs.start(), [configs])
  const { items, loaded, error } = useStore(configs.store)
  const [actionError, setActionError] = useState<HubErrorInfo | undefined>()
  const canRemove = useCan('configurations.remove')
  return (
    <section aria-labelledby="cfg-page-h">
      <h1 id="cfg-page-h">Configurations</h1>
      <p className="muted">A configuration keeps desired properties set on every device its condition matches, now and as devices join. The highest priority wins where two overlap.</p>
      <IfCan method="configurations.create" fallback={<NotAllowed method="configurations.create" what="Creating configurations" />}><NewConfiguration configs={configs} /></IfCan>
      {error !== undefined && <ErrorNote error={error} />}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      {loaded && items.length === 0 && <p className="note teach" data-testid="configs-page-empty">No configurations yet. Create one above, e.g. target <code className="mono">tags.site = 'hall-2'</code> with <code className="mono">{'{"properties.desired.telemetryInterval": 30}'}</code>.</p>}
      <ul className="jobs" data-testid="config-list">
        {items.map(c => (
          <li key={c.id} className="panel" data-testid="config" data-id={c.id} data-applied={c.applied} data-targeted={c.targeted}>
            <div className="row wrap">
              <strong className="mono">{c.id}</strong>
              <small className="muted">priority {c.priority} · created {ago(c.createdTime)}</small>
              <span className="grow" />
              <button className="button danger" disabled={!canRemove.ok} title={canRemove.reason} onClick={() => { void configs.remove(c.id).then(setActionError) }}>Delete</button>
            </div>
            <p className="small">Targets <code className="mono">{c.targetCondition === '' ? '(nothing)' : c.targetCondition}</code> · sets <code className="mono">{JSON.stringify(c.content)}</code></p>
            <div className="progress" role="progressbar" aria-label={`${c.id} applied`} aria-valuemin={0} aria-valuemax={c.targeted} aria-valuenow={c.applied}>
              <div className="progress-ok" style={{ width: `${c.targeted === 0 ? 0 : (c.applied / c.targeted) * 100}%` }} />
            </div>
            <small data-testid="config-counts">{c.applied} applied of {c.targeted} targeted{Object.entries(c.metrics).map(([k, v]) => ` · ${k}: ${v}`).join('')}</small>
          </li>
        ))}
      </ul>
    </section>
  )
}

function NewConfiguration ({ configs }: { configs: ConfigurationsStore }) {
  const [id, setId] = useState('')
  const [target, setTarget] = useState('')
  const [priority, setPriority] = useState(0)
  const [desired, setDesired] = useState('')
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const parsed = desired.trim() === '' ? undefined : parsePatch(desired)
  const ready = id !== '' && target.trim() !== '' && parsed?.ok === true
  async function submit (): Promise<void> {
    if (!ready || parsed?.ok !== true) return
    // A desired patch {a: {b: 1}} becomes content {"properties.desired.a": {b: 1}}: one path per top-level key.
    const content: JsonObject = {}
    for (const [k, v] of Object.entries(parsed.value)) content[`properties.desired.${k}`] = v
    const err = await configs.create({ id, targetCondition: target, priority, content })
    setError(err)
    if (err === undefined) { setId(''); setDesired('') }
  }
  return (
    <form className="panel" aria-label="New configuration" onSubmit={e => { e.preventDefault(); void submit() }}>
      <h2>New configuration</h2>
      <div className="row wrap">
        <label className="field grow"><span>Name (lower case)</span><input value={id} data-testid="cfg-id" onChange={e => { setId(e.target.value.trim()) }} /></label>
        <label className="field"><span>Priority</span><input type="number" min={0} value={priority} onChange={e => { setPriority(Math.max(0, Math.floor(Number(e.target.value)))) }} /></label>
      </div>
      <label className="field"><span>Target condition</span><input className="mono" value={target} data-testid="cfg-target" placeholder="tags.site = 'hall-2'" onChange={e => { setTarget(e.target.value) }} /></label>
      <label className="field"><span>Desired properties to keep set (JSON object)</span>
        <textarea className="mono" rows={3} value={desired} data-testid="cfg-desired" placeholder='{"telemetryInterval": 30}' onChange={e => { setDesired(e.target.value) }} />
      </label>
      {parsed !== undefined && !parsed.ok && <p className="field-error">{parsed.message}</p>}
      {error !== undefined && <ErrorNote error={error} />}
      <button className="button primary" type="submit" disabled={!ready} data-testid="cfg-create">Create configuration</button>
    </form>
  )
}
