// The offline command queue (docs/commands.md): a direct method queued for a device, delivered
// when it is connected and subscribed to methods, with a time-to-live. States follow AWS IoT
// job executions.
import type { Identity, JsonValue } from '../types.js'

/**
 * - `queued`: waiting for the device (online or not); expires when its TTL passes.
 * - `in_progress`: sent to the device, waiting for its response.
 * - `succeeded`: the device answered with a status 200..299.
 * - `failed`: the device answered with another status, or delivery failed (hub restart
 *   during delivery of a non-idempotent command, device deleted).
 * - `timed_out`: sent, but no response within `responseTimeoutInSeconds`.
 * - `expired`: still queued when its TTL passed; never sent.
 * - `cancelled`: cancelled while queued; never sent.
 */
export type CommandStatus = 'queued' | 'in_progress' | 'succeeded' | 'failed' | 'timed_out' | 'expired' | 'cancelled'

export const COMMAND_STATUSES: readonly CommandStatus[] = ['queued', 'in_progress', 'succeeded', 'failed', 'timed_out', 'expired', 'cancelled']
export const TERMINAL_STATUSES: ReadonlySet<CommandStatus> = new Set(['succeeded', 'failed', 'timed_out', 'expired', 'cancelled'])

/** A command as stored and as returned (REST body and core API). */
export interface CommandRecord {
  commandId: string
  deviceId: string
  moduleId?: string
  methodName: string
  payload: JsonValue
  /** How long to wait for the device's response once sent (5..300 s, C.5). */
  responseTimeoutInSeconds: number
  /** How long the command may wait in the queue before it expires. */
  ttlInSeconds: number
  /** Re-delivered (instead of failed) when a hub restart interrupted its delivery. */
  idempotent: boolean
  status: CommandStatus
  /** Why it is in this state, in plain words, when that is not obvious. */
  statusReason?: string
  createdTimeUtc: string
  lastUpdatedTimeUtc: string
  /** createdTimeUtc + ttlInSeconds: a queued command still here at this time expires. */
  expiryTimeUtc: string
  /** When it was (last) sent to the device. */
  startTimeUtc?: string
  /** When it reached a terminal state. */
  endTimeUtc?: string
  /** How many times it was sent (more than 1 only for an idempotent command re-delivered after a restart). */
  attempts: number
  /** The device's answer (succeeded or failed with a device status). */
  response?: { status: number; payload: JsonValue }
  /** What went wrong (failed without a device answer, timed_out, expired, cancelled). */
  error?: { code: string; message: string }
  /** Cloud role: the edge that took this command over, to deliver it at its site (docs/sync.md). */
  delegatedTo?: string
  delegatedAt?: string
  /** When the edge's final state for it arrived (a second report changes nothing). */
  reportedByEdgeAt?: string
  /** Cancel asked at the cloud while an edge held it: the edge cancels it if not yet sent, and reports. */
  cancelRequestedAt?: string
}

/** The final state of a delegated command, as the edge reports it. */
export type EdgeCommandResult = Pick<CommandRecord, 'commandId' | 'status' | 'attempts'> & Partial<Pick<CommandRecord, 'statusReason' | 'startTimeUtc' | 'endTimeUtc' | 'response' | 'error'>>

export interface EnqueueCommandInput {
  methodName: string
  payload?: JsonValue
  /** Default 30, 5..300. */
  responseTimeoutInSeconds?: number
  /** Default 86,400 (one day), 1..2,592,000 (30 days). */
  ttlInSeconds?: number
  /** Default false. */
  idempotent?: boolean
  /** Optional caller-chosen id (device id rules); a random one otherwise. */
  commandId?: string
}

export interface CommandListOptions {
  identity?: Identity
  status?: CommandStatus | CommandStatus[]
  /** Newest first; default 100, at most 1000. */
  top?: number
}

export interface CommandService {
  /** Queue a direct method for a device (online or offline). Throws DeviceNotFound/ModuleNotFound, ArgumentInvalid, DeviceMaximumQueueDepthExceeded (403004). */
  enqueue(identity: Identity, input: EnqueueCommandInput): Promise<CommandRecord>
  get(commandId: string): CommandRecord | undefined
  /** Newest first. */
  list(opts?: CommandListOptions): CommandRecord[]
  /** Cancel a queued command. Throws CommandNotFound (404) or, when it is no longer queued, a 409 error. One an edge took over stays queued with `cancelRequestedAt` until the edge reports. */
  cancel(commandId: string, reason?: string): Promise<CommandRecord>
  /** Expire queued commands whose TTL has passed on the hub clock; returns how many. The hub runs it on a timer. */
  sweep(): Promise<number>
  /** Counts per status. */
  stats(): Record<CommandStatus, number>
  /** Cloud role: queued commands an edge may take over, and those it took over without a final state yet. */
  edgeCommands(edgeId: string): { claimable: CommandRecord[]; delegated: CommandRecord[] }
  /** Cloud role: atomically marks the listed commands (still queued, of the edge's devices) as taken over. Durable before it resolves. */
  claimForEdge(edgeId: string, commandIds: string[]): Promise<CommandRecord[]>
  /** Cloud role: records the final states the edge reports; idempotent per command. */
  recordEdgeResults(edgeId: string, results: EdgeCommandResult[]): Promise<{ recorded: string[]; ignored: Array<{ commandId: string; reason: string }> }>
  close(): Promise<void>
}
