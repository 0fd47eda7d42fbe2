// UI handlers for operations: jobs with a plan (carried to hub.jobs.create as the same body a
// PUT /jobs/v2/{id} sends), configuration create/update with labels and metrics, device export
// (the files `sitehub device export` writes) and bulk import.
import type { ImportOutcome, JobView, JsonObject, JsonValue, MethodInput, MethodOutput, OpsOutputs } from '../../../../shared/contract/index.js'
// The file formats are the CLI's (shared writer), so a UI export imports with `sitehub device import` and back.
import { toCsv, toJsonLines } from '../../registry/device-file-format.js'
import { HubError, argumentInvalid } from '../../errors.js'
import { parseJobBody } from '../../jobs/body.js'
import type { JobResponse } from '../../jobs/types.js'
import { applyImportItem, exportItem } from '../../registry/import-item.js'
import type { Hub } from '../../services.js'
import { toErrorResult } from './errors.js'
import { configurationView, jobView } from './views.js'

type OpsHandlers = { [M in keyof OpsOutputs]: (input: MethodInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M> }

const isSelect = (q: string): boolean => /^\s*select\s/i.test(q)
const HAS_ZONE = /(Z|[+-]\d\d:?\d\d)$/i

/** The hub's view of one job (live gates and phase included). */
export function jobViewOf (hub: Hub, jobId: string): JobView {
  return jobView(hub.jobs.get(jobId), hub.jobs.runState(jobId), hub.clock.now())
}

/** A PUT /jobs/v2 body from the UI's input; throws ArgumentInvalid for what the REST body cannot say clearly. */
export function jobBody (input: MethodInput<'jobs.create'>, jobId: string, nowIso: string): JsonObject {
  const isMethod = input.methodName !== undefined
  if (isMethod === (input.desired !== undefined || input.tags !== undefined)) {
    throw new HubError('ArgumentInvalid', 'A job runs either a method (methodName) or a twin update (desired and/or tags), not both and not neither')
  }
  if (!isMethod && (input.payload !== undefined || input.responseTimeoutInSeconds !== undefined)) {
    throw argumentInvalid('payload and responseTimeoutInSeconds belong to a method job; a twin update has neither')
  }
  if (input.startTime !== undefined && (!HAS_ZONE.test(input.startTime) || Number.isNaN(Date.parse(input.startTime)))) {
    throw argumentInvalid(`startTime '${input.startTime}' must be an ISO 8601 date-time with a zone, e.g. 2026-11-26T21:00:00Z or 2026-11-26T22:00:00+01:00`)
  }
  if (input.maintenanceWindow !== undefined && input.timeZone === undefined) {
    const i = input.maintenanceWindow.findIndex(w => w.timeZone === undefined)
    if (i >= 0) throw argumentInvalid(`maintenanceWindow[${i}] has no time zone: give the window a timeZone or the job one (an IANA name such as Europe/Berlin), so the window means the same to everyone`)
  }
  const body: JsonObject = {
    jobId,
    type: isMethod ? 'scheduleDeviceMethod' : 'scheduleUpdateTwin',
    queryCondition: input.queryCondition,
    startTime: input.startTime ?? nowIso,
    maxExecutionTimeInSeconds: input.maxExecutionTimeInSeconds ?? 3600
  }
  if (isMethod) {
    body['cloudToDeviceMethod'] = { methodName: input.methodName ?? '', payload: input.payload ?? null, responseTimeoutInSeconds: input.responseTimeoutInSeconds ?? 30 }
  } else {
    body['updateTwin'] = { etag: '*', ...(input.tags === undefined ? {} : { tags: input.tags }), ...(input.desired === undefined ? {} : { properties: { desired: input.desired } }) }
  }
  if (input.devicesPerMinute !== undefined) body['devicesPerMinute'] = input.devicesPerMinute
  if (input.maxConcurrency !== undefined) body['maxConcurrency'] = input.maxConcurrency
  if (input.abortThreshold !== undefined) body['abortThreshold'] = { failurePercent: input.abortThreshold.failurePercent, minDevices: input.abortThreshold.minDevices ?? 10 }
  if (input.maintenanceWindow !== undefined) body['maintenanceWindow'] = input.maintenanceWindow as unknown as JsonValue
  if (input.timeZone !== undefined) body['timeZone'] = input.timeZone
  if (input.deviceWindowTag !== undefined) body['deviceWindowTag'] = input.deviceWindowTag
  if (input.inUseGuard !== undefined) {
    body['inUseGuard'] = { path: input.inUseGuard.path, values: input.inUseGuard.values, retryAfterSeconds: input.inUseGuard.retryAfterSeconds ?? 60 }
  }
  return body
}

/** Device ids matching a WHERE condition or a full SELECT (errors point into the user's text). */
function matchingIds (hub: Hub, query: string | undefined): string[] {
  const q = query?.trim() ?? ''
  if (q === '') return hub.registry.list().filter(d => d.moduleId === undefined).map(d => d.deviceId)
  const ids = new Set<string>()
  const collect = (rows: JsonValue[]): void => {
    for (const r of rows) {
      if (r !== null && typeof r === 'object' && !Array.isArray(r) && typeof r['deviceId'] === 'string') ids.add(r['deviceId'])
    }
  }
  if (isSelect(q)) {
    collect(hub.query.run(q))
  } else {
    const prefix = 'SELECT deviceId FROM devices WHERE '
    try {
      collect(hub.query.run(prefix + q))
    } catch (err) {
      throw Object.assign(err as object, { uiShift: prefix.length })
    }
  }
  return [...ids]
}

const stamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace(/[:T]/g, '-')

export function opsHandlers (hub: Hub): OpsHandlers {
  return {
    'jobs.create': async (input) => {
      const nowIso = new Date(hub.clock.now()).toISOString()
      const jobId = input.jobId ?? `ui-${nowIso.replace(/[:.]/g, '-')}`
      const body = jobBody(input, jobId, nowIso)
      if (input.dryRun === true) {
        // Everything the hub would check, nothing stored: the form's review step.
        const { startTimeMs, cloudToDeviceMethod, updateTwin, ...plan } = parseJobBody(jobId, body)
        const modules = /devices\.modules/i.test(input.queryCondition)
        const targets = hub.query.select(input.queryCondition).filter(t => modules || t.moduleId === undefined).length
        const now = hub.clock.now()
        const preview: JobResponse = {
          jobId,
          ...plan,
          createdTime: nowIso,
          startTime: new Date(startTimeMs === null || startTimeMs < now ? now : startTimeMs).toISOString(),
          endTime: null,
          status: 'queued',
          ...(cloudToDeviceMethod === null ? {} : { cloudToDeviceMethod }),
          ...(updateTwin === null ? {} : { updateTwin }),
          deviceJobStatistics: { deviceCount: targets, failedCount: 0, succeededCount: 0, runningCount: 0, pendingCount: targets }
        }
        return jobView(preview, undefined, now)
      }
      await hub.jobs.create(jobId, body)
      return jobViewOf(hub, jobId)
    },
    'configurations.create': async (input) => {
      const body = {
        id: input.id, targetCondition: input.targetCondition, priority: input.priority ?? 0,
        labels: input.labels ?? {}, content: { deviceContent: input.content }, metrics: { queries: input.metrics ?? {} }
      }
      const { configuration } = await hub.configurations.put(input.id, body)
      await hub.configurations.idle()
      return configurationView(hub.configurations.get(configuration.id) ?? configuration)
    },
    'configurations.update': async (input) => {
      const cur = hub.configurations.mustGet(input.id)
      const body = {
        id: input.id,
        schemaVersion: cur.schemaVersion,
        targetCondition: input.targetCondition ?? cur.targetCondition,
        priority: input.priority ?? cur.priority,
        labels: input.labels ?? cur.labels,
        content: input.content === undefined ? cur.content : { deviceContent: input.content },
        metrics: { queries: input.metrics ?? cur.metrics.queries }
      }
      const { configuration } = await hub.configurations.put(input.id, body, input.etag)
      await hub.configurations.idle()
      return configurationView(hub.configurations.get(configuration.id) ?? configuration)
    },
    'devices.export': (input) => {
      const ids = matchingIds(hub, input.query).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      const items = ids.map(deviceId => exportItem(hub, { deviceId }, !input.includeKeys) as JsonObject)
      const csv = input.format === 'csv'
      return {
        fileName: `sitehub-devices-${stamp(hub.clock.now())}${input.includeKeys ? '-with-keys' : ''}.${csv ? 'csv' : 'jsonl'}`,
        mimeType: csv ? 'text/csv' : 'application/x-ndjson',
        content: csv ? toCsv(items) : toJsonLines(items),
        devices: items.length,
        withKeys: input.includeKeys
      }
    },
    'devices.import': async (input) => {
      const out: ImportOutcome[] = []
      for (const r of input.rows) {
        const item: Record<string, JsonValue> = { id: r.deviceId, importMode: 'create', status: r.status ?? 'enabled' }
        if (r.statusReason !== undefined) item['statusReason'] = r.statusReason
        if (r.primaryKey !== undefined || r.secondaryKey !== undefined) {
          item['authentication'] = { type: 'sas', symmetricKey: { primaryKey: r.primaryKey ?? null, secondaryKey: r.secondaryKey ?? null } }
        }
        if (r.tags !== undefined) item['tags'] = r.tags
        if (r.desired !== undefined) item['properties'] = { desired: r.desired }
        try {
          await applyImportItem(hub, item, 'create')
          out.push({ deviceId: r.deviceId, ok: true })
        } catch (err) {
          const { error } = toErrorResult(err)
          out.push({ deviceId: r.deviceId, ok: false, error: { code: error.code, name: error.name, message: error.message } })
        }
      }
      return out
    }
  }
}
