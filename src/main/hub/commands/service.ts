// The offline command queue (docs/commands.md). Commands live in the `commands` collection;
// each device's queue is delivered one command at a time, oldest first, through the direct
// method service once the device is connected and subscribed to methods. TTL expiry is driven
// by the hub clock (sweep()), on a timer in production and by hand in tests.
import { randomUUID } from 'node:crypto'
import { HubError, argumentInvalid } from '../errors.js'
import type { HubEventBus } from '../events.js'
import { identityKey, validateId } from '../registry/ids.js'
import type { ConnectionManager, MethodService } from '../services.js'
import type { HubStore } from '../store/types.js'
import type { Clock, Identity, JsonValue, Logger } from '../types.js'
import {
  COMMAND_STATUSES, TERMINAL_STATUSES,
  type CommandRecord, type CommandService, type CommandStatus, type EdgeCommandResult, type EnqueueCommandInput
} from './types.js'

// [C.5] printable US-ASCII without $ ( ) < > @ , ; : \ " / [ ] ? = { } SP HT
const METHOD_NAME_RE = /^[!#%&'*+\-.0-9A-Z^_`a-z|~]{1,128}$/
const MAX_PAYLOAD = 128 * 1024
export const MAX_QUEUED_PER_DEVICE = 50
export const MAX_KEPT_PER_DEVICE = 200
export const DEFAULT_TTL_SECONDS = 86_400
export const MAX_TTL_SECONDS = 30 * 86_400
const SUBSCRIBE_WAIT_MS = 10_000

/** A command-queue error with an HTTP status (the REST layer renders it as an IoT Hub error body). */
export class CommandError extends Error {
  constructor (readonly httpStatus: number, readonly errorName: string, message: string) {
    super(message)
    this.name = 'CommandError'
  }
}

export interface CommandServiceDeps {
  store: HubStore
  events: HubEventBus
  clock: Clock
  logger: Logger
  methods: MethodService
  connections: ConnectionManager
  exists: (identity: Identity) => boolean
  /** How often the TTL sweep runs (real time). Default 1000 ms; 0 disables the timer. */
  sweepIntervalMs?: number
  /**
   * Delay between a device connecting and the first delivery. A device reconnecting with a
   * persisted session counts as subscribed at once, but an SDK client may still be finishing
   * its own reconnect and lose a request sent in that instant. Default 1000 ms.
   */
  connectGraceMs?: number
  /** Cloud role: commands of devices served by a delegating edge are left to it (sync/cloud-delegation.ts). */
  delegation?: { edgeOf(identity: Identity): string | null }
  /** Cloud role: how long after its expiry a command an edge took over waits for the edge's report. Default 3600 s. */
  delegatedOutcomeWaitSeconds?: number
}

const iso = (ms: number): string => new Date(ms).toISOString()

function intIn (value: unknown, name: string, def: number, min: number, max: number): number {
  if (value === undefined || value === null) return def
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw argumentInvalid(`${name} must be an integer from ${min} to ${max}.`)
  }
  return value
}

const identityOf = (c: CommandRecord): Identity => (c.moduleId === undefined ? { deviceId: c.deviceId } : { deviceId: c.deviceId, moduleId: c.moduleId })

