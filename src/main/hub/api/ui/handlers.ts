// The UI API: one handler per contract method over the hub's services. `handle` is the
// boundary: it checks the method name, the caller's session and role against the access table
// (shared/contract/access.ts) and validates the input against the contract before any
// service sees the call, records every accepted change in the audit log (durably, before
// answering), and turns every outcome into a Result envelope.
import {
  ACCESS, accessReason, fail, isAudited, isMethodName, methodInputs, ok, roleAllows, ROLE_LABELS,
  type Alert, type DeviceRow, type FleetSummary, type HubStatus, type JsonValue, type MethodInput, type MethodName, type MethodOutput, type Result, type SessionInfo
} from '../../../../shared/contract/index.js'
import { HubError } from '../../errors.js'
import type { Hub } from '../../services.js'
import type { StoreUsage } from '../../settings/service.js'
import { authServicesFor, type AuthOptions, type AuthServices } from '../../accounts/index.js'
import { acknowledge, withAcks } from './alert-acks.js'
import { capture, redact, targetOf } from './audit-capture.js'
import { createAuthHandlers } from './auth-handlers.js'
import type { CallContext, UiCaller } from './caller.js'
import { toErrorResult } from './errors.js'
import { createSyncHandlers } from './sync.js'
import { jobViewOf, opsHandlers } from './ops.js'
import { createSiteHandlers, firmwareViews, storeUsageView } from './site-handlers.js'
import { createDeviceToolHandlers } from './handlers-devices.js'
import { configurationView, deviceView, jobView, rowFrom, rowOfTwin, telemetryItem, twinView } from './views.js'

/** The UI user as the source of a twin change, for sync conflict records (docs/sync.md "Who and when"). */
const uiBy = (ctx: CallContext): { by: string } => ({ by: ctx.session?.name === undefined ? 'ui' : `ui:${ctx.session.name}` })

type Handlers = { [M in MethodName]: (input: MethodInput<M>, ctx: CallContext) => Promise<MethodOutput<M>> | MethodOutput<M> }

export interface UiApiDeps {
  hub: Hub
  status: () => HubStatus
  /** Session, sign-in and audit retention limits (first UI API of a hub wins). */
  auth?: AuthOptions
}

export interface UiApi {
  /** One call from `caller` (its token, address and whether it is local). */
  handle(method: unknown, input: unknown, caller: UiCaller): Promise<Result<unknown>>
  /** The hub's accounts, sessions and audit log. */
  readonly auth: AuthServices
  close(): void
}

const ROW_SELECT = 'SELECT deviceId, status, connectionState, lastActivityTime, properties.reported.firmware.current AS firmware, ' +
  'properties.reported.state AS state FROM devices'
const FIRMWARE_QUERY = 'SELECT properties.reported.firmware.current AS version, COUNT() AS devices FROM devices GROUP BY properties.reported.firmware.current'
const isSelect = (q: string): boolean => /^\s*select\s/i.test(q)
const MAX_ALERTS = 50

