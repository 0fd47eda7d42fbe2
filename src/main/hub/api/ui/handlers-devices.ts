// UI handlers of the Devices and Device detail screens' tools: saved views (hub/views), bulk
// tags, the offline command queue (hub.commands) and telemetry after a sequence number.
// Spread into the handler map of handlers.ts; inputs arrive validated by the contract.
import type {
  CommandState, CommandView, DeviceOutcome, DeviceSort, JsonObject, JsonValue, MethodInput, MethodOutput, SavedView
} from '../../../../shared/contract/index.js'
import type { CommandRecord } from '../../commands/types.js'
import { HubError } from '../../errors.js'
import type { Hub } from '../../services.js'
import { createSavedViews, type SavedViewRecord } from '../../views/service.js'
import { toErrorResult } from './errors.js'
import { telemetryItem } from './views.js'

export const DEVICE_TOOL_METHODS = [
  'views.list', 'views.save', 'views.rename', 'views.remove', 'devices.tag',
  'commands.list', 'commands.enqueue', 'commands.cancel', 'telemetry.since'
] as const
type ToolMethod = typeof DEVICE_TOOL_METHODS[number]
type ToolHandlers = { [M in ToolMethod]: (input: MethodInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M> }

/** Messages per device the telemetry log indexes (telemetry/log.ts): history() up to this reads no more than it returns. */
const HISTORY_INDEX_DEPTH = 100
/** How many twins a bulk tag patches at once (the store group-commits them). */
const TAG_CONCURRENCY = 16

export function commandView (c: CommandRecord): CommandView {
  return {
    commandId: c.commandId,
    deviceId: c.deviceId,
    methodName: c.methodName,
    payload: c.payload,
    status: c.status as CommandState,
    statusReason: c.statusReason ?? null,
    responseTimeoutInSeconds: c.responseTimeoutInSeconds,
    ttlInSeconds: c.ttlInSeconds,
    idempotent: c.idempotent,
    createdTime: c.createdTimeUtc,
    updatedTime: c.lastUpdatedTimeUtc,
    expiryTime: c.expiryTimeUtc,
    startTime: c.startTimeUtc ?? null,
    endTime: c.endTimeUtc ?? null,
    attempts: c.attempts,
    response: c.response ?? null,
    error: c.error ?? null
  }
}

const viewOf = (v: SavedViewRecord): SavedView => ({ ...v, sort: v.sort as DeviceSort | null })

/** `location.hall` + value -> { location: { hall: value } }. */
export function tagPatch (path: string, value: JsonValue): JsonObject {
  const names = path.split('.')
  let patch: JsonValue = value
  for (let i = names.length - 1; i >= 0; i--) patch = { [names[i] as string]: patch }
  return patch as JsonObject
}

export function createDeviceToolHandlers (deps: {
  hub: Hub
  /** Runs a devices-table query the way devices.list does (throws its query error with the position in the user's text). */
  checkQuery: (query: string) => void
}): ToolHandlers {
  const { hub } = deps
  const views = createSavedViews({ store: hub.store, events: hub.events, clock: hub.clock })

  return {
    'views.list': () => views.list().map(viewOf),
    'views.save': async (input) => {
      // A view that cannot run is refused now, with the error spot, not when someone opens it.
      if (input.query !== undefined && input.query.trim() !== '') deps.checkQuery(input.query)
      return viewOf(await views.save({
        name: input.name,
        ...(input.search === undefined ? {} : { search: input.search }),
        ...(input.query === undefined ? {} : { query: input.query }),
        ...(input.sort === undefined ? {} : { sort: input.sort }),
        ...(input.overwrite === undefined ? {} : { overwrite: input.overwrite })
      }))
    },
    'views.rename': async (input) => viewOf(await views.rename(input.name, input.newName)),
    'views.remove': async (input) => {
      const name = views.get(input.name)?.name ?? input.name
      await views.remove(input.name)
      return { name }
    },

    'devices.tag': async (input) => {
      if ((input.remove === true) === (input.value !== undefined)) {
        throw new HubError('ArgumentInvalid', 'Give either a value to set the tag to, or remove: true to delete it')
      }
      if (input.value === null) throw new HubError('ArgumentInvalid', 'A tag value cannot be null; use remove: true to delete the tag')
      const patch = tagPatch(input.tag, input.remove === true ? null : input.value as JsonValue)
      const ids = [...new Set(input.deviceIds)]
      const results: DeviceOutcome[] = new Array(ids.length)
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < ids.length) {
          const i = next++
          const deviceId = ids[i] as string
          try {
            await hub.twins.patchTags({ deviceId }, patch, undefined, { by: 'ui' })
            results[i] = { deviceId, ok: true }
          } catch (err) {
            results[i] = { deviceId, ok: false, error: toErrorResult(err).error }
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(TAG_CONCURRENCY, ids.length) }, worker))
      const failed = results.filter(r => !r.ok).length
      return { results, succeeded: results.length - failed, failed }
    },

    'commands.list': (input) => {
      hub.registry.mustGet({ deviceId: input.deviceId })
      return hub.commands.list({
        identity: { deviceId: input.deviceId }, top: input.top ?? 50,
        ...(input.status === undefined ? {} : { status: input.status })
      }).map(commandView)
    },
    'commands.enqueue': async (input) => commandView(await hub.commands.enqueue({ deviceId: input.deviceId }, {
      methodName: input.methodName,
      ...(input.payload === undefined ? {} : { payload: input.payload }),
      ...(input.ttlInSeconds === undefined ? {} : { ttlInSeconds: input.ttlInSeconds }),
      ...(input.responseTimeoutInSeconds === undefined ? {} : { responseTimeoutInSeconds: input.responseTimeoutInSeconds }),
      ...(input.idempotent === undefined ? {} : { idempotent: input.idempotent })
    })),
    'commands.cancel': async (input) => commandView(await hub.commands.cancel(input.commandId, input.reason ?? 'cancelled in the UI')),

    'telemetry.since': async (input) => {
      const identity = { deviceId: input.deviceId }
      hub.registry.mustGet(identity)
      // history() reads the newest messages from the log's per-device index (its last 100;
      // asking for more scans the log). Ask for a few and widen until the answer reaches back
      // to afterSeq: a live page fetching one new message reads a handful, not the last hundred.
      const cap = Math.min(input.limit ?? HISTORY_INDEX_DEPTH, HISTORY_INDEX_DEPTH)
      let want = Math.min(8, cap)
      for (;;) {
        const got = await hub.telemetry.history(identity, want)
        const reached = got.length < want || (got[0] !== undefined && got[0].seq <= input.afterSeq)
        if (reached || want >= cap) {
          return { items: got.filter(m => m.seq > input.afterSeq).map(telemetryItem), truncated: !reached }
        }
        want = Math.min(cap, want * 4)
      }
    }
  }
}
