// The UI API: one handler per contract method over the hub's services. `handle` is the
// boundary: it checks the method name and validates the input against the contract before
// any service sees it, and turns every outcome into a Result envelope.
import {
  fail, isMethodName, methodInputs, ok,
  type Alert, type DeviceRow, type FleetSummary, type HubStatus, type JsonValue, type MethodInput, type MethodName, type MethodOutput, type Result
} from '../../../../shared/contract/index.js'
import { HubError } from '../../errors.js'
import type { Hub } from '../../services.js'
import { toErrorResult } from './errors.js'
import { createSyncHandlers } from './sync.js'
import { configurationView, deviceView, jobView, rowFrom, rowOfTwin, telemetryItem, twinView } from './views.js'

type Handlers = { [M in MethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M> }

export interface UiApiDeps {
  hub: Hub
  status: () => HubStatus
  /** Offline alert threshold default, minutes. */
  offlineMinutes?: number
}

export interface UiApi {
  handle(method: unknown, input: unknown): Promise<Result<unknown>>
  close(): void
}

const ROW_SELECT = 'SELECT deviceId, status, connectionState, lastActivityTime, properties.reported.firmware.current AS firmware, ' +
  'properties.reported.state AS state FROM devices'
const FIRMWARE_QUERY = 'SELECT properties.reported.firmware.current AS version, COUNT() AS devices FROM devices GROUP BY properties.reported.firmware.current'
const isSelect = (q: string): boolean => /^\s*select\s/i.test(q)
const MAX_ALERTS = 50

export function createUiApi (deps: UiApiDeps): UiApi {
  const { hub } = deps
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

  function fleetAlerts (offlineMinutes: number): Alert[] {
    const alerts: Alert[] = []
    const cutoff = hub.clock.now() - offlineMinutes * 60_000
    for (const r of hub.query.run("SELECT deviceId, lastActivityTime FROM devices WHERE connectionState = 'Disconnected' AND status = 'enabled'")) {
      if (alerts.length >= MAX_ALERTS / 2) break
      const rec = r as Record<string, JsonValue>
      const last = Date.parse(String(rec['lastActivityTime']))
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
    return alerts.slice(0, MAX_ALERTS)
  }

  const handlers: Handlers = {
    'hub.status': () => deps.status(),
    'fleet.summary': (input): FleetSummary => {
      const offlineMinutes = input?.offlineMinutes ?? deps.offlineMinutes ?? 15
      const counts = hub.registry.count()
      const connected = hub.connections.list().filter(c => c.moduleId === undefined).length
      const stats = hub.telemetry.stats()
      const firmware = hub.query.run(FIRMWARE_QUERY).map(r => {
        const rec = r as Record<string, JsonValue>
        return { version: typeof rec['version'] === 'string' ? rec['version'] : null, devices: Number(rec['devices'] ?? 0) }
      }).sort((a, b) => b.devices - a.devices)
      const alerts = fleetAlerts(offlineMinutes)
      return {
        devices: { ...counts, connected, disconnected: Math.max(0, counts.total - connected) },
        firmware,
        telemetry: { messages: stats.messages, bytes: stats.bytes, dropped: stats.droppedByAge + stats.droppedBySize },
        alerts,
        devicesWithAlerts: new Set(alerts.flatMap(a => (a.deviceId === null ? [] : [a.deviceId]))).size,
        configurations: hub.configurations.list(50).map(c => ({
          id: c.id, priority: c.priority, targeted: c.systemMetrics.results.targetedCount, applied: c.systemMetrics.results.appliedCount
        })),
        offlineMinutes
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
    'devices.create': async (input) => {
      await hub.registry.create({ deviceId: input.deviceId, ...(input.status === undefined ? {} : { status: input.status }) })
      if (input.tags !== undefined && Object.keys(input.tags).length > 0) await hub.twins.patchTags(id(input.deviceId), input.tags)
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
    'twins.patchDesired': async (input) => twinView(await hub.twins.patchDesired(id(input.deviceId), input.patch, input.etag)),
    'twins.patchTags': async (input) => twinView(await hub.twins.patchTags(id(input.deviceId), input.patch, input.etag)),
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
    'jobs.list': (input) => hub.jobs.query({ pageSize: 100, ...(input?.status === undefined ? {} : { jobStatus: input.status }) }).items.map(jobView),
    'jobs.get': (input) => jobView(hub.jobs.get(input.jobId)),
    'jobs.create': async (input) => {
      const isMethod = input.methodName !== undefined
      if (isMethod === (input.desired !== undefined || input.tags !== undefined)) {
        throw new HubError('ArgumentInvalid', 'A job runs either a method (methodName) or a twin update (desired and/or tags), not both and not neither')
      }
      const jobId = input.jobId ?? `ui-${new Date(hub.clock.now()).toISOString().replace(/[:.]/g, '-')}`
      const body = isMethod
        ? { jobId, type: 'scheduleDeviceMethod', queryCondition: input.queryCondition, startTime: input.startTime ?? new Date(hub.clock.now()).toISOString(), maxExecutionTimeInSeconds: 3600,
            cloudToDeviceMethod: { methodName: input.methodName, payload: input.payload ?? null, responseTimeoutInSeconds: 30 } }
        : { jobId, type: 'scheduleUpdateTwin', queryCondition: input.queryCondition, startTime: input.startTime ?? new Date(hub.clock.now()).toISOString(), maxExecutionTimeInSeconds: 3600,
            updateTwin: { etag: '*', ...(input.tags === undefined ? {} : { tags: input.tags }), ...(input.desired === undefined ? {} : { properties: { desired: input.desired } }) } }
      await hub.jobs.create(jobId, body)
      return jobView(hub.jobs.get(jobId))
    },
    'jobs.cancel': async (input) => jobView(await hub.jobs.cancel(input.jobId)),
    'firmware.list': () => {
      const running = new Map<string, number>()
      for (const f of hub.query.run(FIRMWARE_QUERY)) {
        const rec = f as Record<string, JsonValue>
        if (typeof rec['version'] === 'string') running.set(rec['version'], Number(rec['devices'] ?? 0))
      }
      return hub.firmware.list().map(i => ({
        name: i.name, version: i.version, size: i.size, sha256: i.sha256, uploadedAt: i.uploadedAt,
        description: i.description ?? null, runningOn: running.get(i.version) ?? 0
      }))
    },
    'devices.firmwareUpdate': (input) => {
      hub.registry.mustGet(id(input.deviceId))
      if (hub.firmware.get(input.name, input.version) === undefined) {
        throw new HubError('ArgumentInvalid', `The firmware library has no image ${input.name} ${input.version}`)
      }
      const payload = hub.firmware.updatePayload(input.name, input.version)
      return hub.methods.invoke(id(input.deviceId), { methodName: 'firmwareUpdate', payload: { ...payload }, responseTimeoutInSeconds: 60 })
    },
    'configurations.list': () => hub.configurations.list().map(configurationView),
    'configurations.create': async (input) => {
      const metrics: Record<string, string> = {}
      for (const [k, v] of Object.entries(input.metrics ?? {})) {
        if (typeof v !== 'string') throw new HubError('ArgumentInvalid', `metric ${k} must be a query (text)`)
        metrics[k] = v
      }
      const body = {
        id: input.id, targetCondition: input.targetCondition, priority: input.priority ?? 0,
        content: { deviceContent: input.content }, metrics: { queries: metrics }
      }
      const { configuration } = await hub.configurations.put(input.id, body)
      await hub.configurations.idle()
      return configurationView(hub.configurations.get(configuration.id) ?? configuration)
    },
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
    ...createSyncHandlers(hub)
  }

  return {
    async handle (method, input) {
      if (!isMethodName(method)) return fail(0, 'UnknownMethod', `The hub has no UI method '${String(method)}'`)
      const checked = methodInputs[method](input)
      if (!checked.ok) return fail(400004, 'ArgumentInvalid', checked.message)
      try {
        const run = handlers[method] as (i: unknown) => Promise<unknown> | unknown
        return ok(await run(checked.value))
      } catch (err) {
        return toErrorResult(err, (err as { uiShift?: number } | null)?.uiShift ?? 0)
      }
    },
    close () { offMethods() }
  }
}
