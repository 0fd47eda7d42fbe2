// Numeric telemetry series for the live chart (pure: no DOM, no React).
import type { TelemetryItem } from '../../../shared/contract/index'

export interface Series { field: string; points: Array<{ t: number; v: number }> }

/** Numeric top-level fields of JSON bodies, oldest first, within `windowMs` of `now`. */
export function numericSeries (items: TelemetryItem[], now: number, windowMs = 5 * 60_000): Series[] {
  const byField = new Map<string, Array<{ t: number; v: number }>>()
  for (const m of items) {
    const t = Date.parse(m.enqueuedTime)
    if (m.bodyEncoding !== 'utf8' || !Number.isFinite(t) || t < now - windowMs) continue
    let body: unknown
    try { body = JSON.parse(m.body) } catch { continue }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) continue
    for (const [k, v] of Object.entries(body)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue
      const list = byField.get(k) ?? []
      list.push({ t, v })
      byField.set(k, list)
    }
  }
  return [...byField.entries()].map(([field, points]) => ({ field, points: points.sort((a, b) => a.t - b.t) }))
}
