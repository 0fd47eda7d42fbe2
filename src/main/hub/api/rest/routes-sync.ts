// Sitehub extensions on the service REST API (docs/rest-api.md "Sync"): the upstream sync's
// status, per-device state, conflicts and their resolution, settings (the connection string is
// write-only), and reading stored telemetry back from a cursor (what a cloud-role hub received).
import { HubError, argumentInvalid } from '../../errors.js'
import type { Hub } from '../../services.js'
import { ORIGIN_PROPERTY } from '../../sync/dedupe.js'
import type { SyncSettingsUpdate } from '../../sync/types.js'
import type { JsonObject, StoredTelemetry } from '../../types.js'
import { readJson, sendJson } from './http.js'
import { identityOf, type Route, type RouteContext } from './router.js'

const MAX_MESSAGES = 1000
const utf8 = new TextDecoder('utf-8', { fatal: true })

function intParam (q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
  const raw = q.get(name)
  if (raw === null || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw argumentInvalid(`${name} must be an integer from ${min} to ${max}.`)
  return n
}

/** A stored message as JSON: body base64 (and as text when it is valid UTF-8), properties, origin. */
export function messageView (m: StoredTelemetry): JsonObject {
  let text: string | null = null
  try { text = utf8.decode(m.body) } catch { text = null }
  return {
    seq: m.seq,
    deviceId: m.deviceId,
    ...(m.moduleId === undefined ? {} : { moduleId: m.moduleId }),
    enqueuedTime: m.enqueuedTime,
    transport: m.transport,
    systemProperties: { ...m.systemProperties },
    properties: { ...m.properties },
    origin: m.properties[ORIGIN_PROPERTY] ?? null,
    body: m.body.toString('base64'),
    bodyText: text
  }
}

function parseSettings (body: unknown): SyncSettingsUpdate {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw argumentInvalid('The sync settings body must be a JSON object.')
  const b = body as Record<string, unknown>
  const allowed = new Set(['connectionString', 'ca', 'edgeDeviceId', 'conflictPolicy'])
  for (const k of Object.keys(b)) if (!allowed.has(k)) throw argumentInvalid(`Unknown sync setting '${k}' (allowed: ${[...allowed].join(', ')}).`)
  const out: SyncSettingsUpdate = {}
  for (const k of ['connectionString', 'ca', 'edgeDeviceId'] as const) {
    const v = b[k]
    if (v === undefined) continue
    if (v !== null && (typeof v !== 'string' || v.trim() === '')) throw argumentInvalid(`${k} must be a non-empty string or null.`)
    out[k] = v
  }
  if (b['conflictPolicy'] !== undefined) out.conflictPolicy = b['conflictPolicy'] as SyncSettingsUpdate['conflictPolicy'] & object
  return out
}

export function syncRoutes (hub: Hub): Route[] {
  const status = async ({ res }: RouteContext): Promise<void> => { sendJson(res, 200, hub.sync.status()) }
  const devices = async ({ res, query }: RouteContext): Promise<void> => {
    const state = query.get('state')
    const all = hub.sync.devices()
    sendJson(res, 200, state === null || state === '' ? all : all.filter((d) => d.state === state))
  }
  const conflicts = async ({ res }: RouteContext): Promise<void> => { sendJson(res, 200, hub.sync.conflicts()) }
  const resolved = async ({ res }: RouteContext): Promise<void> => { sendJson(res, 200, hub.sync.resolvedConflicts()) }
  const conflict = async ({ res, params }: RouteContext): Promise<void> => {
    const c = hub.sync.conflicts().find((x) => x.id === params['id'])
    if (c === undefined) throw new HubError('SyncConflictNotFound', `no sync conflict '${params['id'] ?? ''}'`)
    sendJson(res, 200, c)
  }
  const resolve = async ({ req, res, params, policy }: RouteContext): Promise<void> => {
    const body = await readJson(req)
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, 'resolution')) {
      throw argumentInvalid("The body must be { resolution: 'cloud' | 'local' | { fields: { <path>: 'cloud' | 'local' | { value } } }, actor?: string }.")
    }
    const b = body as { resolution: unknown; actor?: unknown }
    if (b.actor !== undefined && (typeof b.actor !== 'string' || b.actor.length > 128)) throw argumentInvalid('actor must be a string of at most 128 characters.')
    const by = `rest:${policy ?? ''}${typeof b.actor === 'string' && b.actor !== '' ? `:${b.actor}` : ''}`
    sendJson(res, 200, await hub.sync.resolveConflict(params['id'] as string, b.resolution as never, by))
  }
  const getSettings = async ({ res }: RouteContext): Promise<void> => { sendJson(res, 200, hub.sync.settingsView()) }
  const putSettings = async ({ req, res }: RouteContext): Promise<void> => {
    sendJson(res, 200, await hub.sync.updateSettings(parseSettings(await readJson(req, 64 * 1024))))
  }
  const messages = async ({ res, params, query }: RouteContext): Promise<void> => {
    const identity = identityOf(params)
    const fromSeq = intParam(query, 'fromSeq', 0, 0, Number.MAX_SAFE_INTEGER)
    const limit = intParam(query, 'limit', 100, 1, MAX_MESSAGES)
    const stored = hub.telemetry.deviceCount(identity)
    if (stored === 0 && hub.registry.get(identity) === undefined) {
      throw new HubError(identity.moduleId === undefined ? 'DeviceNotFound' : 'ModuleNotFound', `${identity.moduleId === undefined ? 'Device' : 'Module'} ${identity.moduleId ?? identity.deviceId} not found and no stored messages`)
    }
    const list = await hub.telemetry.readDevice(identity, fromSeq, limit)
    const last = list[list.length - 1]
    const st = hub.telemetry.stats()
    const key = identity.moduleId === undefined ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`
    sendJson(res, 200, {
      deviceId: identity.deviceId,
      ...(identity.moduleId === undefined ? {} : { moduleId: identity.moduleId }),
      fromSeq,
      messages: list.map(messageView),
      /** Pass as fromSeq to continue; equal to fromSeq when nothing newer is stored yet. */
      nextSeq: last === undefined ? fromSeq : last.seq + 1,
      /** This device's messages held now, and dropped by the log's retention so far. */
      stored,
      dropped: st.droppedPerDevice[key] ?? 0,
      log: { messages: st.messages, oldestSeq: st.oldestSeq, newestSeq: st.newestSeq }
    })
  }
  return [
    { method: 'GET', pattern: '/sync/status', need: 'RegistryRead', handle: status },
    { method: 'GET', pattern: '/sync/devices', need: 'RegistryRead', handle: devices },
    { method: 'GET', pattern: '/sync/conflicts', need: 'RegistryRead', handle: conflicts },
    { method: 'GET', pattern: '/sync/conflicts/resolved', need: 'RegistryRead', handle: resolved },
    { method: 'GET', pattern: '/sync/conflicts/{id}', need: 'RegistryRead', handle: conflict },
    { method: 'POST', pattern: '/sync/conflicts/{id}/resolve', need: 'RegistryWrite', handle: resolve },
    { method: 'GET', pattern: '/sync/settings', need: 'RegistryRead', handle: getSettings },
    { method: 'PUT', pattern: '/sync/settings', need: 'RegistryWrite', handle: putSettings },
    { method: 'GET', pattern: '/devices/{deviceId}/messages', need: 'ServiceConnect', handle: messages },
    { method: 'GET', pattern: '/devices/{deviceId}/modules/{moduleId}/messages', need: 'ServiceConnect', handle: messages }
  ]
}
