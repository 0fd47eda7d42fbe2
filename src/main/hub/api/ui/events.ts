// Hub events -> coalesced UiEvent batches. A burst of 1,000 twin updates a second becomes one
// batch per interval holding at most one event per (type, device): the browser redraws a
// few times a second whatever the device traffic is.
import type { CommandState, SerialPortStatusView, UiEvent } from '../../../../shared/contract/index.js'
import type { HubEventBus } from '../../events.js'
import type { Hub } from '../../services.js'
import type { Clock } from '../../types.js'
import { syncQueueSnapshot } from './sync.js'

export interface EventCoalescerOptions {
  events: HubEventBus
  clock: Clock
  /** Called with each non-empty batch. */
  onBatch: (events: UiEvent[]) => void
  /** Default 250 ms. */
  intervalMs?: number
  /** The upstream sync (and the log it drains): queue depths are sampled every `syncSampleMs` (default 1 s) and sent when they change. */
  sync?: Pick<Hub, 'sync' | 'telemetry'>
  syncSampleMs?: number
  /** Sample only while this says someone is watching (UI server: a client is connected). */
  syncActive?: () => boolean
  /** Serial ports' live status (site-handlers.ts serialStatusViews): polled, sent as 'serial.status' when it changed. */
  serialStatus?: () => SerialPortStatusView[]
  /** Default 1000 ms. */
  serialPollMs?: number
}

type TwinPart = Extract<UiEvent, { type: 'twin.changed' }>['parts'][number]

