import { useEffect, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import { WEEKDAYS, type HubErrorInfo, type JobView, type JsonValue, type Weekday } from '../../../shared/contract/index'
import { IfCan, NotAllowed, useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { isoToLocalInput, jobSummary, localInputToIso, PHASE_LABEL, utcText, windowText } from '../lib/job-summary'
import { ago } from '../lib/time'
import { parsePatch } from '../state/device-detail'
import { isActive, type JobDraft, type JobPlanDraft, type JobsStore } from '../state/jobs'
import './ops.css'

export function Jobs ({ jobs, initialQuery }: { jobs: JobsStore; initialQuery: string }) {
  useEffect(() => jobs.start(), [jobs])
  const { jobs: list, loaded, error, selected } = useStore(jobs.store)
  return (
    <section aria-labelledby="jobs-h">
      <h1 id="jobs-h">Jobs</h1>
      <p className="muted">A job runs a direct method or a twin change on every device a query matches, at the pace and in the hours you allow, and shows how far it got.</p>
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

const PHASE_CLASS: Record<JobView['phase'], string> = {
  queued: '', scheduled: 'info', waiting: 'warn', running: 'info', completed: 'good', aborted: 'bad', failed: 'bad', cancelled: 'warn'
}

function planLine (j: JobView): string {
  const p = j.plan
  const parts: string[] = []
  if (p.devicesPerMinute !== null) parts.push(`${p.devicesPerMinute}/min`)
  if (p.maxConcurrency !== null) parts.push(`≤ ${p.maxConcurrency} at once`)
  if (p.maintenanceWindow !== null) parts.push(p.maintenanceWindow.map(w => windowText(w, p.timeZone)).join(' or '))
  if (p.abortThreshold !== null) parts.push(`stops at ${p.abortThreshold.failurePercent}% failed`)
  if (p.deviceWindowTag === null) parts.push("ignores devices' windows")
  if (p.inUseGuard !== null) parts.push('skips busy devices')
  return parts.join(' · ')
}

const MAX_DEVICE_ROWS = 500
const RESULT_ORDER: Record<string, number> = { failed: 0, running: 1, scheduled: 2, pending: 3, canceled: 4, completed: 5 }
/** Failed devices first (what needs a look), then the rest, at most MAX_DEVICE_ROWS. */
function shownDevices<T extends { status: string; deviceId: string }> (list: T[]): T[] {
  if (list.length <= MAX_DEVICE_ROWS) return list
  return [...list].sort((a, b) => (RESULT_ORDER[a.status] ?? 9) - (RESULT_ORDER[b.status] ?? 9) || (a.deviceId < b.deviceId ? -1 : 1)).slice(0, MAX_DEVICE_ROWS)
}

function JobItem ({ job: j, jobs, open }: { job: JobView; jobs: JobsStore; open: boolean }) {
  const canCancel = useCan('jobs.cancel')
  const { devices } = useStore(jobs.store)
  const [err, setErr] = useState<HubErrorInfo | undefined>()
  const done = j.stats.succeededCount + j.stats.failedCount
  const pct = j.stats.deviceCount === 0 ? (isActive(j) ? 0 : 100) : Math.round((done / j.stats.deviceCount) * 100)
  const plan = planLine(j)
  const canceled = j.stats.deviceCount - j.stats.succeededCount - j.stats.failedCount - j.stats.runningCount - j.stats.pendingCount
  return (
    <li className="panel job" data-testid="job" data-id={j.jobId} data-status={j.status} data-phase={j.phase}>
      <div className="row wrap">
        <button className="button ghost" aria-expanded={open} onClick={() => { jobs.select(open ? undefined : j.jobId) }}>
          <strong className="mono">{j.jobId}</strong>
        </button>
        <span className={`pill phase ${PHASE_CLASS[j.phase]}`} data-testid="job-phase">{PHASE_LABEL[j.phase]}</span>
        <span>{j.type === 'scheduleDeviceMethod' ? `method ${j.methodName ?? ''}` : 'twin update'} on <code className="mono">{j.queryCondition}</code></span>
        <small className="muted">created {ago(j.createdTime)}</small>
        <span className="grow" />
        {isActive(j) && <button className="button danger" data-testid="job-cancel" disabled={!canCancel.ok} title={canCancel.reason} onClick={() => { void jobs.cancel(j.jobId).then(setErr) }}>Cancel</button>}
      </div>
      {j.phase === 'scheduled' && <p className="small job-when" data-testid="job-when">Starts {new Date(j.startTime).toLocaleString()} (your time) = {utcText(j.startTime)}.</p>}
      {j.phase === 'waiting' && j.waiting !== null && (
        <p className="small job-when" data-testid="job-when">
          {j.waiting.window} device{j.waiting.window === 1 ? '' : 's'} waiting for the maintenance window
          {j.waiting.nextWakeAt !== null ? `; it opens ${new Date(j.waiting.nextWakeAt).toLocaleString()} (your time) = ${utcText(j.waiting.nextWakeAt)}` : ''}.
        </p>
      )}
      {plan !== '' && <p className="small muted job-plan" data-testid="job-plan">{plan}</p>}
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label={`${j.jobId} progress`}>
        <div className="progress-ok" style={{ width: `${j.stats.deviceCount === 0 ? pct : (j.stats.succeededCount / j.stats.deviceCount) * 100}%` }} />
        <div className="progress-bad" style={{ width: `${j.stats.deviceCount === 0 ? 0 : (j.stats.failedCount / j.stats.deviceCount) * 100}%` }} />
      </div>
      <small data-testid="job-counts">
        {j.stats.succeededCount} succeeded · {j.stats.failedCount} failed · {j.stats.runningCount} running · {j.stats.pendingCount} pending
        {canceled > 0 ? ` · ${canceled} canceled` : ''} of {j.stats.deviceCount}
        {j.waiting !== null && j.waiting.inUse > 0 ? ` · ${j.waiting.inUse} busy, retried later` : ''}
        {j.waiting !== null && j.waiting.offline > 0 ? ` · ${j.waiting.offline} offline` : ''}
      </small>
      {j.failureReason !== null && <p className={`note ${j.phase === 'aborted' ? 'error' : 'warn'} small`} data-testid="job-reason">{j.failureReason}</p>}
      {err !== undefined && <ErrorNote error={err} />}
      {open && (
        <table className="results" data-testid="job-devices">
          <thead><tr><th>Device</th><th>Result</th><th>Method status</th><th>Finished</th></tr></thead>
          <tbody>
            {shownDevices(devices).map(d => (
              <tr key={d.deviceId}>
                <td className="mono"><a href={`#/devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceId}</a></td>
                <td>{d.status}{d.error !== null ? <small className="muted"> {d.error}</small> : null}</td>
                <td>{d.methodStatus ?? '—'}</td>
                <td>{d.endTime === null ? '—' : ago(d.endTime)}</td>
              </tr>
            ))}
          </tbody>
          {devices.length > MAX_DEVICE_ROWS && <caption className="small muted" style={{ captionSide: 'bottom' }}>The first {MAX_DEVICE_ROWS} of {devices.length} devices, failed ones first.</caption>}
        </table>
      )}
    </li>
  )
}

interface PlanForm {
  when: 'now' | 'at'
  startLocal: string
  maxMinutes: string
  responseTimeout: string
  rate: string
  concurrency: string
  useWindow: boolean
  deviceWindows: boolean
  days: Weekday[]
  windowStart: string
  windowEnd: string
  zone: string
  useAbort: boolean
  abortPercent: string
  abortMin: string
  useGuard: boolean
  guardPath: string
  guardValues: string
  guardRetry: string
}

const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone
const zones = (): string[] => {
  const f = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf
  return typeof f === 'function' ? f('timeZone') : []
}

function initialPlan (): PlanForm {
  return {
    when: 'now', startLocal: isoToLocalInput(new Date(Date.now() + 3600_000).toISOString()), maxMinutes: '60', responseTimeout: '30',
    rate: '', concurrency: '', useWindow: false, deviceWindows: true, days: [...WEEKDAYS], windowStart: '22:00', windowEnd: '04:00', zone: browserZone(),
    useAbort: false, abortPercent: '10', abortMin: '10', useGuard: false, guardPath: 'properties.reported.state', guardValues: 'busy', guardRetry: '60'
  }
}

/** Text fields -> the plan, or the first problem in plain words. */
function planOf (f: PlanForm, kind: 'method' | 'twin'): { plan: JobPlanDraft } | { problem: string } {
  const plan: JobPlanDraft = {}
  const numOf = (s: string): number => Number(s.trim())
  if (f.when === 'at') {
    const iso = localInputToIso(f.startLocal)
    if (iso === undefined) return { problem: 'Pick the start date and time.' }
    plan.startTime = iso
  }
  const max = numOf(f.maxMinutes)
  if (!Number.isInteger(max) || max < 1 || max > 43_200) return { problem: 'Give up after: a whole number of minutes from 1 to 43200 (30 days).' }
  plan.maxExecutionTimeInSeconds = max * 60
  if (kind === 'method') {
    const t = numOf(f.responseTimeout)
    if (!Number.isInteger(t) || t < 5 || t > 300) return { problem: 'Answer timeout: whole seconds from 5 to 300.' }
    plan.responseTimeoutInSeconds = t
  }
  if (f.rate.trim() !== '') {
    const r = numOf(f.rate)
    if (!(r > 0)) return { problem: 'Devices per minute must be a number above 0 (leave it empty for no limit).' }
    plan.devicesPerMinute = r
  }
  if (f.concurrency.trim() !== '') {
    const c = numOf(f.concurrency)
    if (!Number.isInteger(c) || c < 1) return { problem: 'At most … at once must be a whole number of at least 1.' }
    plan.maxConcurrency = c
  }
  if (f.useWindow) {
    if (f.days.length === 0) return { problem: 'Pick at least one day for the maintenance window.' }
    if (f.zone.trim() === '') return { problem: 'The maintenance window needs a time zone (e.g. Europe/Berlin).' }
    if (!/^\d\d:\d\d$/.test(f.windowStart) || !/^\d\d:\d\d$/.test(f.windowEnd)) return { problem: 'Give the window a start and an end time.' }
    plan.maintenanceWindow = [{ ...(f.days.length === 7 ? {} : { days: WEEKDAYS.filter(d => f.days.includes(d)) }), start: f.windowStart, end: f.windowEnd }]
    plan.timeZone = f.zone.trim()
  }
  if (!f.deviceWindows) plan.deviceWindowTag = null
  if (f.useAbort) {
    const p = numOf(f.abortPercent)
    const m = numOf(f.abortMin)
    if (!(p > 0 && p <= 100)) return { problem: 'Stop threshold: a percentage above 0 and at most 100.' }
    if (!Number.isInteger(m) || m < 1) return { problem: 'Stop threshold: count from at least 1 finished device.' }
    plan.abortThreshold = { failurePercent: p, minDevices: m }
  }
  if (f.useGuard) {
    const values: JsonValue[] = f.guardValues.split(',').map(v => v.trim()).filter(v => v !== '')
    if (values.length === 0) return { problem: 'Busy devices: name at least one value meaning "busy".' }
    const retry = numOf(f.guardRetry)
    if (!Number.isInteger(retry) || retry < 1) return { problem: 'Busy devices: retry after a whole number of seconds.' }
    plan.inUseGuard = { path: f.guardPath.trim(), values, retryAfterSeconds: retry }
  }
  return { plan }
}

function NewJob ({ jobs, initialQuery }: { jobs: JobsStore; initialQuery: string }) {
  const { targetCount, targetError } = useStore(jobs.store)
  const [kind, setKind] = useState<'method' | 'twin'>('method')
  const [query, setQuery] = useState(initialQuery)
  const [methodName, setMethodName] = useState('reboot')
  const [payload, setPayload] = useState('')
  const [desired, setDesired] = useState('')
  const [form, setForm] = useState<PlanForm>(initialPlan)
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const [busy, setBusy] = useState(false)
  const [review, setReview] = useState<{ draft: JobDraft; job: JobView } | undefined>()
  const zoneList = useMemo(zones, [])
  const set = <K extends keyof PlanForm>(k: K, v: PlanForm[K]): void => { setForm(f => ({ ...f, [k]: v })); setReview(undefined) }
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
  const planned = planOf(form, kind)
  const ready = query.trim() !== '' && targetError === undefined && 'plan' in planned &&
    (kind === 'method' ? methodName !== '' && payloadError === undefined : desiredParsed?.ok === true)
  const startIso = form.when === 'at' ? localInputToIso(form.startLocal) : undefined

  function draftOf (): JobDraft | undefined {
    if (!ready || !('plan' in planned)) return undefined
    return kind === 'method'
      ? { kind, queryCondition: query, methodName, ...(payloadValue === undefined ? {} : { payload: payloadValue }), ...planned.plan }
      : { kind, queryCondition: query, ...(desiredParsed?.ok === true ? { desired: desiredParsed.value } : {}), ...planned.plan }
  }

  async function check (): Promise<void> {
    const draft = draftOf()
    if (draft === undefined) return
    setBusy(true)
    setError(undefined)
    const r = await jobs.review(draft)
    setBusy(false)
    if (r.ok) setReview({ draft, job: r.job })
    else setError(r.error)
  }

  async function submit (): Promise<void> {
    if (review === undefined) return
    setBusy(true)
    setError(undefined)
    const r = await jobs.create(review.draft)
    setBusy(false)
    if (!r.ok) { setError(r.error); return }
    // the next job starts from the defaults: a plan is never carried over unseen
    setReview(undefined)
    setForm(initialPlan())
    setPayload('')
    setDesired('')
  }

  const edit = <T,>(fn: (v: T) => void) => (v: T): void => { fn(v); setReview(undefined) }

  return (
    <form className="panel" aria-label="New job" onSubmit={e => { e.preventDefault(); void (review === undefined ? check() : submit()) }}>
      <h2>New job</h2>
      <div className="row">
        <label className="radio"><input type="radio" checked={kind === 'method'} onChange={() => { edit(setKind)('method') }} /> Run a direct method</label>
        <label className="radio"><input type="radio" checked={kind === 'twin'} onChange={() => { edit(setKind)('twin') }} /> Change desired properties</label>
      </div>
      <label className="field">
        <span>Devices (a query condition, e.g. <code className="mono">tags.line = 3</code> or <code className="mono">deviceId IN ['press-1', 'press-2']</code>)</span>
        <input className="mono" value={query} data-testid="job-query" onChange={e => { edit(setQuery)(e.target.value) }} />
      </label>
      <p className="small" data-testid="job-target-count">
        {query.trim() === '' ? 'Type a condition to see how many devices it matches.' : targetError !== undefined ? '' : targetCount === undefined ? 'Counting…' : `Matches ${targetCount} device${targetCount === 1 ? '' : 's'} now.`}
      </p>
      {targetError !== undefined && <ErrorNote error={targetError} />}
      {kind === 'method'
        ? (
          <div className="row wrap">
            <label className="field"><span>Method</span><input value={methodName} data-testid="job-method" onChange={e => { edit(setMethodName)(e.target.value.trim()) }} /></label>
            <label className="field grow"><span>Payload (JSON, optional)</span><input className="mono" value={payload} onChange={e => { edit(setPayload)(e.target.value) }} /></label>
            <label className="field"><span>Answer timeout (s)</span><input type="number" min={5} max={300} value={form.responseTimeout} data-testid="job-timeout" onChange={e => { set('responseTimeout', e.target.value) }} /></label>
          </div>
          )
        : (
          <label className="field"><span>Desired patch (JSON object)</span>
            <textarea className="mono" rows={3} value={desired} data-testid="job-desired" placeholder='{"telemetryInterval": 30}' onChange={e => { edit(setDesired)(e.target.value) }} />
          </label>
          )}
      {payloadError !== undefined && <p className="field-error">{payloadError}</p>}
      {kind === 'twin' && desired.trim() !== '' && desiredParsed?.ok === false && <p className="field-error">{desiredParsed.message}</p>}

      <div className="plan-grid">
        <fieldset className="plan-box">
          <legend>When</legend>
          <label className="radio"><input type="radio" checked={form.when === 'now'} onChange={() => { set('when', 'now') }} /> Now</label>
          <label className="radio"><input type="radio" checked={form.when === 'at'} data-testid="job-when-at" onChange={() => { set('when', 'at') }} /> At</label>
          {form.when === 'at' && (
            <>
              <input type="datetime-local" step={1} value={form.startLocal} data-testid="job-start" aria-label="Start (your local time)" onChange={e => { set('startLocal', e.target.value) }} />
              <p className="small muted" data-testid="job-start-utc">{startIso === undefined ? 'Pick a date and time.' : `Your time (${browserZone()}); the hub keeps UTC: ${utcText(startIso)}.`}</p>
            </>
          )}
          <label className="field"><span>Give up after (minutes)</span><input type="number" min={1} value={form.maxMinutes} data-testid="job-max-minutes" onChange={e => { set('maxMinutes', e.target.value) }} /></label>
        </fieldset>
        <fieldset className="plan-box">
          <legend>Pace</legend>
          <label className="field"><span>Devices per minute (empty: no limit)</span><input type="number" min={0} step="any" value={form.rate} data-testid="job-rate" onChange={e => { set('rate', e.target.value) }} /></label>
          <label className="field"><span>At most at once (empty: hub default)</span><input type="number" min={1} value={form.concurrency} data-testid="job-concurrency" onChange={e => { set('concurrency', e.target.value) }} /></label>
        </fieldset>
        <fieldset className="plan-box">
          <legend><label><input type="checkbox" checked={form.useWindow} data-testid="job-use-window" onChange={e => { set('useWindow', e.target.checked) }} /> Only in a maintenance window</label></legend>
          {form.useWindow && (
            <>
              <div className="days" role="group" aria-label="Days">
                {WEEKDAYS.map(d => (
                  <label key={d} className="day"><input type="checkbox" checked={form.days.includes(d)} onChange={e => { set('days', e.target.checked ? [...form.days, d] : form.days.filter(x => x !== d)) }} /> {d}</label>
                ))}
              </div>
              <div className="row">
                <label className="field"><span>From</span><input type="time" value={form.windowStart} data-testid="job-window-start" onChange={e => { set('windowStart', e.target.value) }} /></label>
                <label className="field"><span>To</span><input type="time" value={form.windowEnd} data-testid="job-window-end" onChange={e => { set('windowEnd', e.target.value) }} /></label>
              </div>
              <label className="field"><span>Time zone of the window</span>
                <input list="tz-list" value={form.zone} data-testid="job-window-zone" onChange={e => { set('zone', e.target.value) }} />
                <datalist id="tz-list">{zoneList.map(z => <option key={z} value={z} />)}</datalist>
              </label>
              <p className="small muted">An end before the start runs past midnight.</p>
            </>
          )}
          <label className="radio small"><input type="checkbox" checked={form.deviceWindows} data-testid="job-device-windows" onChange={e => { set('deviceWindows', e.target.checked) }} /> Devices with their own window (tag <code className="mono">maintenanceWindow</code>) follow theirs</label>
        </fieldset>
        <fieldset className="plan-box">
          <legend><label><input type="checkbox" checked={form.useAbort} data-testid="job-use-abort" onChange={e => { set('useAbort', e.target.checked) }} /> Stop when too many fail</label></legend>
          {form.useAbort && (
            <div className="row">
              <label className="field"><span>Failed %</span><input type="number" min={1} max={100} step="any" value={form.abortPercent} data-testid="job-abort-percent" onChange={e => { set('abortPercent', e.target.value) }} /></label>
              <label className="field"><span>Counted after</span><input type="number" min={1} value={form.abortMin} data-testid="job-abort-min" onChange={e => { set('abortMin', e.target.value) }} /></label>
            </div>
          )}
        </fieldset>
        <fieldset className="plan-box">
          <legend><label><input type="checkbox" checked={form.useGuard} data-testid="job-use-guard" onChange={e => { set('useGuard', e.target.checked) }} /> Skip busy devices</label></legend>
          {form.useGuard && (
            <>
              <label className="field"><span>Twin path</span><input className="mono" value={form.guardPath} onChange={e => { set('guardPath', e.target.value) }} /></label>
              <div className="row">
                <label className="field grow"><span>Busy when it is (comma separated)</span><input value={form.guardValues} data-testid="job-guard-values" onChange={e => { set('guardValues', e.target.value) }} /></label>
                <label className="field"><span>Retry after (s)</span><input type="number" min={1} value={form.guardRetry} onChange={e => { set('guardRetry', e.target.value) }} /></label>
              </div>
            </>
          )}
        </fieldset>
      </div>
      {'problem' in planned && <p className="field-error" data-testid="job-plan-problem">{planned.problem}</p>}
      {error !== undefined && <ErrorNote error={error} />}
      {review !== undefined && (
        <div className="note summary" data-testid="job-summary" role="status">
          <p><strong>This job {jobSummary({ type: review.job.type, methodName: review.job.methodName, deviceCount: review.job.stats.deviceCount, startTime: review.job.startTime, plan: review.job.plan }, Date.now())}.</strong></p>
          <p className="small muted">Check it, then start it. Changing anything above asks again.</p>
        </div>
      )}
      <div className="row">
        {review === undefined
          ? <button className="button primary" type="submit" disabled={!ready || busy} data-testid="job-review">{busy ? 'Checking…' : 'Review job'}</button>
          : (
            <>
              <button className="button primary" type="submit" disabled={busy} data-testid="job-create">{busy ? 'Starting…' : form.when === 'at' ? 'Schedule job' : 'Start job now'}</button>
              <button className="button" type="button" onClick={() => { setReview(undefined) }}>Change</button>
            </>
            )}
      </div>
    </form>
  )
}
