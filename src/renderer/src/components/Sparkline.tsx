// A live line chart of one numeric telemetry field over the last minutes (SVG, no library).
import type { Series } from '../lib/series'

export function Sparkline ({ series, now, windowMs = 5 * 60_000 }: { series: Series; now: number; windowMs?: number }) {
  const w = 600
  const h = 120
  const pad = 8
  const vs = series.points.map(p => p.v)
  const lo = Math.min(...vs)
  const hi = Math.max(...vs)
  const span = hi - lo || 1
  const x = (t: number): number => pad + ((t - (now - windowMs)) / windowMs) * (w - 2 * pad)
  const y = (v: number): number => h - pad - ((v - lo) / span) * (h - 2 * pad)
  const d = series.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')
  const last = series.points.at(-1)
  return (
    <figure className="spark" data-testid="telemetry-chart" data-field={series.field} data-points={series.points.length}>
      <figcaption><strong className="mono">{series.field}</strong> last 5 min · now {last?.v ?? '—'} · min {lo} · max {hi}</figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} width="100%" role="img" aria-label={`${series.field} over the last 5 minutes`}>
        <path d={d} className="spark-line" fill="none" />
        {last !== undefined && <circle cx={x(last.t)} cy={y(last.v)} r={4} className="spark-dot" />}
      </svg>
    </figure>
  )
}
