// The HubStore contract: domain code sees only this, never lowdb (STYLE 4.8).
import type { AccountRecord, AuditRecord } from '../accounts/types.js'
import type { CommandRecord } from '../commands/types.js'
import type { ConfigurationTwinState, StoredConfiguration } from '../configurations/types.js'
import type { FirmwareImage } from '../firmware/types.js'
import type { C2dMessage, DeviceRecord, JsonObject, SessionSubscriptions, SharedAccessPolicy, TwinRecord } from '../types.js'
import type { SerialPortConfig } from '../serial/types.js'
import type { SavedViewRecord } from '../views/service.js'

/** Collections and their document types. Keys are identity keys (`d` or `d/m`) or names. */
export interface Collections extends CommandAndConfigurationCollections {
  devices: DeviceRecord
  twins: TwinRecord
  policies: SharedAccessPolicy
  settings: JsonObject
  /** The hub's own record of each identity's MQTT subscriptions (for clean=false sessions across restarts). */
  sessions: SessionSubscriptions
  /** Pending cloud-to-device messages per identity, oldest first. */
  c2d: { messages: C2dMessage[] }
  /** Free-form counters and cursors (change feed sequence, ...). */
  meta: JsonObject
  /** Registry import/export jobs (C.2) and, later, jobs v2. Keyed by job id. */
  jobs: JsonObject
  /** Jobs v2 per-device executions (`devices.jobs`, E.3), keyed `{jobId} {identityKey}`. */
  deviceJobs: JsonObject
  /** Firmware library metadata, keyed `name/version`; the bytes live in DIR/firmware/{sha256}. */
  firmware: FirmwareImage
  /** Serial port configurations (hub.serial), keyed by port name. */
  serialPorts: SerialPortConfig
  /** Upstream sync (docs/sync.md): settings, edge, telemetry cursor, `dev:{id}` bases, `conflict:{id}`. */
  sync: JsonObject
  /** Technician UI accounts (hashed passwords), keyed by lower-case name. */
  accounts: AccountRecord
  /** The UI audit log, keyed `a{seq, 12 digits}`. */
  audit: AuditRecord
  /** Saved views of the UI's devices table (hub/views), keyed by the lower-case name. */
  uiViews: SavedViewRecord
}

/** The offline command queue and automatic configurations' collections (part of Collections). */
export interface CommandAndConfigurationCollections {
  /** Offline command queue (docs/commands.md), keyed by command id. */
  commands: CommandRecord
  /** Automatic device configurations (F), keyed by configuration id. */
  configurations: StoredConfiguration
  /** Per identity key: which configuration owns which desired path. */
  configurationTwins: ConfigurationTwinState
}

export type CollectionName = keyof Collections

export type StoreOp =
  | { [C in CollectionName]: { op: 'put'; c: C; id: string; doc: Collections[C] } }[CollectionName]
  | { op: 'del'; c: CollectionName; id: string }

export interface RecoveryReport {
  /** Schema version found on disk (0 for a new data dir) and the one now in use. */
  fromSchemaVersion: number
  schemaVersion: number
  /** Journal records replayed on open. */
  replayed: number
  /** Torn or corrupt journal bytes dropped at the tail (a crash mid-write). */
  droppedBytes: number
  /** Human-readable notes on what could not be recovered, if anything. */
  problems: string[]
}

export interface StoreStats {
  journalBytes: number
  snapshotBytes: number
  commits: number
  compactions: number
  docs: Record<CollectionName, number>
}

/**
 * Documents in memory, reads are synchronous. A write is applied in memory at once and is
 * durable (fsynced) when its promise resolves: await it before acknowledging anything.
 * Writes are serialized; concurrent writes are group-committed.
 */
export interface HubStore {
  get<C extends CollectionName>(c: C, id: string): Collections[C] | undefined
  has(c: CollectionName, id: string): boolean
  /** Iterates [id, doc] in insertion order. Do not mutate the yielded docs. */
  entries<C extends CollectionName>(c: C): IterableIterator<[string, Collections[C]]>
  size(c: CollectionName): number
  put<C extends CollectionName>(c: C, id: string, doc: Collections[C]): Promise<void>
  del(c: CollectionName, id: string): Promise<void>
  /** Atomic: all or nothing survives a crash. */
  batch(ops: StoreOp[]): Promise<void>
  /** Resolves when everything written so far is durable. */
  flush(): Promise<void>
  readonly recovery: RecoveryReport
  stats(): StoreStats
  close(): Promise<void>
}
