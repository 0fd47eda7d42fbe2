// Live telemetry of one device: a chart per numeric field over the last minutes, growing as
// messages arrive (the stream fetches only what is new), and the latest messages with their
// application and system properties.
import { useEffect, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import type { HubApi } from '../../../shared/contract/index'
import { numericSeries } from '../lib/series'
import { createTelemetryStream } from '../state/telemetry-stream'
import { ErrorNote } from './ErrorNote'
import { Sparkline } from './Sparkline'

const WINDOW_MS = 5 * 60_000
const LIST = 50
const CHARTS = 4

export function TelemetryPanel ({ api, deviceId }: { api: HubApi; deviceId: string }) {
  const stream = useMemo(() => createTelemetryStream(api, deviceId, { windowMs: WINDOW_MS }), [api, deviceId])
  useEffect(() => stream.start(), [stream])
  const { items, loaded, gap, error } = useStore(stream.store)
  // the chart slides every second, messages or not
  const [tick, setTick] = useState(Date.now())
  useEffect(() => { const t = setInterval(() => { setTick(Date.now()) }, 1000); return () => { clearInterval(t) } }, [])
  // a hub whose clock runs ahead of this PC's still shows its newest point at "now"
  const newest = items.length === 0 ? 0 : Date.parse(items[items.length - 1]?.enqueuedTime ?? '')
  const now = Math.max(tick, Number.isFinite(newest) ? newest : 0)
  // parse bodies once per new message, not once per tick
  const all = useMemo(() => numericSeries(items, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), [items])
  const [windowMs, setWindowMs] = useState(WINDOW_MS)
  const series = all
    .map(s => ({ ...s, points: s.points.filter(p => p.t >= now - windowMs) }))
    .filter(s => s.points.length > 0)
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set())
  const shown = series.filter(s => !hidden.has(s.field)).slice(0, CHARTS)
  const latest = items.slice(-LIST).reverse()

  return (
    <section className="panel" aria-labelledby="t-h" data-testid="telemetry-panel" data-messages={items.length}>
      <div className="row wrap">
        <h2 id="t-h">Telemetry <small className="muted">(live)</small></h2>
        <div className="row chart-window" role="group" aria-label="Chart time span">
          {[[60_000, '1 min'], [WINDOW_MS, '5 min']].map(([ms, label]) => (
            <button key={ms} type="button" className="button" aria-pressed={windowMs === ms} data-testid={`chart-window-${String(label).replace(' ', '')}`}
              onClick={() => { setWindowMs(Number(ms)) }}>{label}</button>
          ))}
        </div>
      </div>
      {error !== undefined && <ErrorNote error={error} />}
      {gap && <p className="small muted" data-testid="telemetry-gap">Messages arrived faster than this page could fetch them: a few in between are not shown.</p>}
      {series.length > 1 && (
        <div className="row wrap" role="group" aria-label="Fields to chart">
          {series.map(s => (
            <label key={s.field} className="radio small">
              <input type="checkbox" checked={!hidden.has(s.field)} data-testid="chart-field" data-field={s.field}
                onChange={() => { setHidden(h => { const n = new Set(h); if (n.has(s.field)) n.delete(s.field); else n.add(s.field); return n }) }} />
              <span className="mono">{s.field}</span>
            </label>
          ))}
        </div>
      )}
      {shown.map(s => <Sparkline key={s.field} series={s} now={now} windowMs={windowMs} />)}
      {loaded && items.length > 0 && series.length === 0 && <p className="muted small">No numeric fields in the last {windowMs / 60_000} minutes to chart (bodies must be JSON objects with numbers).</p>}
      {!loaded
        ? <p className="muted">Loading messages…</p>
        : latest.length === 0
          ? <p className="muted" data-testid="telemetry-empty">No messages yet. They appear here as soon as the device sends any.</p>
          : (
            <ul className="telemetry" data-testid="telemetry">
              {latest.map(m => {
                const sys = Object.entries(m.systemProperties).filter(([k]) => k !== 'iothub-enqueuedtime' && k !== 'iothub-connection-device-id')
                return (
                  <li key={m.seq} data-testid="telemetry-item" data-seq={m.seq}>
                    <small className="muted">{new Date(m.enqueuedTime).toLocaleTimeString()}</small>{' '}
                    <code className="mono">{m.bodyEncoding === 'utf8' ? m.body : `(binary, base64) ${m.body}`}</code>
                    {Object.keys(m.properties).length > 0 && <small className="props" data-testid="telemetry-props"> {Object.entries(m.properties).map(([k, v]) => `${k}=${v ?? ''}`).join(' ')}</small>}
                    {sys.length > 0 && <small className="muted sysprops"> {sys.map(([k, v]) => `${k.replace(/^iothub-/, '')}=${v}`).join(' ')}</small>}
                  </li>
                )
              })}
            </ul>
            )}
    </section>
  )
}
