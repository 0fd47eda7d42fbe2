// A live line chart of one numeric telemetry field over the last minutes (SVG, no library):
// the time axis ends at "now" and slides as time passes; the value axis fits the points shown.
import type { Series } from '../lib/series'

const W = 640
const H = 140
const LEFT = 56
const RIGHT = 10
const TOP = 10
const BOTTOM = 22

/** Tick label for a value axis end: short, without float noise. */
export function axisLabel (v: number): string {
  const a = Math.abs(v)
  if (a >= 1e6 || (a > 0 && a < 1e-3)) return v.toExponential(1)
  return String(Number(v.toPrecision(4)))
}

export function Sparkline ({ series, now, windowMs = 5 * 60_000 }: { series: Series; now: number; windowMs?: number }) {
  const vs = series.points.map(p => p.v)
  let lo = Math.min(...vs)
  let hi = Math.max(...vs)
  if (lo === hi) { lo -= 1; hi += 1 } // a flat line sits in the middle
  const pad = (hi - lo) * 0.08
  lo -= pad
  hi += pad
  const x = (t: number): number => LEFT + ((t - (now - windowMs)) / windowMs) * (W - LEFT - RIGHT)
  const y = (v: number): number => TOP + (1 - (v - lo) / (hi - lo)) * (H - TOP - BOTTOM)
  const d = series.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')
  const last = series.points.at(-1)
  const minutes = windowMs / 60_000
  const ticks = [0, 0.5, 1].map(f => ({ f, label: f === 1 ? 'now' : `−${axisLabel(minutes * (1 - f))} min` }))
  return (
    <figure className="spark" data-testid="telemetry-chart" data-field={series.field} data-points={series.points.length}>
      <figcaption>
        <strong className="mono">{series.field}</strong> now <strong data-testid="chart-last">{last?.v ?? '—'}</strong>
        {' '}· min {Math.min(...vs)} · max {Math.max(...vs)} · {series.points.length} point{series.points.length === 1 ? '' : 's'} in {minutes} min
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`${series.field} over the last ${minutes} minutes, now ${last?.v ?? 'no value'}`}>
        {/* the highest and lowest values shown, labelled where they are */}
        {[...new Set([Math.max(...vs), Math.min(...vs)])].map(v => (
          <g key={v}>
            <line x1={LEFT} x2={W - RIGHT} y1={y(v)} y2={y(v)} className="spark-grid" />
            <text x={LEFT - 6} y={y(v) + 4} className="spark-axis" textAnchor="end">{axisLabel(v)}</text>
          </g>
        ))}
        <line x1={LEFT} x2={W - RIGHT} y1={H - BOTTOM + 4} y2={H - BOTTOM + 4} className="spark-grid" />
        {ticks.map(t => (
          <text key={t.f} x={LEFT + t.f * (W - LEFT - RIGHT)} y={H - 5} className="spark-axis" textAnchor={t.f === 0 ? 'start' : t.f === 1 ? 'end' : 'middle'}>{t.label}</text>
        ))}
        <path d={d} className="spark-line" fill="none" />
        {series.points.length <= 120 && series.points.map((p, i) => <circle key={i} cx={x(p.t)} cy={y(p.v)} r={2.5} className="spark-pt" />)}
        {last !== undefined && <circle cx={x(last.t)} cy={y(last.v)} r={4.5} className="spark-dot" />}
      </svg>
    </figure>
  )
}
