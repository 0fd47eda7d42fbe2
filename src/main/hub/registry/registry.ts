// The identity registry (protocol C.2): devices and modules, keys, status, etags.
import { randomInt } from 'node:crypto'
import { HubError, argumentInvalid } from '../errors.js'
import type { HubEventBus } from '../events.js'
import type { ConnectionManager, DeviceCreateInput, DeviceUpdateInput, Registry } from '../services.js'
import type { HubStore, StoreOp } from '../store/types.js'
import type { Authentication, Clock, DeviceDocument, DeviceRecord, Identity, TwinRecord } from '../types.js'
import { authenticateDevice, authenticateService, type AuthDeps } from './auth.js'
import { identityKey, parseIdentityKey, validateId } from './ids.js'
import { NEVER, deviceEtag, generateKey, isoNow, validateKey } from './keys.js'
import { createPolicyService } from './policies.js'

export interface RegistryDeps {
  store: HubStore
  events: HubEventBus
  clock: Clock
  hostName: () => string
  /** Names a device token's `sr` may carry besides the host name (e.g. the bind IP). */
  extraHostNames?: () => string[]
  connections: () => ConnectionManager
  newTwin: (identity: Identity) => TwinRecord
}

const notFound = (identity: Identity): HubError => identity.moduleId === undefined
  ? new HubError('DeviceNotFound', `Device ${identity.deviceId} not registered.`)
  : new HubError('ModuleNotFound', `Module ${identity.moduleId} on device ${identity.deviceId} not registered.`)

function checkEtag (rec: DeviceRecord, etag: string | undefined): void {
  if (etag === undefined || etag === '*') return
  if (etag !== deviceEtag(rec.etagCounter)) {
    throw new HubError('PreconditionFailed', `The etag '${etag}' does not match the device's current etag '${deviceEtag(rec.etagCounter)}'.`)
  }
}

function buildAuthentication (input: DeviceCreateInput['authentication'], previous?: Authentication): Authentication {
  const sk = input?.symmetricKey
  const tp = input?.x509Thumbprint
  const primaryThumbprint = tp?.primaryThumbprint ?? previous?.x509Thumbprint.primaryThumbprint ?? null
  const secondaryThumbprint = tp?.secondaryThumbprint ?? previous?.x509Thumbprint.secondaryThumbprint ?? null
  const type = input?.type ?? (primaryThumbprint || secondaryThumbprint ? 'selfSigned' : previous?.type ?? 'sas')
  if (!['sas', 'selfSigned', 'certificateAuthority', 'none'].includes(type)) throw argumentInvalid(`Unknown authentication type '${type}'.`)
  if (type !== 'sas') {
    if (type === 'selfSigned' && !primaryThumbprint && !secondaryThumbprint) throw argumentInvalid('A selfSigned device needs a primary or secondary thumbprint.')
    return { type, symmetricKey: { primaryKey: null, secondaryKey: null }, x509Thumbprint: { primaryThumbprint, secondaryThumbprint } }
  }
  // Empty strings mean "generate" (C.2, pitfall G.12).
  const primaryKey = sk?.primaryKey || previous?.symmetricKey.primaryKey || generateKey()
  const secondaryKey = sk?.secondaryKey || previous?.symmetricKey.secondaryKey || generateKey()
  for (const [k, which] of [[primaryKey, 'primary'], [secondaryKey, 'secondary']] as const) {
    const err = validateKey(k, which)
    if (err) throw err
  }
  return { type, symmetricKey: { primaryKey, secondaryKey }, x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null } }
}

function validateCommon (input: DeviceCreateInput): void {
  const err = validateId(input.deviceId) ?? (input.moduleId === undefined ? null : validateId(input.moduleId, 'module id'))
  if (err) throw err
  if (input.status !== undefined && input.status !== 'enabled' && input.status !== 'disabled') {
    throw argumentInvalid(`Status must be 'enabled' or 'disabled', not '${String(input.status)}'.`)
  }
  if (typeof input.statusReason === 'string' && input.statusReason.length > 128) throw argumentInvalid('statusReason is longer than 128 characters.')
}

