// One device's page: identity, connection string, twin (with the desired editor's draft and
// etag-conflict state) and direct method calls. Follows the device's events. Telemetry
// (telemetry-stream.ts) and queued commands (device-commands.ts) have stores of their own.
import { createStore } from 'zustand/vanilla'
import type {
  DeviceView, FirmwareImageView, HubApi, HubErrorInfo, JsonObject, JsonValue, MethodResult, TwinView, UiEvent
} from '../../../shared/contract/index'
import { throttle } from './throttle'

export interface MethodCall {
  id: number
  methodName: string
  at: string
  state: 'running' | 'done' | 'failed'
  result?: MethodResult
  error?: HubErrorInfo
}

export interface DeviceDetailState {
  deviceId: string
  device: DeviceView | undefined
  twin: TwinView | undefined
  connectionString: string | undefined
  calls: MethodCall[]
  /** The hub's firmware library, for the update panel. */
  images: FirmwareImageView[]
  /** Not found, or another load failure. */
  error: HubErrorInfo | undefined
  /** The last failed action (save, regenerate, status change). */
  actionError: HubErrorInfo | undefined
  /** A desired/tags save was refused because the twin changed since it was loaded. */
  conflict: boolean
  saving: boolean
}

/** Parse editor text as a JSON object patch; returns the object or a plain-words problem. */
export function parsePatch (text: string): { ok: true; value: JsonObject } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: false, message: 'Type a JSON object, e.g. {"telemetryInterval": 10}' }
  let v: unknown
  try { v = JSON.parse(text) } catch (err) { return { ok: false, message: `Not valid JSON: ${(err as Error).message}` } }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: 'The patch must be a JSON object ({ ... })' }
  const bad = Object.keys(v).find(k => k.startsWith('$') || k.includes('.') || k.includes(' '))
  if (bad !== undefined) return { ok: false, message: `Property names may not start with $ or contain dots or spaces: "${bad}"` }
  return { ok: true, value: v as JsonObject }
}

export function createDeviceDetailStore (api: HubApi, deviceId: string, opts: { refetchMs?: number } = {}) {
  const store = createStore<DeviceDetailState>()(() => ({
    deviceId, device: undefined, twin: undefined, connectionString: undefined, calls: [], images: [],
    error: undefined, actionError: undefined, conflict: false, saving: false
  }))
  let callId = 0

  async function loadDevice (): Promise<void> {
    const r = await api.call('devices.get', { deviceId })
    store.setState(r.ok ? { device: r.value, error: undefined } : { error: r.error })
  }
  async function loadTwin (): Promise<void> {
    const r = await api.call('twins.get', { deviceId })
    if (r.ok) store.setState({ twin: r.value })
  }
  async function loadConnectionString (): Promise<void> {
    const r = await api.call('devices.connectionString', { deviceId })
    if (r.ok) store.setState({ connectionString: r.value.connectionString })
  }
  async function loadImages (): Promise<void> {
    const r = await api.call('firmware.list', undefined)
    if (r.ok) store.setState({ images: r.value })
  }
  const load = (): Promise<unknown> => Promise.all([loadDevice(), loadTwin(), loadConnectionString(), loadImages()])

  const twinLater = throttle(() => { void loadTwin() }, opts.refetchMs ?? 500)
  const deviceLater = throttle(() => { void loadDevice() }, opts.refetchMs ?? 500)

  function onEvents (events: UiEvent[]): void {
    for (const e of events) {
      if (e.type === 'resync') { void load(); return }
      if (!('deviceId' in e) || e.deviceId !== deviceId) continue
      if (e.type === 'twin.changed') twinLater()
      else if (e.type === 'device.connection' || e.type === 'device.registry') deviceLater()
    }
  }

  function start (): () => void {
    void load()
    const off = api.subscribe(onEvents)
    return () => { off(); twinLater.cancel(); deviceLater.cancel() }
  }

  /**
   * Saves a desired (or tags) patch against `baseEtag`: the twin the technician was looking at
   * when they started typing (default: the twin shown now). A 412 sets `conflict`.
   */
  async function savePatch (part: 'desired' | 'tags', patch: JsonObject, baseEtag?: string): Promise<boolean> {
    const etag = baseEtag ?? store.getState().twin?.etag
    store.setState({ saving: true, actionError: undefined, conflict: false })
    const input = etag === undefined ? { deviceId, patch } : { deviceId, patch, etag }
    const r = await api.call(part === 'desired' ? 'twins.patchDesired' : 'twins.patchTags', input)
    if (r.ok) { store.setState({ twin: r.value, saving: false }); return true }
    store.setState({ saving: false, actionError: r.error, conflict: r.error.name === 'PreconditionFailed' })
    return false
  }

  async function invoke (methodName: string, payload: JsonValue | undefined, responseTimeoutInSeconds = 30): Promise<MethodCall> {
    const id = ++callId
    const call: MethodCall = { id, methodName, at: new Date().toISOString(), state: 'running' }
    store.setState(s => ({ calls: [call, ...s.calls].slice(0, 20) }))
    const input = payload === undefined ? { deviceId, methodName, responseTimeoutInSeconds } : { deviceId, methodName, payload, responseTimeoutInSeconds }
    const r = await api.call('methods.invoke', input)
    const done: MethodCall = r.ok
      ? { ...call, state: r.value.status >= 400 ? 'failed' : 'done', result: r.value }
      : { ...call, state: 'failed', error: r.error }
    store.setState(s => ({ calls: s.calls.map(c => (c.id === id ? done : c)) }))
    return done
  }

  /** Starts a firmware update with a library image; progress then comes from reported.firmware. */
  async function updateFirmware (name: string, version: string): Promise<MethodCall> {
    const id = ++callId
    const call: MethodCall = { id, methodName: `firmwareUpdate ${name} ${version}`, at: new Date().toISOString(), state: 'running' }
    store.setState(s => ({ calls: [call, ...s.calls].slice(0, 20) }))
    const r = await api.call('devices.firmwareUpdate', { deviceId, name, version })
    const done: MethodCall = r.ok
      ? { ...call, state: r.value.status >= 400 ? 'failed' : 'done', result: r.value }
      : { ...call, state: 'failed', error: r.error }
    store.setState(s => ({ calls: s.calls.map(c => (c.id === id ? done : c)) }))
    return done
  }

  async function regenerateKey (which: 'primary' | 'secondary'): Promise<void> {
    const r = await api.call('devices.regenerateKey', { deviceId, which })
    if (!r.ok) { store.setState({ actionError: r.error }); return }
    await loadConnectionString()
  }

  async function setStatus (status: 'enabled' | 'disabled'): Promise<void> {
    const r = await api.call('devices.setStatus', { deviceId, status })
    if (!r.ok) store.setState({ actionError: r.error })
    await loadDevice()
  }

  async function remove (): Promise<boolean> {
    const r = await api.call('devices.remove', { deviceId })
    if (!r.ok) store.setState({ actionError: r.error })
    return r.ok
  }

  return { store, load, loadTwin, start, onEvents, savePatch, invoke, updateFirmware, regenerateKey, setStatus, remove }
}

export type DeviceDetailStore = ReturnType<typeof createDeviceDetailStore>
