// The event half of the contract. The hub's own HubEvents are fine-grained (1,000 twin
// updates a second is normal); the UI gets them coalesced into batches (ui server and IPC
// forwarder both use api/ui/events.ts), keyed by `type` + device, last one wins.
import type { SyncDeviceCounts, SyncLinkState, SyncQueueView } from './sync.js'

export type UiEvent =
  | { type: 'device.connection'; deviceId: string; connected: boolean; at: string }
  | { type: 'device.registry'; deviceId: string; change: 'created' | 'updated' | 'deleted'; status: 'enabled' | 'disabled' | null }
  /** Parts of the twin that changed since the last batch; fetch the twin if you show it. */
  | { type: 'twin.changed'; deviceId: string; parts: Array<'tags' | 'desired' | 'reported' | 'configurations'> }
  /** Messages a device sent since the last batch. */
  | { type: 'telemetry.received'; deviceId: string; count: number; lastSeq: number; at: string }
  /** Hub-wide telemetry in the last batch window. */
  | { type: 'telemetry.rate'; messages: number; windowMs: number }
  | { type: 'method.invoked'; deviceId: string; methodName: string; status: number | null; error: string | null; durationMs: number; at: string }
  | { type: 'configuration.changed'; id: string; change: 'created' | 'updated' | 'deleted' }
  /** The upstream link changed state (docs/sync.md). */
  | { type: 'sync.link'; state: SyncLinkState; previous: SyncLinkState; reason: string; at: string }
  /** Sync queue depths changed (sampled about once a second while they move; last one wins). */
  | { type: 'sync.queue'; queue: SyncQueueView; devices: SyncDeviceCounts; at: string }
  /** A sync conflict was opened (or its fields changed), or cleared (resolved). */
  | { type: 'sync.conflict'; change: 'opened' | 'cleared'; id: string; deviceId: string; kind: string | null; fields: string[] }
  /** Batches were dropped (a slow client): reload what you show. */
  | { type: 'resync'; reason: string }

export type UiEventType = UiEvent['type']
export type UiEventOf<T extends UiEventType> = Extract<UiEvent, { type: T }>
