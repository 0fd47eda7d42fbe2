// The audit log: one entry per accepted change (and per refused attempt of a signed-in user),
// durable in the hub store (collection `audit`, keyed by zero-padded seq) before the call is
// answered. Bounded: the newest `maxEntries` within `maxAgeDays` are kept.
import type { AuditEntry, AuditPage, JsonValue } from '../../../shared/contract/index.js'
import type { HubStore } from '../store/types.js'
import type { Clock } from '../types.js'

export interface AuditRetention {
  /** Default 20,000 entries. */
  maxEntries: number
  /** Default 365 days. */
  maxAgeDays: number
}
export const DEFAULT_AUDIT_RETENTION: AuditRetention = { maxEntries: 20_000, maxAgeDays: 365 }

export interface AuditQuery {
  user?: string | undefined
  method?: string | undefined
  deviceId?: string | undefined
  outcome?: 'ok' | 'error' | undefined
  from?: string | undefined
  to?: string | undefined
  beforeSeq?: number | undefined
  limit?: number | undefined
}

export interface AuditLog {
  /** Durable when the promise resolves. */
  record(entry: Omit<AuditEntry, 'seq' | 'at'>): Promise<AuditEntry>
  list(q?: AuditQuery): AuditPage
  size(): number
  setRetention(r: Partial<AuditRetention>): void
}

/** Largest before/after/input kept per entry (JSON characters); bigger values are summarized. */
export const MAX_AUDIT_VALUE = 16 * 1024

export const auditKey = (seq: number): string => `a${String(seq).padStart(12, '0')}`

export function capValue (v: JsonValue): JsonValue {
  const text = JSON.stringify(v)
  if (text === undefined || text.length <= MAX_AUDIT_VALUE) return v
  return { $truncated: true, chars: text.length, start: text.slice(0, 2000) }
}

export function createAuditLog (store: HubStore, clock: Clock, retention: Partial<AuditRetention> = {}): AuditLog {
  let r = { ...DEFAULT_AUDIT_RETENTION, ...retention }
  // Oldest first; the store keeps insertion order, sorted again here to be safe after a replay.
  const order: AuditEntry[] = [...store.entries('audit')].map(([, e]) => e).sort((a, b) => a.seq - b.seq)
  let seq = order.at(-1)?.seq ?? 0

  function expired (): string[] {
    const cutoff = clock.now() - r.maxAgeDays * 86_400_000
    let drop = Math.max(0, order.length - r.maxEntries)
    while (drop < order.length && Date.parse((order[drop] as AuditEntry).at) < cutoff) drop++
    return order.splice(0, drop).map(e => auditKey(e.seq))
  }

  return {
    async record (entry) {
      const full: AuditEntry = {
        ...entry, seq: ++seq, at: new Date(clock.now()).toISOString(),
        input: capValue(entry.input), before: capValue(entry.before), after: capValue(entry.after)
      }
      order.push(full)
      const dels = expired()
      await store.batch([{ op: 'put', c: 'audit', id: auditKey(full.seq), doc: full }, ...dels.map(id => ({ op: 'del' as const, c: 'audit' as const, id }))])
      return full
    },
    list (q = {}) {
      const user = q.user?.trim().toLowerCase()
      const method = q.method?.trim()
      const prefix = method !== undefined && (method.endsWith('.') || method.endsWith('*')) ? method.replace(/\*$/, '') : undefined
      const from = q.from === undefined ? undefined : Date.parse(q.from)
      const to = q.to === undefined ? undefined : Date.parse(q.to)
      const limit = q.limit ?? 100
      const items: AuditEntry[] = []
      let total = 0
      let next: number | null = null
      for (let i = order.length - 1; i >= 0; i--) {
        const e = order[i] as AuditEntry
        if (user !== undefined && user !== '' && e.user !== user) continue
        if (method !== undefined && method !== '' && (prefix !== undefined ? !e.method.startsWith(prefix) : e.method !== method)) continue
        if (q.deviceId !== undefined && q.deviceId !== '' && !(e.target?.kind === 'device' && e.target.id === q.deviceId)) continue
        if (q.outcome !== undefined && e.outcome !== q.outcome) continue
        const at = Date.parse(e.at)
        if (from !== undefined && Number.isFinite(from) && at < from) continue
        if (to !== undefined && Number.isFinite(to) && at > to) continue
        total++
        if (q.beforeSeq !== undefined && e.seq >= q.beforeSeq) continue
        if (items.length < limit) items.push(e)
        else if (next === null) next = (items.at(-1) as AuditEntry).seq
      }
      return { items, total, next }
    },
    size: () => order.length,
    setRetention (x) { r = { ...r, ...x } }
  }
}