export function createCommandService (deps: CommandServiceDeps): CommandService {
  const { store, events, clock, logger } = deps
  /** Per identity key: command ids in creation order. */
  const byDevice = new Map<string, string[]>()
  /** Creation order (the clock can stand still in tests, and ISO times tie within a millisecond). */
  const ordinal = new Map<string, number>()
  let nextOrdinal = 0
  const pumping = new Set<string>()
  let closed = false

  const index = (c: CommandRecord): void => {
    const key = identityKey(identityOf(c))
    let ids = byDevice.get(key)
    if (!ids) byDevice.set(key, ids = [])
    ids.push(c.commandId)
    ordinal.set(c.commandId, nextOrdinal++)
  }
  for (const [, c] of [...store.entries('commands')].sort((a, b) => a[1].createdTimeUtc.localeCompare(b[1].createdTimeUtc))) index(c)

  const commandsOf = (key: string): CommandRecord[] =>
    (byDevice.get(key) ?? []).map((id) => store.get('commands', id)).filter((c): c is CommandRecord => c !== undefined)

  /** Durable state change, then the event. */
  async function save (next: CommandRecord, previous: CommandStatus | null): Promise<CommandRecord> {
    const durable = store.put('commands', next.commandId, next)
    await durable
    if (next.status !== previous) {
      events.emit('command.stateChanged', {
        commandId: next.commandId, deviceId: next.deviceId, ...(next.moduleId === undefined ? {} : { moduleId: next.moduleId }),
        methodName: next.methodName, status: next.status, previousStatus: previous
      })
    }
    if (TERMINAL_STATUSES.has(next.status)) await prune(identityKey(identityOf(next)))
    return structuredClone(next)
  }

  function transition (c: CommandRecord, status: CommandStatus, extra: Partial<CommandRecord> = {}): CommandRecord {
    const at = iso(clock.now())
    const next: CommandRecord = { ...c, ...extra, status, lastUpdatedTimeUtc: at }
    if (TERMINAL_STATUSES.has(status)) next.endTimeUtc = at
    return next
  }

  /** Keep at most MAX_KEPT_PER_DEVICE records per device: the oldest terminal ones go first. */
  async function prune (key: string): Promise<void> {
    const ids = byDevice.get(key)
    if (!ids || ids.length <= MAX_KEPT_PER_DEVICE) return
    let excess = ids.length - MAX_KEPT_PER_DEVICE
    const drop: string[] = []
    for (const id of ids) {
      if (excess === 0) break
      const c = store.get('commands', id)
      if (!c || TERMINAL_STATUSES.has(c.status)) { drop.push(id); excess-- }
    }
    if (drop.length === 0) return
    const gone = new Set(drop)
    byDevice.set(key, ids.filter((id) => !gone.has(id)))
    for (const id of drop) ordinal.delete(id)
    await store.batch(drop.map((id) => ({ op: 'del' as const, c: 'commands' as const, id })))
  }

  const isExpired = (c: CommandRecord): boolean => Date.parse(c.expiryTimeUtc) <= clock.now()

  async function expire (c: CommandRecord): Promise<void> {
    await save(transition(c, 'expired', {
      statusReason: 'The time-to-live passed before the device was reachable.',
      error: { code: 'Expired', message: `Not delivered within ${c.ttlInSeconds} s.` }
    }), c.status)
  }

  /** Delivers a device's queued commands one at a time while it stays connected and subscribed. */
  async function pump (identity: Identity): Promise<void> {
    const key = identityKey(identity)
    if (pumping.has(key) || closed) return
    pumping.add(key)
    try {
      while (!closed) {
        // A device served by a delegating edge gets its commands from the edge.
        if (deps.delegation?.edgeOf(identity) != null) return
        const next = commandsOf(key).find((c) => c.status === 'queued' && c.delegatedTo === undefined)
        if (!next) return
        if (isExpired(next)) { await expire(next); continue }
        if (!await deps.connections.waitFor(identity, 'methods', SUBSCRIBE_WAIT_MS)) {
          if (!deps.connections.isConnected(identity)) return
          continue // connected but not (yet) subscribed: wait again
        }
        // Re-read: it may have been cancelled or expired while we waited.
        const current = store.get('commands', next.commandId)
        if (!current || current.status !== 'queued' || current.delegatedTo !== undefined || closed) continue
        if (isExpired(current)) { await expire(current); continue }
        const sent = await save(transition(current, 'in_progress', { startTimeUtc: iso(clock.now()), attempts: current.attempts + 1 }), 'queued')
        await deliver(identity, sent)
      }
    } catch (err) {
      logger.warn('command delivery stopped', { key, error: (err as Error).message })
    } finally {
      pumping.delete(key)
    }
  }

  async function deliver (identity: Identity, sent: CommandRecord): Promise<void> {
    let outcome: CommandRecord
    try {
      const r = await deps.methods.invoke(identity, {
        methodName: sent.methodName, payload: sent.payload, responseTimeoutInSeconds: sent.responseTimeoutInSeconds, connectTimeoutInSeconds: 0
      })
      const ok = r.status >= 200 && r.status < 300
      outcome = transition(sent, ok ? 'succeeded' : 'failed', {
        response: { status: r.status, payload: r.payload },
        ...(ok ? {} : { statusReason: `The device answered with status ${r.status}.` })
      })
    } catch (err) {
      const name = err instanceof HubError ? err.errorName : 'ServerError'
      if (name === 'DeviceNotOnline') {
        // Never reached the device (it went away between the check and the send): queue it again.
        const { startTimeUtc: _s, ...rest } = sent
        outcome = transition({ ...rest, attempts: sent.attempts - 1 }, 'queued')
      } else if (name === 'GatewayTimeout') {
        outcome = transition(sent, 'timed_out', {
          statusReason: 'The device did not answer in time; it may or may not have run the method.',
          error: { code: 'GatewayTimeout', message: (err as Error).message }
        })
      } else {
        outcome = transition(sent, 'failed', { error: { code: name, message: (err as Error).message } })
      }
    }
    // A shutdown may have happened meanwhile; the store is closed then and restart recovery decides.
    if (!closed) await save(outcome, 'in_progress')
  }

  async function sweep (): Promise<number> {
    let n = 0
    for (const [, c] of [...store.entries('commands')]) {
      if (c.status !== 'queued' || !isExpired(c)) continue
      if (c.delegatedTo === undefined) { await expire(c); n++; continue }
      // Taken over by an edge: its report says what happened; without one long after the expiry, give up.
      if (Date.parse(c.expiryTimeUtc) + delegatedWaitMs <= clock.now()) {
        await save(transition(c, 'failed', {
          statusReason: `Edge ${c.delegatedTo} took this command over but had not reported its outcome ${Math.round(delegatedWaitMs / 1000)} s after it expired; a late report still replaces this.`,
          error: { code: 'EdgeOutcomeMissing', message: 'No outcome from the edge.' }
        }), c.status)
        n++
      }
    }
    return n
  }

  /** Restart recovery: a command in progress when the hub stopped is not re-sent blindly. */
  async function recover (): Promise<void> {
    for (const [, c] of [...store.entries('commands')]) {
      if (c.status !== 'in_progress') continue
      if (c.idempotent) {
        const { startTimeUtc: _s, ...rest } = c
        await save(transition(rest, 'queued', { statusReason: 'Re-queued: the hub restarted while it was in progress and the command is idempotent.' }), c.status)
      } else {
        await save(transition(c, 'failed', {
          statusReason: 'The hub restarted while the command was in progress; the device may or may not have run it. Not re-sent because it is not idempotent.',
          error: { code: 'HubRestarted', message: 'Interrupted by a hub restart during delivery.' }
        }), c.status)
      }
    }
  }

  const graceMs = deps.connectGraceMs ?? 1000
  const delegatedWaitMs = (deps.delegatedOutcomeWaitSeconds ?? 3600) * 1000
  const offConnected = events.on('device.connected', (e) => {
    const identity = e.moduleId === undefined ? { deviceId: e.deviceId } : { deviceId: e.deviceId, moduleId: e.moduleId }
    if (!commandsOf(identityKey(identity)).some((c) => c.status === 'queued')) return
    if (graceMs <= 0) { void pump(identity); return }
    setTimeout(() => { void pump(identity) }, graceMs).unref()
  })
  const offDeleted = events.on('device.deleted', (e) => {
    const key = identityKey(e)
    void (async () => {
      for (const c of commandsOf(key)) {
        if (c.status !== 'queued') continue
        await save(transition(c, 'failed', { error: { code: 'DeviceNotFound', message: 'The device was deleted before the command was delivered.' } }), c.status)
      }
    })().catch((err: Error) => logger.warn('command cleanup failed', { key, error: err.message }))
  })

  const sweepMs = deps.sweepIntervalMs ?? 1000
  const timer = sweepMs > 0 ? setInterval(() => { sweep().catch((err: Error) => logger.warn('command sweep failed', { error: err.message })) }, sweepMs) : undefined
  timer?.unref()

  const ready = recover()

  return {
    async enqueue (identity, input) {
      await ready
      if (closed) throw new HubError('ServiceUnavailable', 'The hub is shutting down.')
      if (typeof input !== 'object' || input === null) throw argumentInvalid('The command body must be a JSON object with methodName.')
      if (typeof input.methodName !== 'string' || !METHOD_NAME_RE.test(input.methodName)) {
        throw argumentInvalid(`'${String(input.methodName)}' is not a valid method name: use printable ASCII without spaces or $ ( ) < > @ , ; : \\ " / [ ] ? = { }.`)
      }
      const responseTimeoutInSeconds = intIn(input.responseTimeoutInSeconds, 'responseTimeoutInSeconds', 30, 5, 300)
      const ttlInSeconds = intIn(input.ttlInSeconds, 'ttlInSeconds', DEFAULT_TTL_SECONDS, 1, MAX_TTL_SECONDS)
      if (input.idempotent !== undefined && typeof input.idempotent !== 'boolean') throw argumentInvalid('idempotent must be true or false.')
      const payload: JsonValue = input.payload ?? null
      if (Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD) throw new HubError('MessageTooLarge', 'The method payload is larger than 128 KB.')
      if (!deps.exists(identity)) {
        throw identity.moduleId === undefined
          ? new HubError('DeviceNotFound', `Device ${identity.deviceId} not registered.`)
          : new HubError('ModuleNotFound', `Module ${identity.moduleId} on device ${identity.deviceId} not registered.`)
      }
      let commandId: string = randomUUID()
      if (input.commandId !== undefined) {
        const bad = validateId(input.commandId, 'command id')
        if (bad) throw bad
        if (store.has('commands', input.commandId)) throw new CommandError(409, 'CommandAlreadyExists', `A command with id ${input.commandId} already exists.`)
        commandId = input.commandId
      }
      const key = identityKey(identity)
      const queued = commandsOf(key).filter((c) => c.status === 'queued').length
      if (queued >= MAX_QUEUED_PER_DEVICE) {
        throw new HubError('DeviceMaximumQueueDepthExceeded', `Device ${identity.deviceId} already has ${queued} queued commands (the maximum).`)
      }
      const now = clock.now()
      const c: CommandRecord = {
        commandId,
        deviceId: identity.deviceId,
        ...(identity.moduleId === undefined ? {} : { moduleId: identity.moduleId }),
        methodName: input.methodName,
        payload,
        responseTimeoutInSeconds,
        ttlInSeconds,
        idempotent: input.idempotent ?? false,
        status: 'queued',
        createdTimeUtc: iso(now),
        lastUpdatedTimeUtc: iso(now),
        expiryTimeUtc: iso(now + ttlInSeconds * 1000),
        attempts: 0
      }
      index(c)
      const saved = await save(c, null)
      if (deps.connections.isConnected(identity)) void pump(identity)
      return saved
    },

    get (commandId) {
      const c = store.get('commands', commandId)
      return c === undefined ? undefined : structuredClone(c)
    },

    list (opts = {}) {
      const wanted = opts.status === undefined ? undefined : new Set(Array.isArray(opts.status) ? opts.status : [opts.status])
      for (const s of wanted ?? []) if (!COMMAND_STATUSES.includes(s)) throw argumentInvalid(`Unknown command status '${String(s)}'; use one of ${COMMAND_STATUSES.join(', ')}.`)
      const top = intIn(opts.top, 'top', 100, 1, 1000)
      const source = opts.identity === undefined
        ? [...store.entries('commands')].map(([, c]) => c)
        : commandsOf(identityKey(opts.identity))
      return source
        .filter((c) => wanted === undefined || wanted.has(c.status))
        .sort((a, b) => b.createdTimeUtc.localeCompare(a.createdTimeUtc) || (ordinal.get(b.commandId) ?? 0) - (ordinal.get(a.commandId) ?? 0))
        .slice(0, top)
        .map((c) => structuredClone(c))
    },

    async cancel (commandId, reason) {
      await ready
      const c = store.get('commands', commandId)
      if (!c) throw new CommandError(404, 'CommandNotFound', `Command ${commandId} not found.`)
      if (c.status !== 'queued') {
        throw new CommandError(409, 'CommandNotCancellable', `Command ${commandId} is ${c.status}; only a queued command can be cancelled (a method already sent cannot be called back).`)
      }
      if (c.delegatedTo !== undefined) {
        // The edge holds it: ask it to cancel (it does unless it already sent it) and wait for its report.
        if (c.cancelRequestedAt !== undefined) return structuredClone(c)
        const at = iso(clock.now())
        return save({ ...c, cancelRequestedAt: at, lastUpdatedTimeUtc: at, statusReason: `Cancel requested (${reason ?? 'no reason given'}); edge ${c.delegatedTo} cancels it unless it was already sent, and reports the outcome.` }, c.status)
      }
      return save(transition(c, 'cancelled', {
        statusReason: reason ?? 'Cancelled before delivery.',
        error: { code: 'Cancelled', message: reason ?? 'Cancelled before delivery.' }
      }), c.status)
    },

    sweep: async () => { await ready; return sweep() },

    stats () {
      const out = Object.fromEntries(COMMAND_STATUSES.map((s) => [s, 0])) as Record<CommandStatus, number>
      for (const [, c] of store.entries('commands')) out[c.status]++
      return out
    },

    edgeCommands (edgeId) {
      const claimable: CommandRecord[] = []
      const delegated: CommandRecord[] = []
      for (const [, c] of store.entries('commands')) {
        if (c.delegatedTo === edgeId) { if (c.reportedByEdgeAt === undefined && !TERMINAL_STATUSES.has(c.status)) delegated.push(structuredClone(c)); continue }
        if (c.status === 'queued' && c.delegatedTo === undefined && !isExpired(c) && deps.delegation?.edgeOf(identityOf(c)) === edgeId) claimable.push(structuredClone(c))
      }
      return { claimable, delegated }
    },

    async claimForEdge (edgeId, commandIds) {
      await ready
      const at = iso(clock.now())
      const out: CommandRecord[] = []
      const ops: Array<{ op: 'put'; c: 'commands'; id: string; doc: CommandRecord }> = []
      // Synchronous up to the write: the local pump re-reads the record before sending and skips delegated ones.
      for (const id of new Set(commandIds)) {
        const c = store.get('commands', id)
        if (c === undefined) continue
        if (c.delegatedTo === edgeId) { if (c.reportedByEdgeAt === undefined) out.push(structuredClone(c)); continue }
        if (c.delegatedTo !== undefined || c.status !== 'queued' || isExpired(c) || deps.delegation?.edgeOf(identityOf(c)) !== edgeId) continue
        const next: CommandRecord = { ...c, delegatedTo: edgeId, delegatedAt: at, lastUpdatedTimeUtc: at, statusReason: `Taken over by edge ${edgeId}, which delivers it when the device is connected at its site.` }
        ops.push({ op: 'put', c: 'commands', id, doc: next })
        out.push(structuredClone(next))
      }
      if (ops.length > 0) await store.batch(ops)
      return out
    },

    async recordEdgeResults (edgeId, results) {
      await ready
      const recorded: string[] = []
      const ignored: Array<{ commandId: string; reason: string }> = []
      for (const r of results) {
        const c = store.get('commands', r.commandId)
        if (c === undefined || c.delegatedTo !== edgeId) { ignored.push({ commandId: r.commandId, reason: `not a command taken over by ${edgeId}` }); continue }
        if (c.reportedByEdgeAt !== undefined) { ignored.push({ commandId: r.commandId, reason: 'already recorded' }); continue }
        if (!TERMINAL_STATUSES.has(r.status)) { ignored.push({ commandId: r.commandId, reason: `${r.status} is not a final state` }); continue }
        const { error: _e, response: _r, statusReason: _s, ...base } = c
        const next = transition(base, r.status, {
          attempts: r.attempts,
          reportedByEdgeAt: iso(clock.now()),
          ...(r.statusReason === undefined ? {} : { statusReason: r.statusReason }),
          ...(r.startTimeUtc === undefined ? {} : { startTimeUtc: r.startTimeUtc }),
          ...(r.response === undefined ? {} : { response: r.response }),
          ...(r.error === undefined ? {} : { error: r.error })
        })
        if (r.endTimeUtc !== undefined) next.endTimeUtc = r.endTimeUtc
        await save(next, c.status)
        recorded.push(r.commandId)
      }
      return { recorded, ignored }
    },

    async close () {
      if (closed) return
      closed = true
      if (timer) clearInterval(timer)
      offConnected()
      offDeleted()
      await ready.catch(() => {})
    }
  }
}
