// Acknowledged alerts: alerts are computed on every fleet.summary, so each gets a stable id
// from what it is about (kind, device, since when; for the store, its message, so a worse
// state alerts again). Acknowledgements are kept durably in the store's `meta` collection
// (doc `alertAcks`, newest 500) and shown beside the alert until its id changes.
import { createHash } from 'node:crypto'
import type { Alert } from '../../../../shared/contract/index.js'
import { HubError } from '../../errors.js'
import type { Hub } from '../../services.js'

const DOC = 'alertAcks'
const KEEP = 500
type Ack = { by: string; at: string }

export function alertId (a: Pick<Alert, 'kind' | 'deviceId' | 'at' | 'message'>): string {
  const basis = `${a.kind}|${a.deviceId ?? ''}|${a.kind === 'store' ? a.message : a.at}`
  return createHash('sha256').update(basis).digest('hex').slice(0, 16)
}

function acks (hub: Hub): Record<string, Ack> {
  return (hub.store.get('meta', DOC) ?? {}) as unknown as Record<string, Ack>
}

/** The alerts with their ids and acknowledgements; acknowledged ones after the others. */
export function withAcks (hub: Hub, alerts: Alert[]): Alert[] {
  const known = acks(hub)
  const out = alerts.map(a => {
    const id = alertId(a)
    return { ...a, id, acknowledged: known[id] ?? null }
  })
  return [...out.filter(a => a.acknowledged === null), ...out.filter(a => a.acknowledged !== null)]
}

export function ackState (hub: Hub, id: string): { acknowledged: Ack | null } {
  return { acknowledged: acks(hub)[id] ?? null }
}

/** Acknowledges one of `current` (the alerts as they are now). */
export async function acknowledge (hub: Hub, current: Alert[], id: string, by: string): Promise<{ id: string; acknowledged: Ack }> {
  if (!current.some(a => alertId(a) === id)) throw new HubError('ArgumentInvalid', 'There is no such alert now (it may have cleared): reload the fleet overview')
  const ack = { by, at: new Date(hub.clock.now()).toISOString() }
  const entries = Object.entries(acks(hub)).filter(([k]) => k !== id)
  entries.push([id, ack])
  await hub.store.put('meta', DOC, Object.fromEntries(entries.slice(-KEEP)) as never)
  return { id, acknowledged: ack }
}
