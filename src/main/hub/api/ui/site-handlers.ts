// UI methods of the site screens: serial ports (hub.serial), firmware upload and removal
// (hub.firmware, chunked over the contract) and the hub's settings (hub.settings). Spread into
// the handler map of createUiApi (handlers.ts); inputs are validated there before they get here.
import { randomUUID } from 'node:crypto'
import {
  FIRMWARE_CHUNK_BYTES,
  type FirmwareImageView, type MachinePortView, type MethodInput, type MethodOutput, type SerialPortConfigView, type SerialPortStatusView,
  type SerialPortView, type SettingsView, type SiteMethodOutputs, type JsonValue, type StoreUsageView
} from '../../../../shared/contract/index.js'
import { HubError } from '../../errors.js'
import { describeUsers, firmwareUsers } from '../../firmware/usage.js'
import { FirmwareError, type FirmwareAddResult } from '../../firmware/types.js'
import type { SerialPortConfig, SerialPortInput, SerialPortStatus } from '../../serial/types.js'
import type { Hub } from '../../services.js'
import type { StoreUsage } from '../../settings/service.js'

type SiteMethod = keyof SiteMethodOutputs
export type SiteHandlers = { [M in SiteMethod]: (input: MethodInput<M>) => Promise<MethodOutput<M>> | MethodOutput<M> }

/** An upload idle this long is dropped (its partial file removed). */
export const UPLOAD_IDLE_MS = 120_000
const MAX_UPLOADS = 4

// ---- views --------------------------------------------------------------------------------

function configView (c: SerialPortConfig): SerialPortConfigView {
  return {
    name: c.name, path: c.path, baudRate: c.baudRate, dataBits: c.dataBits, stopBits: c.stopBits, parity: c.parity, protocol: c.protocol,
    enabled: c.enabled, keepAliveSec: c.keepAliveSec, maxLineBytes: c.maxLineBytes, timeoutMs: c.timeoutMs,
    devices: c.devices.map(d => ({ deviceId: d.deviceId, address: d.address ?? null, profile: d.profile ?? null })),
    createdTime: c.createdTime, updatedTime: c.updatedTime
  }
}

function statusView (hub: Hub, s: SerialPortStatus): SerialPortStatusView {
  return {
    name: s.name, path: s.path, protocol: s.protocol, state: s.state, since: s.since, lastError: s.lastError, retryAt: s.retryAt,
    counters: { ...s.counters },
    devices: s.devices.map(d => ({
      deviceId: d.deviceId, address: d.address ?? null, connected: d.connected, lastActivity: d.lastActivity, errors: d.errors, lastError: d.lastError,
      registered: hub.store.has('devices', d.deviceId)
    }))
  }
}

/** Every port's live status, as the 'serial.status' UI event carries it. */
export function serialStatusViews (hub: Hub): SerialPortStatusView[] {
  return hub.serial.status().map(s => statusView(hub, s))
}

