// A horizontal SVG bar chart (no chart library: strict CSP, small bundle).
export interface Bar { label: string; value: number }

export function BarChart ({ bars, title, unit }: { bars: Bar[]; title: string; unit: string }) {
  const max = Math.max(1, ...bars.map(b => b.value))
  const rowH = 34
  const labelW = 150
  const width = 520
  const barW = width - labelW - 120
  return (
    <svg className="chart" role="img" aria-label={title} viewBox={`0 0 ${width} ${Math.max(1, bars.length) * rowH}`} width="100%">
      <title>{title}</title>
      {bars.map((b, i) => (
        <g key={b.label} transform={`translate(0 ${i * rowH})`}>
          <text x={labelW - 10} y={rowH / 2} className="chart-label" textAnchor="end" dominantBaseline="middle">{b.label}</text>
          <rect x={labelW} y={5} height={rowH - 10} width={Math.max(2, (b.value / max) * barW)} rx={4} className="chart-bar" />
          <text x={labelW + Math.max(2, (b.value / max) * barW) + 8} y={rowH / 2} className="chart-value" dominantBaseline="middle">
            {b.value} {b.value === 1 ? unit : `${unit}s`}
          </text>
        </g>
      ))}
    </svg>
  )
}
