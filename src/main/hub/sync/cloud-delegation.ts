// The cloud side of delegation (docs/sync.md, "Jobs and queued commands delegated to the edge"):
// which edges take over their devices' part of jobs and queued commands. An edge declares itself
// with PUT /edges/{edgeId}/delegation; from then on every device whose deviceScope is that
// edge's scope is reserved for it: the cloud's job engine and command queue never run it
// themselves, the edge claims and runs it, and reports the outcomes.
import { HubError, argumentInvalid } from '../errors.js'
import type { Registry } from '../services.js'
import type { HubStore } from '../store/types.js'
import type { Clock, Identity, JsonObject } from '../types.js'

export interface DelegatingEdge { edgeId: string; scope: string; since: string }

export interface CloudDelegation {
  /** The delegating edge serving this identity, or null (module identities are never delegated). */
  edgeOf(identity: Identity): string | null
  /** Declares `edgeId` (an IoT Edge device of this hub) as taking over its devices; idempotent. */
  register(edgeId: string): Promise<DelegatingEdge>
  /** The edge no longer takes over its devices: the cloud runs them again. */
  unregister(edgeId: string): Promise<void>
  /** Throws DeviceNotFound unless `edgeId` is a registered delegating edge. */
  mustGetEdge(edgeId: string): DelegatingEdge
  edges(): DelegatingEdge[]
  /** Bumps whenever an edge starts or stops delegating (the job engine re-sorts reserved devices). */
  epoch(): number
}

const KEY = 'delegatingEdge:'

export function createCloudDelegation (deps: { store: HubStore; registry: Registry; clock: Clock }): CloudDelegation {
  const { store, registry, clock } = deps
  const since = new Map<string, string>()
  let epoch = 0
  for (const [k, v] of store.entries('sync')) if (k.startsWith(KEY)) since.set(k.slice(KEY.length), String(v['since']))

  /** The edge's scope as the registry holds it now (its own deviceScope), or null when it is no longer an IoT Edge device. */
  const scopeOf = (edgeId: string): string | null => {
    const d = registry.get({ deviceId: edgeId })
    if (d === undefined || d.capabilities?.iotEdge !== true || d.deviceScope === '' || d.deviceScope === undefined) return null
    return d.deviceScope
  }

  return {
    edgeOf (identity) {
      if (identity.moduleId !== undefined || since.size === 0) return null
      const scope = registry.get(identity)?.deviceScope
      if (scope === undefined || scope === '') return null
      for (const edgeId of since.keys()) if (edgeId !== identity.deviceId && scopeOf(edgeId) === scope) return edgeId
      return null
    },
    async register (edgeId) {
      const d = registry.get({ deviceId: edgeId })
      if (d === undefined) throw new HubError('DeviceNotFound', `Device ${edgeId} not registered.`)
      const scope = scopeOf(edgeId)
      if (scope === null) throw argumentInvalid(`Device ${edgeId} is not an IoT Edge device with a deviceScope (capabilities.iotEdge must be true): it cannot take over its devices' jobs.`)
      const at = since.get(edgeId) ?? new Date(clock.now()).toISOString()
      if (!since.has(edgeId)) {
        await store.put('sync', `${KEY}${edgeId}`, { edgeId, since: at } as JsonObject)
        since.set(edgeId, at)
        epoch++
      }
      return { edgeId, scope, since: at }
    },
    async unregister (edgeId) {
      if (!since.has(edgeId)) return
      await store.del('sync', `${KEY}${edgeId}`)
      since.delete(edgeId)
      epoch++
    },
    mustGetEdge (edgeId) {
      const at = since.get(edgeId)
      const scope = scopeOf(edgeId)
      if (at === undefined || scope === null) throw new HubError('DeviceNotFound', `Edge ${edgeId} is not registered for delegation here (PUT /edges/${edgeId}/delegation first).`)
      return { edgeId, scope, since: at }
    },
    epoch: () => epoch,
    edges: () => [...since].flatMap(([edgeId, at]) => { const scope = scopeOf(edgeId); return scope === null ? [] : [{ edgeId, scope, since: at }] })
  }
}