function portView (hub: Hub, name: string): SerialPortView {
  const cfg = hub.serial.get(name)
  if (cfg === undefined) throw new HubError('ArgumentInvalid', `there is no serial port named ${name}`)
  const status = hub.serial.status().find(s => s.name === name)
  return { config: configView(cfg), status: statusView(hub, status ?? { name, path: cfg.path, protocol: cfg.protocol, state: 'closed', since: cfg.updatedTime, lastError: null, retryAt: null, counters: { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0, garbage: 0, badChecksum: 0, retransmits: 0, oversize: 0, timeouts: 0, portErrors: 0, opens: 0, authFailures: 0 }, devices: [] }) }
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`
const FW = 'properties.reported.firmware'

/** The devices running an image: its version, reported under its name (or with no name reported). */
export function runningQuery (name: string, version: string): string {
  return `${FW}.current = ${quote(version)} AND (${FW}.currentName = ${quote(name)} OR NOT IS_DEFINED(${FW}.currentName))`
}

export function firmwareViews (hub: Hub): FirmwareImageView[] {
  return hub.firmware.list().map(i => {
    const q = runningQuery(i.name, i.version)
    return {
      name: i.name, version: i.version, size: i.size, sha256: i.sha256, uploadedAt: i.uploadedAt, description: i.description ?? null,
      runningOn: hub.query.run(`SELECT COUNT() AS n FROM devices WHERE ${q}`).map(r => Number((r as Record<string, JsonValue>)['n'] ?? 0))[0] ?? 0,
      runningQuery: q,
      installing: hub.firmware.inUseBy(i.name, i.version).length
    }
  })
}

export function storeUsageView (u: StoreUsage): StoreUsageView {
  return {
    usedBytes: u.usedBytes, parts: { ...u.parts }, limitBytes: u.limitBytes, quotaBytes: u.quotaBytes, percent: u.percent, warnPercent: u.warnPercent,
    diskFreeBytes: u.diskFreeBytes, diskTotalBytes: u.diskTotalBytes, measuredAt: u.measuredAt
  }
}

async function settingsView (hub: Hub, fresh: boolean): Promise<SettingsView> {
  const c = hub.config
  return {
    settings: hub.settings.get(),
    store: storeUsageView(await hub.settings.storeUsage(fresh ? { maxAgeMs: 0 } : {})),
    retention: { ...hub.settings.retention },
    identity: { hostName: c.hostName, role: c.role, bind: c.bind, dataDir: c.dataDir, mqttsPort: c.mqttsPort, httpsPort: c.httpsPort, mqttPort: c.mqttPort }
  }
}

// ---- firmware uploads ---------------------------------------------------------------------

interface Upload {
  id: string
  name: string
  version: string
  size: number
  received: number
  /** Hand a chunk to the library; resolves once it is written to the upload's temp file. */
  push(chunk: Buffer): Promise<void>
  end(): void
  fail(err: Error): void
  done: Promise<FirmwareAddResult>
  timer: NodeJS.Timeout
  busy: boolean
}

/** The library reads chunks from this as they arrive: nothing is buffered beyond one chunk. */
function chunkChannel (): { iterable: AsyncIterable<Uint8Array>; push(c: Buffer): Promise<void>; end(): void; fail(err: Error): void } {
  const queue: Array<{ data: Buffer; written: () => void; lost: (e: Error) => void }> = []
  let ended = false
  let error: Error | null = null
  let wake: (() => void) | null = null
  const poke = (): void => { const w = wake; wake = null; w?.() }
  async function * iterate (): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (error !== null) throw error
        const item = queue.shift()
        if (item !== undefined) {
          yield item.data
          item.written() // the consumer asked for the next chunk: this one is written
          continue
        }
        if (ended) return
        await new Promise<void>(resolve => { wake = resolve })
      }
    } finally {
      // the library stopped reading (error or done): nobody will write what is left
      for (const q of queue.splice(0)) q.lost(error ?? new Error('the upload stopped'))
      ended = true
    }
  }
  return {
    iterable: iterate(),
    push: (data) => new Promise<void>((resolve, reject) => {
      if (ended || error !== null) { reject(error ?? new Error('the upload has ended')); return }
      queue.push({ data, written: resolve, lost: reject })
      poke()
    }),
    end () { ended = true; poke() },
    fail (err) { error = err; poke() }
  }
}

function firmwareError (status: number, name: string, message: string): FirmwareError {
  return new FirmwareError(status, name, message)
}

// ---- handlers -----------------------------------------------------------------------------

export function createSiteHandlers (hub: Hub, opts: { uploadIdleMs?: number } = {}): { handlers: SiteHandlers; close(): void } {
  const uploads = new Map<string, Upload>()
  const idleMs = opts.uploadIdleMs ?? UPLOAD_IDLE_MS

  function drop (u: Upload, why: string): void {
    clearTimeout(u.timer)
    uploads.delete(u.id)
    u.fail(firmwareError(400, 'UploadAborted', why))
  }
  const idle = (u: Upload): NodeJS.Timeout => {
    const t = setTimeout(() => { drop(u, `the upload of ${u.name} ${u.version} was idle for ${idleMs / 1000} s`) }, idleMs)
    t.unref()
    return t
  }
  function upload (id: string): Upload {
    const u = uploads.get(id)
    if (u === undefined) throw firmwareError(404, 'UploadNotFound', `There is no upload ${id}: it finished, was cancelled, or was idle for more than ${idleMs / 1000} s. Start the upload again.`)
    return u
  }

  function serialInput (input: MethodInput<'serial.add'> | Omit<MethodInput<'serial.update'>, 'name'>): Partial<SerialPortInput> {
    const out: Partial<SerialPortInput> = {}
    for (const [k, v] of Object.entries(input)) {
      if (v === undefined || k === 'name') continue
      if (k === 'devices') {
        out.devices = (v as NonNullable<MethodInput<'serial.add'>['devices']>).map(d => ({
          deviceId: d.deviceId, ...(d.address == null ? {} : { address: d.address }), ...(d.profile == null ? {} : { profile: d.profile })
        }))
      } else {
        (out as Record<string, unknown>)[k] = v
      }
    }
    return out
  }

  const handlers: SiteHandlers = {
    'serial.list': () => hub.serial.list().map(c => portView(hub, c.name)),
    'serial.machinePorts': async () => {
      const { ports, error } = await hub.serial.machinePorts()
      const byPath = new Map(hub.serial.list().map(c => [c.path, c.name]))
      return {
        error: error ?? null,
        ports: ports.map((p): MachinePortView => ({
          path: p.path, manufacturer: p.manufacturer ?? null, serialNumber: p.serialNumber ?? null, vendorId: p.vendorId ?? null, productId: p.productId ?? null,
          configuredAs: byPath.get(p.path) ?? null
        }))
      }
    },
    'serial.profiles': async () => (await hub.serial.profiles.list()).map(p => ({ name: p.name, file: p.file, errors: p.errors })),
    'serial.add': async (input) => {
      const cfg = await hub.serial.add({ ...(input.name === undefined ? {} : { name: input.name }), ...serialInput(input), path: input.path })
      return portView(hub, cfg.name)
    },
    'serial.update': async (input) => {
      const { name, ...changes } = input
      const cfg = await hub.serial.update(name, serialInput(changes))
      return portView(hub, cfg.name)
    },
    'serial.remove': async (input) => { await hub.serial.remove(input.name); return { name: input.name } },

    'firmware.uploadBegin': (input) => {
      const sha256 = input.sha256.toLowerCase()
      const existing = hub.firmware.get(input.name, input.version)
      if (existing !== undefined && existing.sha256 !== sha256) {
        throw firmwareError(409, 'FirmwareAlreadyExists', `${input.name} ${input.version} is already in the library with different bytes (sha256 ${existing.sha256}); give the new image another version, or remove the old one first.`)
      }
      if (uploads.size >= MAX_UPLOADS) throw new HubError('ThrottlingException', `${MAX_UPLOADS} uploads are already running; wait for one to finish`)
      const ch = chunkChannel()
      const id = randomUUID()
      const done = hub.firmware.add({
        name: input.name, version: input.version, data: ch.iterable, expectedSha256: sha256, expectedSize: input.size,
        ...(input.description === undefined || input.description === '' ? {} : { description: input.description })
      })
      done.catch(() => {}) // reported to whoever calls finish (or the next chunk)
      const u: Upload = { id, name: input.name, version: input.version, size: input.size, received: 0, push: ch.push, end: ch.end, fail: ch.fail, done, busy: false, timer: setTimeout(() => {}, 0) }
      u.timer = idle(u)
      uploads.set(id, u)
      return { uploadId: id, chunkBytes: FIRMWARE_CHUNK_BYTES }
    },
    'firmware.uploadChunk': async (input) => {
      const u = upload(input.uploadId)
      if (u.busy) throw firmwareError(409, 'UploadBusy', 'Send the next chunk only after the previous one was acknowledged')
      if (input.offset !== u.received) throw firmwareError(400, 'ArgumentInvalid', `This chunk starts at byte ${input.offset}, but the hub has ${u.received} bytes of the upload: send from ${u.received}`)
      const data = Buffer.from(input.data, 'base64')
      if (data.length === 0 || data.length > FIRMWARE_CHUNK_BYTES) throw firmwareError(400, 'ArgumentInvalid', `A chunk carries 1 to ${FIRMWARE_CHUNK_BYTES} bytes (got ${data.length})`)
      if (u.received + data.length > u.size) throw firmwareError(400, 'ArgumentInvalid', `The upload announced ${u.size} bytes; this chunk would make ${u.received + data.length}`)
      clearTimeout(u.timer)
      u.busy = true
      try {
        // the library may fail meanwhile (disk full): report that rather than wait forever
        await Promise.race([u.push(data), u.done.then(() => undefined)])
      } catch (err) {
        uploads.delete(u.id)
        throw err
      } finally {
        u.busy = false
      }
      u.received += data.length
      u.timer = idle(u)
      return { received: u.received }
    },
    'firmware.uploadFinish': async (input) => {
      const u = upload(input.uploadId)
      if (u.received !== u.size) throw firmwareError(400, 'ArgumentInvalid', `Only ${u.received} of ${u.size} bytes have arrived; send the rest before finishing`)
      clearTimeout(u.timer)
      uploads.delete(u.id)
      u.end()
      // resolves once the bytes are fsynced and renamed into place and the metadata is durable
      const r = await u.done
      const image = firmwareViews(hub).find(i => i.name === r.image.name && i.version === r.image.version)
      if (image === undefined) throw new HubError('ServerError', 'the image was stored but is not listed')
      return { image, created: r.created }
    },
    'firmware.uploadAbort': (input) => {
      const u = uploads.get(input.uploadId)
      if (u !== undefined) drop(u, 'the upload was cancelled')
      return { uploadId: input.uploadId }
    },
    'firmware.remove': async (input) => {
      hub.firmware.mustGet(input.name, input.version)
      const users = describeUsers(firmwareUsers(hub, input.name, input.version))
      if (users !== null) throw firmwareError(409, 'FirmwareInUse', `${input.name} ${input.version} is still needed by ${users}. Wait for them to finish (or cancel them), then remove it.`)
      await hub.firmware.remove(input.name, input.version)
      return { name: input.name, version: input.version }
    },

    'settings.get': () => settingsView(hub, false),
    'settings.update': async (input) => {
      const changes: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(input)) if (v !== undefined) changes[k] = v
      await hub.settings.update(changes)
      return await settingsView(hub, false)
    }
  }

  return {
    handlers,
    close () { for (const u of [...uploads.values()]) drop(u, 'the hub UI is closing') }
  }
}