export function createUiApi (deps: UiApiDeps): UiApi {
  const { hub } = deps
  const site = createSiteHandlers(hub)
  const auth = authServicesFor(hub, deps.auth)
  const id = (deviceId: string): { deviceId: string } => ({ deviceId })
  // Failed direct methods for the alert list (the hub keeps no history of them).
  const methodFailures: Alert[] = []
  const offMethods = hub.events.on('method.invoked', (e) => {
    if (e.moduleId !== undefined || (e.status !== null && e.status < 400 && e.error === undefined)) return
    methodFailures.unshift({
      kind: 'methodFailed', severity: 'warning', deviceId: e.deviceId, at: new Date(hub.clock.now()).toISOString(),
      message: `${e.methodName} on ${e.deviceId} failed: ${e.error ?? `status ${String(e.status)}`}`
    })
    methodFailures.length = Math.min(methodFailures.length, 20)
  })

  function row (deviceId: string): DeviceRow {
    return rowOfTwin(hub.twins.get(id(deviceId)))
  }

  /** Rows matching a WHERE condition or a full query; query errors point into the user's text. */
  function listRows (query: string | undefined): DeviceRow[] {
    const q = query?.trim() ?? ''
    if (q === '') return hub.query.run(ROW_SELECT).map(r => rowFrom(r as Record<string, JsonValue>))
    if (isSelect(q)) {
      const ids = new Set<string>()
      for (const r of hub.query.run(q)) {
        if (r !== null && typeof r === 'object' && !Array.isArray(r) && typeof r['deviceId'] === 'string') ids.add(r['deviceId'])
      }
      return hub.query.run(ROW_SELECT).map(r => rowFrom(r as Record<string, JsonValue>)).filter(r => ids.has(r.deviceId))
    }
    const prefix = `${ROW_SELECT} WHERE `
    try {
      return hub.query.run(prefix + q).map(r => rowFrom(r as Record<string, JsonValue>))
    } catch (err) {
      throw Object.assign(err as object, { uiShift: prefix.length })
    }
  }

  function fleetAlerts (offlineMinutes: number, store: StoreUsage): Alert[] {
    const alerts: Alert[] = []
    const cutoff = hub.clock.now() - offlineMinutes * 60_000
    for (const r of hub.query.run("SELECT deviceId, lastActivityTime FROM devices WHERE connectionState = 'Disconnected' AND status = 'enabled'")) {
      if (alerts.length >= MAX_ALERTS / 2) break
      const rec = r as Record<string, JsonValue>
      // the registry's view includes activity not yet flushed to the twin the query reads
      const last = Date.parse(hub.registry.get({ deviceId: String(rec['deviceId']) })?.lastActivityTime ?? String(rec['lastActivityTime']))
      // Never-seen devices (epoch lastActivityTime) are provisioning leftovers, not outages.
      if (!Number.isFinite(last) || last <= 0 || last > cutoff) continue
      alerts.push({
        kind: 'offline', severity: 'warning', deviceId: String(rec['deviceId']), at: new Date(last).toISOString(),
        message: `${String(rec['deviceId'])} has been offline for more than ${offlineMinutes} minutes`
      })
    }
    for (const j of hub.jobs.query({ jobStatus: 'failed', pageSize: 10 }).items) {
      alerts.push({ kind: 'jobFailed', severity: 'error', deviceId: null, at: j.endTime ?? j.createdTime, message: `Job ${j.jobId} failed: ${j.failureReason ?? 'see the job'}` })
    }
    alerts.push(...methodFailures)
    const stats = hub.telemetry.stats()
    const dropped = stats.droppedBySize + stats.droppedByAge
    if (dropped > 0) {
      alerts.push({ kind: 'store', severity: 'error', deviceId: null, at: new Date(hub.clock.now()).toISOString(), message: `The telemetry store is full: ${dropped} old messages were dropped` })
    }
    if (store.percent >= store.warnPercent) {
      const mb = (n: number): string => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : `${(n / 1024 / 1024).toFixed(1)} MB`)
      // Whole percent and the limit only: the message is the alert's identity for acknowledgements,
      // so it stays the same while the data dir grows within a percent (a worse state alerts again).
      const biggest = (['telemetry', 'firmware', 'store', 'other'] as const).reduce((x, y) => (store.parts[y] > store.parts[x] ? y : x))
      alerts.unshift({
        kind: 'store', severity: store.percent >= 95 ? 'error' : 'warning', deviceId: null, at: store.measuredAt,
        message: `The store is filling up: the data dir uses ${Math.floor(store.percent)}% of ${store.quotaBytes === null ? 'what the disk leaves it' : 'its quota'} ` +
          `of ${mb(store.limitBytes)} (mostly ${biggest}; see Settings)`
      })
    }
    return alerts.slice(0, MAX_ALERTS)
  }

  const handlers: Handlers = {
    ...createAuthHandlers(auth),
    'alerts.acknowledge': async (input, ctx) => {
      const current = fleetAlerts(hub.settings.get().offlineMinutes, await hub.settings.storeUsage())
      return await acknowledge(hub, current, input.id, ctx.session?.name ?? 'ui')
    },
    ...opsHandlers(hub),
    'hub.status': () => deps.status(),
    'fleet.summary': async (input): Promise<FleetSummary> => {
      const offlineMinutes = input?.offlineMinutes ?? hub.settings.get().offlineMinutes
      const store = await hub.settings.storeUsage()
      const counts = hub.registry.count()
      const connected = hub.connections.list().filter(c => c.moduleId === undefined).length
      const stats = hub.telemetry.stats()
      const firmware = hub.query.run(FIRMWARE_QUERY).map(r => {
        const rec = r as Record<string, JsonValue>
        return { version: typeof rec['version'] === 'string' ? rec['version'] : null, devices: Number(rec['devices'] ?? 0) }
      }).sort((a, b) => b.devices - a.devices)
      const alerts = withAcks(hub, fleetAlerts(offlineMinutes, store))
      return {
        devices: { ...counts, connected, disconnected: Math.max(0, counts.total - connected) },
        firmware,
        telemetry: { messages: stats.messages, bytes: stats.bytes, dropped: stats.droppedByAge + stats.droppedBySize },
        alerts,
        devicesWithAlerts: new Set(alerts.flatMap(a => (a.deviceId === null ? [] : [a.deviceId]))).size,
        configurations: hub.configurations.list(50).map(c => ({
          id: c.id, priority: c.priority, targeted: c.systemMetrics.results.targetedCount, applied: c.systemMetrics.results.appliedCount
        })),
        offlineMinutes,
        store: storeUsageView(store)
      }
    },
    'devices.list': (input) => {
      let rows = listRows(input.query)
      const search = input.search?.trim().toLowerCase() ?? ''
      if (search !== '') rows = rows.filter(r => r.deviceId.toLowerCase().includes(search))
      rows.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0))
      const offset = input.offset ?? 0
      return { items: rows.slice(offset, offset + (input.limit ?? 1000)), total: rows.length, offset }
    },
    'devices.get': (input) => deviceView(hub.registry.mustGet(id(input.deviceId)), hub.connections.list().find(c => c.key === input.deviceId)),
    'devices.create': async (input, ctx) => {
      await hub.registry.create({ deviceId: input.deviceId, ...(input.status === undefined ? {} : { status: input.status }) })
      if (input.tags !== undefined && Object.keys(input.tags).length > 0) await hub.twins.patchTags(id(input.deviceId), input.tags, undefined, uiBy(ctx))
      return row(input.deviceId)
    },
    'devices.remove': async (input) => { await hub.registry.remove(id(input.deviceId)); return { deviceId: input.deviceId } },
    'devices.setStatus': async (input) => {
      await hub.registry.setStatus(id(input.deviceId), input.status, input.reason ?? null)
      return row(input.deviceId)
    },
    'devices.connectionString': (input) => ({ connectionString: hub.registry.deviceConnectionString(id(input.deviceId), input.which ?? 'primary') }),
    'devices.regenerateKey': async (input) => {
      await hub.registry.regenerateKey(id(input.deviceId), input.which)
      return { connectionString: hub.registry.deviceConnectionString(id(input.deviceId), input.which === 'secondary' ? 'secondary' : 'primary') }
    },
    'twins.get': (input) => twinView(hub.twins.get(id(input.deviceId))),
    // `by` names the UI as the source of the change for sync conflict records (docs/sync.md).
    'twins.patchDesired': async (input, ctx) => twinView(await hub.twins.patchDesired(id(input.deviceId), input.patch, input.etag, uiBy(ctx))),
    'twins.patchTags': async (input, ctx) => twinView(await hub.twins.patchTags(id(input.deviceId), input.patch, input.etag, uiBy(ctx))),
    'methods.invoke': (input) => hub.methods.invoke(id(input.deviceId), {
      methodName: input.methodName,
      ...(input.payload === undefined ? {} : { payload: input.payload }),
      ...(input.responseTimeoutInSeconds === undefined ? {} : { responseTimeoutInSeconds: input.responseTimeoutInSeconds }),
      ...(input.connectTimeoutInSeconds === undefined ? {} : { connectTimeoutInSeconds: input.connectTimeoutInSeconds })
    }),
    'telemetry.history': async (input) => {
      hub.registry.mustGet(id(input.deviceId))
      return (await hub.telemetry.history(id(input.deviceId), input.limit ?? 50)).map(telemetryItem)
    },
    'query.run': (input) => {
      const items = hub.query.run(input.query)
      return { items: items.slice(0, input.limit ?? 200), total: items.length }
    },
    'jobs.list': (input) => hub.jobs.query({ pageSize: 100, ...(input?.status === undefined ? {} : { jobStatus: input.status }) }).items.map(j => jobView(j, hub.jobs.runState(j.jobId), hub.clock.now())),
    'jobs.get': (input) => jobViewOf(hub, input.jobId),
    'jobs.cancel': async (input) => { await hub.jobs.cancel(input.jobId); return jobViewOf(hub, input.jobId) },
    'firmware.list': () => firmwareViews(hub),
    'devices.firmwareUpdate': (input) => {
      hub.registry.mustGet(id(input.deviceId))
      if (hub.firmware.get(input.name, input.version) === undefined) {
        throw new HubError('ArgumentInvalid', `The firmware library has no image ${input.name} ${input.version}`)
      }
      const payload = hub.firmware.updatePayload(input.name, input.version)
      return hub.methods.invoke(id(input.deviceId), { methodName: 'firmwareUpdate', payload: { ...payload }, responseTimeoutInSeconds: 60 })
    },
    'configurations.list': () => hub.configurations.list().map(configurationView),
    'configurations.remove': async (input) => { await hub.configurations.remove(input.id); return { id: input.id } },
    'jobs.devices': (input) => {
      hub.jobs.get(input.jobId) // JobNotFound for an unknown id, not an empty list
      return hub.jobs.deviceJobs(input.jobId).filter(d => d.moduleId === undefined).map(d => ({
        deviceId: d.deviceId,
        status: d.status,
        methodStatus: d.outcome?.deviceMethodResponse?.status ?? null,
        error: d.error === undefined ? null : `${d.error.code}: ${d.error.description}`,
        endTime: d.endTimeUtc ?? null
      }))
    },
    ...createSyncHandlers(hub),
    ...createDeviceToolHandlers({ hub, checkQuery: (q) => { listRows(q) } }),
    ...site.handlers
  }

  /** The caller's session when `method` may run; otherwise the refusal. */
  function authorize (method: MethodName, caller: UiCaller): { session: CallContext['session'] } | { refused: Result<unknown>; session?: CallContext['session'] } {
    const access = ACCESS[method]
    if (access === 'public') return { session: auth.sessions.resolve(caller.token) }
    if (auth.accounts.count() === 0) return { refused: fail(401203, 'SetupRequired', 'No account exists yet: create the first admin account') }
    const session = auth.sessions.resolve(caller.token)
    if (session === undefined) {
      return { refused: fail(401201, 'Unauthorized', caller.token === undefined ? 'Sign in first' : 'Your session has ended: sign in again') }
    }
    if (!roleAllows(session.role, access)) {
      return { session, refused: fail(403201, 'Forbidden', `${ROLE_LABELS[session.role]} accounts cannot do this (${method}): ${accessReason(access).toLowerCase()}`) }
    }
    return { session }
  }

  async function audited (method: MethodName, input: unknown, ctx: CallContext, result: Result<unknown>, before: unknown, after: unknown): Promise<void> {
    const tried = method === 'auth.signIn' || method === 'auth.setup' ? String((input as { name?: unknown }).name ?? '').toLowerCase() : undefined
    const user = tried ?? ctx.session?.name ?? '(nobody)'
    const role = tried !== undefined ? (result.ok ? (result.value as SessionInfo).role : null) : ctx.session?.role ?? null
    const plain = redact(method === 'accounts.changeOwnPassword' ? {} : input)
    await auth.audit.record({
      user, role, method, target: targetOf(method, input), outcome: result.ok ? 'ok' : 'error',
      error: result.ok ? null : { code: result.error.code, name: result.error.name, message: result.error.message },
      input: plain, before: redact(before), after: redact(after), address: ctx.caller.address
    })
  }

  return {
    auth,
    async handle (method, input, caller) {
      if (!isMethodName(method)) return fail(0, 'UnknownMethod', `The hub has no UI method '${String(method)}'`)
      // Who first: without a session a caller learns nothing else (not even what input is valid).
      const gate = authorize(method, caller)
      if ('refused' in gate && gate.session === undefined) return gate.refused
      const checked = methodInputs[method](input)
      const ctx: CallContext = { caller, session: gate.session }
      if ('refused' in gate) {
        // A signed-in user trying what their role may not do is worth a line in the log.
        await audited(method, checked.ok ? checked.value : input, ctx, gate.refused, null, null)
        return gate.refused
      }
      if (!checked.ok) return fail(400004, 'ArgumentInvalid', checked.message)
      // a job's dry run (the form's review step) changes nothing
      const dryRun = method === 'jobs.create' && (checked.value as { dryRun?: boolean }).dryRun === true
      const audit = isAudited(method) && !(method === 'auth.signOut' && gate.session === undefined) && !dryRun
      const cap = audit ? capture(hub, auth.accounts, method, checked.value, gate.session?.name) : undefined
      let result: Result<unknown>
      try {
        const run = handlers[method] as (i: unknown, c: CallContext) => Promise<unknown> | unknown
        result = ok(await run(checked.value, ctx))
      } catch (err) {
        result = toErrorResult(err, (err as { uiShift?: number } | null)?.uiShift ?? 0)
      }
      if (cap !== undefined) {
        // Durable before the answer: an answered change is never missing from the log.
        const after = cap.after(result.ok, result.ok ? result.value : undefined)
        try {
          await audited(method, checked.value, ctx, result, cap.before, after)
        } catch (err) {
          hub.logger.error('audit log write failed', { method, error: err instanceof Error ? err.message : String(err) })
          if (result.ok) return fail(500001, 'ServerError', 'The change was made, but the audit log could not be written: check the data dir (disk full?)')
        }
      }
      return result
    },
    close () { offMethods(); site.close() }
  }
}
