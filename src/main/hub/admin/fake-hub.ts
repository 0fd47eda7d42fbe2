// A small in-memory Hub for the admin and CLI tests: registry, policies, and twins (tags and desired only).
import { HubError } from '../errors.js'
import { createMemoryStore } from '../store/memory-store.js'
import type { Hub, HubConfig, PolicyService, Registry, TwinService } from '../services.js'
import type { DeviceDocument, Identity, JsonObject, SharedAccessPolicy, TwinDocument } from '../types.js'

export function fakeHub (config: Partial<HubConfig> = {}): Hub {
  const devices = new Map<string, DeviceDocument>()
  const twinState = new Map<string, { tags: JsonObject; desired: JsonObject }>()
  const policies = new Map<string, SharedAccessPolicy>([
    ['iothubowner', { keyName: 'iothubowner', primaryKey: 'b3duZXI=', secondaryKey: 'c2Vjb25k', rights: ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect'] }]
  ])
  const full: HubConfig = { dataDir: '/nowhere', hostName: 'hub.test', bind: '127.0.0.1', mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'edge', ...config }
  const mustGet = (id: Identity): DeviceDocument => {
    const d = devices.get(id.deviceId)
    if (d === undefined) throw new HubError('DeviceNotFound', `Device ${id.deviceId} not found.`)
    return d
  }
  const policyService: Partial<PolicyService> = {
    list: () => [...policies.values()],
    get: (name) => policies.get(name),
    connectionString: (name) => {
      const p = policies.get(name)
      if (p === undefined) throw new HubError('ArgumentInvalid', `There is no shared access policy named '${name}'.`)
      return `HostName=${full.hostName};SharedAccessKeyName=${name};SharedAccessKey=${p.primaryKey}`
    }
  }
  const registry: Partial<Registry> = {
    async create (input) {
      if (devices.has(input.deviceId)) throw new HubError('DeviceAlreadyExists', `Device ${input.deviceId} already exists.`)
      const thumb = input.authentication?.x509Thumbprint?.primaryThumbprint ?? null
      const doc = {
        deviceId: input.deviceId,
        status: input.status ?? 'enabled',
        statusReason: null,
        connectionState: 'Disconnected',
        authentication: {
          type: thumb === null ? 'sas' : 'selfSigned',
          symmetricKey: { primaryKey: thumb === null ? 'cHJpbWFyeQ==' : null, secondaryKey: thumb === null ? 'c2Vjb25kYXJ5' : null },
          x509Thumbprint: { primaryThumbprint: thumb, secondaryThumbprint: null }
        },
        capabilities: { iotEdge: input.capabilities?.iotEdge ?? false },
        lastActivityTime: '0001-01-01T00:00:00Z'
      } as unknown as DeviceDocument
      devices.set(input.deviceId, doc)
      twinState.set(input.deviceId, { tags: {}, desired: {} })
      return doc
    },
    async update (input) {
      const prev = mustGet(input)
      const doc = { ...prev, status: input.status ?? prev.status, statusReason: input.statusReason ?? prev.statusReason } as DeviceDocument
      devices.set(input.deviceId, doc)
      return doc
    },
    get: (id) => devices.get(id.deviceId),
    mustGet,
    list: () => [...devices.values()],
    async remove (id) { mustGet(id); devices.delete(id.deviceId); twinState.delete(id.deviceId) },
    async setStatus (id, status, statusReason) {
      const doc = { ...mustGet(id), status, statusReason: statusReason ?? null }
      devices.set(id.deviceId, doc)
      return doc
    },
    async regenerateKey (id) { return mustGet(id) },
    count: () => ({ total: devices.size, enabled: [...devices.values()].filter((d) => d.status === 'enabled').length, disabled: 0 }),
    deviceConnectionString (id, which = 'primary') {
      const d = mustGet(id)
      if (d.authentication.type !== 'sas') return `HostName=${full.hostName};DeviceId=${d.deviceId};x509=true`
      return `HostName=${full.hostName};DeviceId=${d.deviceId};SharedAccessKey=${d.authentication.symmetricKey[`${which}Key`] ?? ''}`
    },
    policies: policyService as PolicyService
  }
  const twin = (id: Identity): TwinDocument => {
    mustGet(id)
    const t = twinState.get(id.deviceId) ?? { tags: {}, desired: {} }
    return { deviceId: id.deviceId, etag: 'AAAAAAAAAAE=', tags: t.tags, properties: { desired: t.desired, reported: {} } } as unknown as TwinDocument
  }
  const twins: Partial<TwinService> = {
    get: twin,
    async patch (id, patch) {
      const t = twinState.get(id.deviceId) ?? { tags: {}, desired: {} }
      const p = patch as { tags?: JsonObject; properties?: { desired?: JsonObject } }
      twinState.set(id.deviceId, { tags: { ...t.tags, ...p.tags }, desired: { ...t.desired, ...p.properties?.desired } })
      return twin(id)
    }
  }
  const logger = { debug () {}, info () {}, warn () {}, error () {} }
  return {
    config: full,
    registry: registry as Registry,
    twins: twins as TwinService,
    connections: { count: () => 0 },
    telemetry: { stats: () => ({ messages: 0, bytes: 0, oldestSeq: null, newestSeq: null, droppedBySize: 0, droppedByAge: 0, droppedPerDevice: {} }) },
    logger,
    // the audit log of admin changes (admin/audit.ts) lives in the store
    store: createMemoryStore(),
    clock: { now: () => Date.now() },
    async close () {}
  } as unknown as Hub
}
