import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { HubErrorInfo, JobView, JsonValue } from '../../../shared/contract/index'
import { IfCan, NotAllowed, useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { ago } from '../lib/time'
import { parsePatch } from '../state/device-detail'
import { isActive, type JobsStore } from '../state/jobs'

export function Jobs ({ jobs, initialQuery }: { jobs: JobsStore; initialQuery: string }) {
  useEffect(() => jobs.start(), [jobs])
  const { jobs: list, loaded, error, selected } = useStore(jobs.store)
  return (
    <section aria-labelledby="jobs-h">
      <h1 id="jobs-h">Jobs</h1>
      <p className="muted">A job runs a direct method or a twin change on every device a query matches, and shows how far it got.</p>
      <IfCan method="jobs.create" fallback={<NotAllowed method="jobs.create" what="Starting jobs" />}><NewJob key={initialQuery} jobs={jobs} initialQuery={initialQuery} /></IfCan>
      {error !== undefined && <ErrorNote error={error} />}
      <h2>Jobs on this hub</h2>
      {loaded && list.length === 0 && <p className="note teach" data-testid="jobs-empty">No jobs yet. Create one above: pick the devices with a query, then a method or a desired-property change.</p>}
      {list.length > 0 && (
        <ul className="jobs" data-testid="jobs">
          {list.map(j => <JobItem key={j.jobId} job={j} jobs={jobs} open={selected === j.jobId} />)}
        </ul>
      )}
    </section>
  )
}

function JobItem ({ job: j, jobs, open }: { job: JobView; jobs: JobsStore; open: boolean }) {
  const canCancel = useCan('jobs.cancel')
  const { devices } = useStore(jobs.store)
  const [err, setErr] = useState<HubErrorInfo | undefined>()
  const done = j.stats.succeededCount + j.stats.failedCount
  const pct = j.stats.deviceCount === 0 ? (isActive(j) ? 0 : 100) : Math.round((done / j.stats.deviceCount) * 100)
  return (
    <li className="panel job" data-testid="job" data-id={j.jobId} data-status={j.status}>
      <div className="row wrap">
        <button className="button ghost" aria-expanded={open} onClick={() => { jobs.select(open ? undefined : j.jobId) }}>
          <strong className="mono">{j.jobId}</strong>
        </button>
        <span className={`pill ${j.status === 'completed' ? 'good' : j.status === 'failed' || j.status === 'cancelled' ? 'warn' : ''}`}>{j.status}</span>
        <span>{j.type === 'scheduleDeviceMethod' ? `method ${j.methodName ?? ''}` : 'twin update'} on <code className="mono">{j.queryCondition}</code></span>
        <small className="muted">created {ago(j.createdTime)}</small>
        <span className="grow" />
        {isActive(j) && <button className="button danger" data-testid="job-cancel" disabled={!canCancel.ok} title={canCancel.reason} onClick={() => { void jobs.cancel(j.jobId).then(setErr) }}>Cancel</button>}
      </div>
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label={`${j.jobId} progress`}>
        <div className="progress-ok" style={{ width: `${j.stats.deviceCount === 0 ? pct : (j.stats.succeededCount / j.stats.deviceCount) * 100}%` }} />
        <div className="progress-bad" style={{ width: `${j.stats.deviceCount === 0 ? 0 : (j.stats.failedCount / j.stats.deviceCount) * 100}%` }} />
      </div>
      <small data-testid="job-counts">
        {j.stats.succeededCount} succeeded · {j.stats.failedCount} failed · {j.stats.runningCount} running · {j.stats.pendingCount} pending of {j.stats.deviceCount}
        {j.failureReason !== null ? ` · ${j.failureReason}` : ''}
      </small>
      {err !== undefined && <ErrorNote error={err} />}
      {open && (
        <table className="results" data-testid="job-devices">
          <thead><tr><th>Device</th><th>Result</th><th>Method status</th><th>Finished</th></tr></thead>
          <tbody>
            {devices.map(d => (
              <tr key={d.deviceId}>
                <td className="mono"><a href={`#/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceId}</a></td>
                <td>{d.status}{d.error !== null ? <small className="muted"> {d.error}</small> : null}</td>
                <td>{d.methodStatus ?? '—'}</td>
                <td>{d.endTime === null ? '—' : ago(d.endTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  )
}

function NewJob ({ jobs, initialQuery }: { jobs: JobsStore; initialQuery: string }) {
  const { targetCount, targetError } = useStore(jobs.store)
  const [kind, setKind] = useState<'method' | 'twin'>('method')
  const [query, setQuery] = useState(initialQuery)
  const [methodName, setMethodName] = useState('reboot')
  const [payload, setPayload] = useState('')
  const [desired, setDesired] = useState('')
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    const t = setTimeout(() => { void jobs.countTargets(query) }, 300)
    return () => { clearTimeout(t) }
  }, [jobs, query])

  let payloadValue: JsonValue | undefined
  let payloadError: string | undefined
  if (kind === 'method' && payload.trim() !== '') {
    try { payloadValue = JSON.parse(payload) as JsonValue } catch (e) { payloadError = `Payload is not valid JSON: ${(e as Error).message}` }
  }
  const desiredParsed = kind === 'twin' ? parsePatch(desired) : undefined
  const ready = query.trim() !== '' && targetError === undefined && (kind === 'method' ? methodName !== '' && payloadError === undefined : desiredParsed?.ok === true)

  async function submit (): Promise<void> {
    if (!ready) return
    setBusy(true)
    setError(undefined)
    const r = kind === 'method'
      ? await jobs.create({ kind, queryCondition: query, methodName, ...(payloadValue === undefined ? {} : { payload: payloadValue }) })
      : await jobs.create({ kind, queryCondition: query, ...(desiredParsed?.ok === true ? { desired: desiredParsed.value } : {}) })
    setBusy(false)
    if (!r.ok) setError(r.error)
  }

  return (
    <form className="panel" aria-label="New job" onSubmit={e => { e.preventDefault(); void submit() }}>
      <h2>New job</h2>
      <div className="row">
        <label className="radio"><input type="radio" checked={kind === 'method'} onChange={() => { setKind('method') }} /> Run a direct method</label>
        <label className="radio"><input type="radio" checked={kind === 'twin'} onChange={() => { setKind('twin') }} /> Change desired properties</label>
      </div>
      <label className="field">
        <span>Devices (a query condition, e.g. <code className="mono">tags.line = 3</code> or <code className="mono">deviceId IN ['press-1', 'press-2']</code>)</span>
        <input className="mono" value={query} data-testid="job-query" onChange={e => { setQuery(e.target.value) }} />
      </label>
      <p className="small" data-testid="job-target-count">
        {query.trim() === '' ? 'Type a condition to see how many devices it matches.' : targetError !== undefined ? '' : targetCount === undefined ? 'Counting…' : `Matches ${targetCount} device${targetCount === 1 ? '' : 's'} now.`}
      </p>
      {targetError !== undefined && <ErrorNote error={targetError} />}
      {kind === 'method'
        ? (
          <div className="row wrap">
            <label className="field"><span>Method</span><input value={methodName} data-testid="job-method" onChange={e => { setMethodName(e.target.value.trim()) }} /></label>
            <label className="field grow"><span>Payload (JSON, optional)</span><input className="mono" value={payload} onChange={e => { setPayload(e.target.value) }} /></label>
          </div>
          )
        : (
          <label className="field"><span>Desired patch (JSON object)</span>
            <textarea className="mono" rows={3} value={desired} data-testid="job-desired" placeholder='{"telemetryInterval": 30}' onChange={e => { setDesired(e.target.value) }} />
          </label>
          )}
      {payloadError !== undefined && <p className="field-error">{payloadError}</p>}
      {kind === 'twin' && desired.trim() !== '' && desiredParsed?.ok === false && <p className="field-error">{desiredParsed.message}</p>}
      {error !== undefined && <ErrorNote error={error} />}
      <button className="button primary" type="submit" disabled={!ready || busy} data-testid="job-create">{busy ? 'Starting…' : 'Start job now'}</button>
    </form>
  )
}
