// Hub documents -> the contract's view shapes.
import type { ConfigurationView, DeviceRow, DeviceView, JobPhase, JobView, JsonObject, TelemetryItem, TwinView } from '../../../../shared/contract/index.js'
import type { Configuration } from '../../configurations/types.js'
import type { JobResponse, JobRunState } from '../../jobs/types.js'
import type { ConnectionInfo, DeviceDocument, JsonValue, StoredTelemetry, TwinDocument } from '../../types.js'

function strip (props: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(props)) if (k !== '$metadata' && k !== '$version') out[k] = v
  return out
}

export function twinView (t: TwinDocument): TwinView {
  return {
    deviceId: t.deviceId,
    etag: t.etag,
    version: t.version,
    tags: t.tags ?? {},
    desired: strip(t.properties.desired),
    desiredVersion: t.properties.desired.$version,
    desiredMeta: t.properties.desired.$metadata as unknown as JsonObject,
    reported: strip(t.properties.reported),
    reportedVersion: t.properties.reported.$version,
    reportedMeta: t.properties.reported.$metadata as unknown as JsonObject
  }
}

const text = (v: JsonValue | undefined): string | null => typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null

/** A row from a projection query (deviceId, status, connectionState, lastActivityTime, firmware, state). */
export function rowFrom (r: Record<string, JsonValue | undefined>): DeviceRow {
  return {
    deviceId: String(r['deviceId']),
    status: r['status'] === 'disabled' ? 'disabled' : 'enabled',
    connectionState: r['connectionState'] === 'Connected' ? 'Connected' : 'Disconnected',
    lastActivityTime: text(r['lastActivityTime']) ?? '',
    firmware: text(r['firmware']),
    state: text(r['state'])
  }
}

export function rowOfTwin (t: TwinDocument): DeviceRow {
  const fw = t.properties.reported['firmware']
  const firmware = fw !== null && typeof fw === 'object' && !Array.isArray(fw) ? fw['current'] : undefined
  return rowFrom({
    deviceId: t.deviceId, status: t.status, connectionState: t.connectionState, lastActivityTime: t.lastActivityTime,
    firmware, state: t.properties.reported['state']
  })
}

export function deviceView (d: DeviceDocument, conn: ConnectionInfo | undefined): DeviceView {
  return {
    deviceId: d.deviceId,
    status: d.status,
    statusReason: d.statusReason,
    statusUpdatedTime: d.statusUpdatedTime,
    connectionState: d.connectionState,
    connectionStateUpdatedTime: d.connectionStateUpdatedTime,
    lastActivityTime: d.lastActivityTime,
    authenticationType: d.authentication.type,
    cloudToDeviceMessageCount: d.cloudToDeviceMessageCount,
    etag: d.etag,
    generationId: d.generationId,
    remote: conn?.remote ?? null,
    transport: conn?.transport ?? null
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function telemetryItem (m: StoredTelemetry): TelemetryItem {
  let body: string
  let bodyEncoding: TelemetryItem['bodyEncoding'] = 'utf8'
  try { body = utf8.decode(m.body) } catch { body = m.body.toString('base64'); bodyEncoding = 'base64' }
  return { seq: m.seq, enqueuedTime: m.enqueuedTime, transport: m.transport, properties: m.properties, systemProperties: m.systemProperties, body, bodyEncoding }
}

/** A job for the list: `state` is the run's live gates (hub.jobs.runState), `nowMs` the hub's clock. */
export function jobView (j: JobResponse, state: JobRunState | undefined, nowMs: number): JobView {
  const stats = { ...j.deviceJobStatistics }
  return {
    jobId: j.jobId,
    type: j.type,
    status: j.status,
    queryCondition: j.queryCondition,
    createdTime: j.createdTime,
    startTime: j.startTime,
    endTime: j.endTime,
    methodName: j.cloudToDeviceMethod?.methodName ?? null,
    failureReason: j.failureReason ?? null,
    stats,
    phase: jobPhase(j, state, nowMs),
    plan: {
      maxExecutionTimeInSeconds: j.maxExecutionTimeInSeconds,
      responseTimeoutInSeconds: j.cloudToDeviceMethod?.responseTimeoutInSeconds ?? null,
      devicesPerMinute: j.devicesPerMinute ?? null,
      maxConcurrency: j.maxConcurrency ?? null,
      abortThreshold: j.abortThreshold === undefined ? null : { ...j.abortThreshold },
      maintenanceWindow: j.maintenanceWindow === undefined ? null : j.maintenanceWindow.map(w => ({ ...w, ...(w.days === undefined ? {} : { days: [...w.days] }) })),
      timeZone: j.timeZone ?? null,
      deviceWindowTag: j.deviceWindowTag === undefined ? 'maintenanceWindow' : j.deviceWindowTag,
      inUseGuard: j.inUseGuard === undefined ? null : { path: j.inUseGuard.path, values: [...j.inUseGuard.values], retryAfterSeconds: j.inUseGuard.retryAfterSeconds }
    },
    waiting: state === undefined ? null : { window: state.waitingForWindow, inUse: state.inUse, offline: state.offline, inFlight: state.inFlight, nextWakeAt: state.nextWakeAt }
  }
}

/** The job's status, sharpened: scheduled (start in the future), waiting (every device left waits for a window or the guard), aborted (threshold). */
export function jobPhase (j: JobResponse, state: JobRunState | undefined, nowMs: number): JobPhase {
  switch (j.status) {
    case 'queued': return Date.parse(j.startTime) > nowMs ? 'scheduled' : 'queued'
    case 'scheduled': return 'scheduled'
    case 'running': {
      const s = j.deviceJobStatistics
      if (state !== undefined && state.inFlight === 0 && s.runningCount === 0 && state.waitingForWindow > 0 && state.waitingForWindow + state.inUse >= s.pendingCount) return 'waiting'
      return 'running'
    }
    case 'failed': return (j.failureReason ?? '').startsWith('Aborted:') ? 'aborted' : 'failed'
    default: return j.status
  }
}

export function configurationView (c: Configuration): ConfigurationView {
  return {
    id: c.id,
    priority: c.priority,
    targetCondition: c.targetCondition,
    content: (c.content.deviceContent ?? {}) as JsonObject,
    targeted: c.systemMetrics.results.targetedCount,
    applied: c.systemMetrics.results.appliedCount,
    metrics: { ...c.metrics.results },
    metricQueries: { ...c.metrics.queries },
    labels: { ...c.labels },
    createdTime: c.createdTimeUtc,
    lastUpdatedTime: c.lastUpdatedTimeUtc,
    etag: c.etag
  }
}
