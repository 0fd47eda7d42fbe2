// The event half of the contract. The hub's own HubEvents are fine-grained (1,000 twin
// updates a second is normal); the UI gets them coalesced into batches (ui server and IPC
// forwarder both use api/ui/events.ts), keyed by `type` + device, last one wins.
import type { SyncDeviceCounts, SyncLinkState, SyncQueueView } from './sync.js'
import type { HubSettingsView, SerialPortStatusView } from './site.js'
import type { CommandState } from './model-devices.js'

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
  /** The upstream link changed state (docs/sync.md). */
  | { type: 'sync.link'; state: SyncLinkState; previous: SyncLinkState; reason: string; at: string }
  /** Sync queue depths changed (sampled about once a second while they move; last one wins). */
  | { type: 'sync.queue'; queue: SyncQueueView; devices: SyncDeviceCounts; at: string }
  /** A sync conflict was opened (or its fields changed), or cleared (resolved). */
  | { type: 'sync.conflict'; change: 'opened' | 'cleared'; id: string; deviceId: string; kind: string | null; fields: string[] }
  /** `metrics`: targeted/applied counts or custom metric results moved after an evaluation run. */
  | { type: 'configuration.changed'; id: string; change: 'created' | 'updated' | 'deleted' | 'metrics' }
  /** A job changed since the last batch: its status (latest) and how many device records moved. Fetch the job if you show it. */
  | { type: 'job.changed'; jobId: string; status: string | null; devices: number }
  /** Every serial port's state and counters; sent (at most once a second) when any of them changed. */
  | { type: 'serial.status'; ports: SerialPortStatusView[] }
  | { type: 'firmware.changed'; name: string; version: string; change: 'added' | 'removed' }
  | { type: 'settings.changed'; settings: HubSettingsView }
  /** A queued command (hub.commands) changed state; coalesced per command, last one wins. */
  | { type: 'command.changed'; commandId: string; deviceId: string; methodName: string; status: CommandState; previousStatus: CommandState | null }
  /** A saved view of the devices table was saved, renamed or removed (views are shared by everyone on the site). */
  | { type: 'views.changed'; name: string; change: 'saved' | 'renamed' | 'removed' }
  /** Batches were dropped (a slow client): reload what you show. */
  | { type: 'resync'; reason: string }

export type UiEventType = UiEvent['type']
export type UiEventOf<T extends UiEventType> = Extract<UiEvent, { type: T }>
