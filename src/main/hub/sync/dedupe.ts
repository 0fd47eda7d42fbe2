// Cloud side of exactly-once telemetry: an edge stamps each forwarded message with the
// application property `sitehub-origin` = `{edgeDeviceId}:{edge log seq}`, unique forever.
// The receiving hub accepts a given (deviceId, origin) once within a window of the most
// recent `window` origins; a resend (after a lost PUBACK, a reconnect or an edge crash) is
// acknowledged with the seq of the copy already stored and not stored again. The window is
// rebuilt from the tail of the durable log on open, so a cloud restart keeps it.
import type { TelemetryService } from '../services.js'
import type { StoredTelemetry } from '../types.js'

export const ORIGIN_PROPERTY = 'sitehub-origin'

export interface DedupeStats { duplicates: number; window: number }

export async function withTelemetryDedupe<T extends TelemetryService> (inner: T, opts: { window?: number } = {}): Promise<T & { dedupeStats(): DedupeStats }> {
  const window = opts.window ?? 200_000
  const seen = new Map<string, number>()
  const inflight = new Map<string, Promise<number>>()
  let duplicates = 0
  const keyOf = (m: { deviceId: string; moduleId?: string; properties: Record<string, string | null> }): string | null => {
    const o = m.properties[ORIGIN_PROPERTY]
    return typeof o === 'string' && o !== '' ? `${m.deviceId}/${m.moduleId ?? ''}|${o}` : null
  }
  const remember = (k: string, seq: number): void => {
    seen.set(k, seq)
    if (seen.size > window) {
      const oldest = seen.keys().next().value
      if (oldest !== undefined) seen.delete(oldest)
    }
  }
  // Rebuild from the log tail.
  const st = inner.stats()
  if (st.newestSeq !== null) {
    let from = Math.max(st.oldestSeq ?? 1, st.newestSeq - window + 1)
    for (;;) {
      const batch: StoredTelemetry[] = await inner.read(from, 2000)
      if (batch.length === 0) break
      for (const m of batch) { const k = keyOf(m); if (k !== null) remember(k, m.seq) }
      from = (batch[batch.length - 1] as StoredTelemetry).seq + 1
    }
  }
  return {
    ...inner,
    async accept (msg) {
      const k = keyOf(msg)
      if (k === null) return await inner.accept(msg)
      const known = seen.get(k)
      if (known !== undefined) { duplicates++; return known }
      const running = inflight.get(k)
      if (running !== undefined) { duplicates++; return await running }
      const p = inner.accept(msg)
      inflight.set(k, p)
      try {
        const seq = await p
        remember(k, seq)
        return seq
      } finally {
        inflight.delete(k)
      }
    },
    history: (i, l) => inner.history(i, l),
    read: (f, l) => inner.read(f, l),
    stats: () => inner.stats(),
    dedupeStats: () => ({ duplicates, window })
  }
}