export function createEventCoalescer (opts: EventCoalescerOptions): { flush(): void; close(): void } {
  const intervalMs = opts.intervalMs ?? 250
  const pending = new Map<string, UiEvent>()
  let telemetry = 0
  let lastFlush = opts.clock.now()
  let rateWasNonZero = false
  let timer: NodeJS.Timeout | undefined
  let lastQueue = ''
  const iso = (): string => new Date(opts.clock.now()).toISOString()

  function schedule (): void {
    if (timer === undefined) timer = setTimeout(flush, intervalMs)
  }
  function put (key: string, ev: UiEvent): void {
    pending.delete(key) // re-insert: order follows the latest change
    pending.set(key, ev)
    schedule()
  }
  function twinPart (deviceId: string, part: TwinPart): void {
    const key = `twin:${deviceId}`
    const prev = pending.get(key)
    const parts = prev?.type === 'twin.changed' ? prev.parts : []
    put(key, { type: 'twin.changed', deviceId, parts: parts.includes(part) ? parts : [...parts, part] })
  }

  function flush (): void {
    if (timer !== undefined) { clearTimeout(timer); timer = undefined }
    const now = opts.clock.now()
    const batch = [...pending.values()]
    pending.clear()
    if (telemetry > 0 || rateWasNonZero) {
      batch.push({ type: 'telemetry.rate', messages: telemetry, windowMs: Math.max(1, now - lastFlush) })
      rateWasNonZero = telemetry > 0
      // one more (zero) batch after traffic stops, so rates fall back to 0
      if (rateWasNonZero) schedule()
    }
    telemetry = 0
    lastFlush = now
    if (batch.length > 0) opts.onBatch(batch)
  }

  const offs = [
    opts.events.on('device.connected', (e) => { if (e.moduleId === undefined) put(`conn:${e.deviceId}`, { type: 'device.connection', deviceId: e.deviceId, connected: true, at: e.at }) }),
    opts.events.on('device.disconnected', (e) => { if (e.moduleId === undefined) put(`conn:${e.deviceId}`, { type: 'device.connection', deviceId: e.deviceId, connected: false, at: e.at }) }),
    opts.events.on('device.created', (e) => { if (e.moduleId === undefined) put(`reg:${e.deviceId}`, { type: 'device.registry', deviceId: e.deviceId, change: 'created', status: null }) }),
    opts.events.on('device.updated', (e) => {
      if (e.moduleId !== undefined) return
      const prev = pending.get(`reg:${e.deviceId}`)
      // created-then-updated in one window is still "created" for the UI
      put(`reg:${e.deviceId}`, { type: 'device.registry', deviceId: e.deviceId, change: prev?.type === 'device.registry' && prev.change === 'created' ? 'created' : 'updated', status: e.status })
    }),
    opts.events.on('device.deleted', (e) => {
      if (e.moduleId !== undefined) return
      for (const k of ['conn', 'twin', 'tel']) pending.delete(`${k}:${e.deviceId}`)
      put(`reg:${e.deviceId}`, { type: 'device.registry', deviceId: e.deviceId, change: 'deleted', status: null })
    }),
    opts.events.on('twin.reportedChanged', (e) => { if (e.moduleId === undefined) twinPart(e.deviceId, 'reported') }),
    opts.events.on('twin.desiredChanged', (e) => { if (e.moduleId === undefined) twinPart(e.deviceId, 'desired') }),
    opts.events.on('twin.tagsChanged', (e) => { if (e.moduleId === undefined) twinPart(e.deviceId, 'tags') }),
    opts.events.on('twin.configurationsChanged', (e) => { if (e.moduleId === undefined) twinPart(e.deviceId, 'configurations') }),
    opts.events.on('telemetry.received', (e) => {
      telemetry++
      if (e.moduleId !== undefined) { schedule(); return }
      const key = `tel:${e.deviceId}`
      const prev = pending.get(key)
      const count = prev?.type === 'telemetry.received' ? prev.count + 1 : 1
      put(key, { type: 'telemetry.received', deviceId: e.deviceId, count, lastSeq: e.seq, at: e.at })
    }),
    opts.events.on('configuration.changed', (e) => { put(`cfg:${e.id}`, { type: 'configuration.changed', id: e.id, change: e.change }) }),
    opts.events.on('sync.linkChanged', (e) => {
      put('sync.link', { type: 'sync.link', state: e.state, previous: e.previous, reason: e.reason, at: e.at })
      sampleSync() // the queue view often moves with the link (and the state colours it)
    }),
    opts.events.on('sync.conflict', (e) => { put(`sync.conflict:${e.id}`, { type: 'sync.conflict', change: 'opened', id: e.id, deviceId: e.deviceId, kind: e.kind, fields: e.fields }) }),
    opts.events.on('sync.conflictCleared', (e) => { put(`sync.conflict:${e.id}`, { type: 'sync.conflict', change: 'cleared', id: e.id, deviceId: e.deviceId, kind: null, fields: [] }) }),
    opts.events.on('configuration.metricsChanged', (e) => {
      // a create/update/delete in the same window says more than "metrics"
      if (pending.get(`cfg:${e.id}`) === undefined) put(`cfg:${e.id}`, { type: 'configuration.changed', id: e.id, change: 'metrics' })
    }),
    opts.events.on('job.statusChanged', (e) => {
      const prev = pending.get(`job:${e.jobId}`)
      put(`job:${e.jobId}`, { type: 'job.changed', jobId: e.jobId, status: e.status, devices: prev?.type === 'job.changed' ? prev.devices : 0 })
    }),
    opts.events.on('job.deviceChanged', (e) => {
      const key = `job:${e.jobId}`
      const prev = pending.get(key)
      if (prev?.type === 'job.changed') { prev.devices++; schedule(); return } // keep its place: no re-insert per device
      put(key, { type: 'job.changed', jobId: e.jobId, status: null, devices: 1 })
    }),
    opts.events.on('settings.changed', (e) => { put('settings', { type: 'settings.changed', settings: e.settings }) }),
    opts.events.on('firmware.changed', (e) => { put(`fw:${e.name}/${e.version}`, { type: 'firmware.changed', name: e.name, version: e.version, change: e.change }) }),
    opts.events.on('command.stateChanged', (e) => {
      if (e.moduleId !== undefined) return
      // queued -> in_progress -> succeeded within one window is one event with the first previous state
      const prev = pending.get(`cmd:${e.commandId}`)
      const previousStatus = prev?.type === 'command.changed' ? prev.previousStatus : e.previousStatus as CommandState | null
      put(`cmd:${e.commandId}`, { type: 'command.changed', commandId: e.commandId, deviceId: e.deviceId, methodName: e.methodName, status: e.status as CommandState, previousStatus })
    }),
    opts.events.on('view.changed', (e) => { put(`view:${e.name.toLowerCase()}`, { type: 'views.changed', name: e.name, change: e.change }) }),
    opts.events.on('method.invoked', (e) => {
      if (e.moduleId !== undefined) return
      // not coalesced per device: each call is something the technician did
      put(`method:${e.deviceId}:${e.methodName}:${String(opts.clock.now())}:${Math.random()}`, {
        type: 'method.invoked', deviceId: e.deviceId, methodName: e.methodName, status: e.status, error: e.error ?? null, durationMs: e.durationMs, at: iso()
      })
    })
  ]

  /** Queue depths have no event of their own (a drain moves them silently): sample, send on change. */
  // A snapshot walks every device (hub.sync.status / devices): about 60 ms for 1,000 devices on
  // the 2-core machine. It runs only while someone watches (`syncActive`), and the next one
  // waits at least 10x as long as the last took, so it never takes more than ~10 % of a core.
  let sampling = false
  let closed = false
  let syncTimer: NodeJS.Timeout | undefined
  const sampleMs = opts.syncSampleMs ?? 1000
  function sampleSync (): void {
    if (opts.sync === undefined || sampling || closed) return
    if (opts.syncActive !== undefined && !opts.syncActive()) { lastQueue = ''; scheduleSample(sampleMs); return }
    sampling = true
    const started = Date.now()
    syncQueueSnapshot(opts.sync).then((snap) => {
      if (snap === null || closed) return
      const key = JSON.stringify(snap)
      if (key === lastQueue) return
      lastQueue = key
      put('sync.queue', { type: 'sync.queue', ...snap, at: iso() })
    }, () => {}).finally(() => {
      sampling = false
      scheduleSample(Math.max(sampleMs, (Date.now() - started) * 10))
    })
  }
  function scheduleSample (ms: number): void {
    if (closed || opts.sync === undefined) return
    if (syncTimer !== undefined) clearTimeout(syncTimer)
    syncTimer = setTimeout(sampleSync, ms)
    syncTimer.unref()
  }
  scheduleSample(sampleMs)
  // Serial counters move with every frame: poll them, and send the whole list only when it changed.
  let lastSerial = '[]'
  const serialTimer = opts.serialStatus === undefined
    ? undefined
    : setInterval(() => {
      let ports: SerialPortStatusView[]
      try { ports = opts.serialStatus?.() ?? [] } catch { return }
      const text = JSON.stringify(ports)
      if (text === lastSerial) return
      lastSerial = text
      put('serial', { type: 'serial.status', ports })
    }, opts.serialPollMs ?? 1000)
  serialTimer?.unref()

  return {
    flush,
    close () {
      closed = true
      if (syncTimer !== undefined) clearTimeout(syncTimer)
      if (serialTimer !== undefined) clearInterval(serialTimer)
      for (const off of offs) off()
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      pending.clear()
    }
  }
}