export function createRegistry (deps: RegistryDeps): Registry & { ensureDefaults(): Promise<void>; flushActivity(): Promise<void> } {
  const { store, events, clock } = deps
  const policies = createPolicyService({ store, hostName: deps.hostName })
  /** lastActivityTime in memory; written to the records by flushActivity (not worth an fsync per message). */
  const activity = new Map<string, number>()
  const dirtyActivity = new Set<string>()

  const record = (identity: Identity): DeviceRecord | undefined => store.get('devices', identityKey(identity))
  const mustRecord = (identity: Identity): DeviceRecord => {
    const rec = record(identity)
    if (!rec) throw notFound(identity)
    return rec
  }

  function render (rec: DeviceRecord): DeviceDocument {
    const identity: Identity = rec.moduleId === undefined ? { deviceId: rec.deviceId } : { deviceId: rec.deviceId, moduleId: rec.moduleId }
    const conns = deps.connections()
    const at = activity.get(identityKey(identity))
    const doc: DeviceDocument = {
      deviceId: rec.deviceId,
      generationId: rec.generationId,
      etag: deviceEtag(rec.etagCounter),
      connectionState: conns.isConnected(identity) ? 'Connected' : 'Disconnected',
      status: rec.status,
      statusReason: rec.statusReason,
      connectionStateUpdatedTime: conns.get(identity)?.connectedAt ?? NEVER,
      statusUpdatedTime: rec.statusUpdatedTime,
      lastActivityTime: at === undefined ? rec.lastActivityTime : isoNow(at),
      cloudToDeviceMessageCount: store.get('c2d', identityKey(identity))?.messages.length ?? 0,
      authentication: structuredClone(rec.authentication),
      capabilities: { ...rec.capabilities },
      deviceScope: rec.deviceScope,
      parentScopes: [...rec.parentScopes]
    }
    if (rec.moduleId !== undefined) doc.moduleId = rec.moduleId
    if (rec.modelId) doc.modelId = rec.modelId
    if (rec.managedBy !== undefined) doc.managedBy = rec.managedBy
    return doc
  }

  const authDeps: AuthDeps = {
    hostNames: () => [deps.hostName(), ...(deps.extraHostNames?.() ?? [])],
    record: (deviceId, moduleId) => record(moduleId === undefined ? { deviceId } : { deviceId, moduleId }),
    policy: (name) => store.get('policies', name),
    nowMs: () => clock.now()
  }

  const identityOf = (input: { deviceId: string; moduleId?: string | undefined }): Identity =>
    input.moduleId === undefined ? { deviceId: input.deviceId } : { deviceId: input.deviceId, moduleId: input.moduleId }

  async function write (rec: DeviceRecord, extra: StoreOp[] = []): Promise<void> {
    const key = identityKey(identityOf(rec))
    const at = activity.get(key)
    if (at !== undefined) {
      rec.lastActivityTime = isoNow(at)
      dirtyActivity.delete(key)
    }
    await store.batch([{ op: 'put', c: 'devices', id: key, doc: rec }, ...extra])
  }

  function dropConnection (identity: Identity, reason: string): void {
    deps.connections().get(identity)?.close(reason)
  }

  const registry: Registry & { ensureDefaults(): Promise<void>; flushActivity(): Promise<void> } = {
    policies,
    ensureDefaults: () => policies.ensureDefaults(),

    async create (input) {
      validateCommon(input)
      const identity = identityOf(input)
      if (record(identity)) {
        throw input.moduleId === undefined
          ? new HubError('DeviceAlreadyExists', `A device with ID '${input.deviceId}' is already registered.`)
          : new HubError('ModuleAlreadyExistsOnDevice', `A module with ID '${input.moduleId}' is already registered on device '${input.deviceId}'.`)
      }
      if (input.moduleId !== undefined && !record({ deviceId: input.deviceId })) throw notFound({ deviceId: input.deviceId })
      const now = isoNow(clock.now())
      const rec: DeviceRecord = {
        deviceId: input.deviceId,
        generationId: String(randomInt(1e9, 1e10 - 1)) + String(randomInt(1e8, 1e9 - 1)),
        etagCounter: 0,
        status: input.status ?? 'enabled',
        statusReason: input.statusReason ?? null,
        statusUpdatedTime: now,
        authentication: buildAuthentication(input.authentication),
        capabilities: { iotEdge: input.capabilities?.iotEdge === true },
        deviceScope: input.deviceScope ?? '',
        parentScopes: input.parentScopes ?? [],
        lastActivityTime: NEVER,
        cloudToDeviceMessageCount: 0,
        modelId: '',
        createdTime: now
      }
      if (input.moduleId !== undefined) rec.moduleId = input.moduleId
      if (input.managedBy !== undefined) rec.managedBy = input.managedBy
      const key = identityKey(identity)
      await write(rec, [{ op: 'put', c: 'twins', id: key, doc: deps.newTwin(identity) }])
      events.emit('device.created', identity)
      return render(rec)
    },

    get: (identity) => {
      const rec = record(identity)
      return rec ? render(rec) : undefined
    },
    mustGet: (identity) => render(mustRecord(identity)),
    record,

    list (opts = {}) {
      const out: DeviceDocument[] = []
      for (const [, rec] of store.entries('devices')) {
        if (rec.moduleId !== undefined && opts.withModules !== true) continue
        out.push(render(rec))
        if (opts.top !== undefined && out.length >= opts.top) break
      }
      return out
    },

    listModules (deviceId) {
      mustRecord({ deviceId })
      const out: DeviceDocument[] = []
      for (const [, rec] of store.entries('devices')) if (rec.deviceId === deviceId && rec.moduleId !== undefined) out.push(render(rec))
      return out
    },

    async update (input) {
      validateCommon(input)
      const identity = identityOf(input)
      const prev = mustRecord(identity)
      checkEtag(prev, input.etag)
      const status = input.status ?? prev.status
      const rec: DeviceRecord = {
        ...prev,
        etagCounter: prev.etagCounter + 1,
        status,
        statusReason: input.statusReason === undefined ? prev.statusReason : input.statusReason,
        statusUpdatedTime: status === prev.status ? prev.statusUpdatedTime : isoNow(clock.now()),
        authentication: buildAuthentication(input.authentication, prev.authentication),
        capabilities: { iotEdge: input.capabilities?.iotEdge ?? prev.capabilities.iotEdge },
        deviceScope: input.deviceScope ?? prev.deviceScope,
        parentScopes: input.parentScopes ?? prev.parentScopes
      }
      await write(rec)
      if (status === 'disabled') dropConnection(identity, 'device disabled')
      events.emit('device.updated', { ...identity, status })
      return render(rec)
    },

    async remove (identity, etag) {
      const rec = mustRecord(identity)
      checkEtag(rec, etag)
      const keys = [identityKey(identity)]
      if (identity.moduleId === undefined) {
        for (const [key, r] of store.entries('devices')) if (r.deviceId === identity.deviceId && r.moduleId !== undefined) keys.push(key)
      }
      const ops: StoreOp[] = keys.flatMap((id) => (['devices', 'twins', 'sessions', 'c2d'] as const)
        .filter((c) => store.has(c, id)).map((c) => ({ op: 'del' as const, c, id })))
      await store.batch(ops)
      for (const key of keys) {
        activity.delete(key)
        dirtyActivity.delete(key)
        const id = parseIdentityKey(key)
        dropConnection(id, 'device deleted')
        events.emit('device.deleted', id)
      }
    },

    async setStatus (identity, status, statusReason) {
      const input: DeviceUpdateInput = { ...identity, status }
      if (statusReason !== undefined) input.statusReason = statusReason
      return registry.update(input)
    },

    async regenerateKey (identity, which) {
      const prev = mustRecord(identity)
      if (prev.authentication.type !== 'sas') throw argumentInvalid('Only SAS devices have keys to regenerate.')
      const sk = { ...prev.authentication.symmetricKey }
      if (which !== 'secondary') sk.primaryKey = generateKey()
      if (which !== 'primary') sk.secondaryKey = generateKey()
      return registry.update({ ...identity, authentication: { type: 'sas', symmetricKey: sk } })
    },

    count () {
      let total = 0
      let enabled = 0
      for (const [, rec] of store.entries('devices')) {
        if (rec.moduleId !== undefined) continue
        total++
        if (rec.status === 'enabled') enabled++
      }
      return { total, enabled, disabled: total - enabled }
    },

    authenticateDevice: (creds) => authenticateDevice(authDeps, creds),
    authenticateService: (token, need) => authenticateService(authDeps, token, need),

    touch (identity, at = clock.now()) {
      const key = identityKey(identity)
      activity.set(key, at)
      dirtyActivity.add(key)
    },

    async flushActivity () {
      const ops: StoreOp[] = []
      for (const key of dirtyActivity) {
        const rec = store.get('devices', key)
        const at = activity.get(key)
        if (rec && at !== undefined) ops.push({ op: 'put', c: 'devices', id: key, doc: { ...rec, lastActivityTime: isoNow(at) } })
      }
      dirtyActivity.clear()
      if (ops.length > 0) await store.batch(ops)
    },

    deviceConnectionString (identity, which = 'primary') {
      const rec = mustRecord(identity)
      const mod = identity.moduleId === undefined ? '' : `;ModuleId=${identity.moduleId}`
      const base = `HostName=${deps.hostName()};DeviceId=${identity.deviceId}${mod}`
      if (rec.authentication.type !== 'sas') return `${base};x509=true`
      const key = which === 'primary' ? rec.authentication.symmetricKey.primaryKey : rec.authentication.symmetricKey.secondaryKey
      return `${base};SharedAccessKey=${key ?? ''}`
    }
  }
  return registry
}
