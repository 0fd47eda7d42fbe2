// A Modbus RTU port (modbus-serial as master): polls each device's profile into telemetry and
// reported properties, writes desired properties to holding registers or coils, maps direct
// methods to coil/register writes. One request at a time on the line (RS-485 is half duplex).
import ModbusRTU from 'modbus-serial'
import type { Hub } from '../../../services.js'
import type { ModbusProfile, RegisterSpec } from '../../../serial/modbus-profile.js'
import type { SerialDeviceBinding, SerialPortConfig, SerialPortStatus } from '../../../serial/types.js'
import type { DeviceConnection, JsonObject, JsonValue, Logger } from '../../../types.js'
import { HubError } from '../../../errors.js'
import { DEFAULT_BACKOFF, type BackoffOptions } from '../port-link.js'
import { createPortState, type PortWorker } from '../port-state.js'
import { decodeRaw, encodeValue, planSpans, scaleValue, type Span } from './codec.js'

/** Consecutive failed polls before a device is marked disconnected. */
const FAILS_TO_DISCONNECT = 3

export interface ModbusPortDeps {
  hub: Hub
  log: Logger
  backoff?: BackoffOptions
  stats: { telemetry: number; twinPatches: number }
}

interface Dev {
  binding: SerialDeviceBinding & { address: number }
  profile: ModbusProfile | null
  groups: Array<{ interval: number; spans: Span[]; busy: boolean; timer: NodeJS.Timeout | null }>
  conn: DeviceConnection | null
  failures: number
  errors: number
  lastError: string | null
  lastActivity: string | null
  lastReported: Map<string, JsonValue>
  lastTouch: number
}

type ReadResult = { data: Array<number | boolean> }

export function startModbusPort (cfg: SerialPortConfig, deps: ModbusPortDeps): PortWorker {
  const { hub, log } = deps
  const backoff = deps.backoff ?? DEFAULT_BACKOFF
  const ps = createPortState(cfg, hub.clock)
  const client = new ModbusRTU()
  let closed = false
  let open = false
  let attempt = 0
  let retryTimer: NodeJS.Timeout | null = null
  /** The line carries one request at a time: every request runs through this chain. */
  let line: Promise<unknown> = Promise.resolve()
  const devs: Dev[] = cfg.devices.map((b) => ({
    binding: b as Dev['binding'], profile: null, groups: [], conn: null, failures: 0, errors: 0, lastError: null, lastActivity: null, lastReported: new Map(), lastTouch: 0
  }))
  const now = (): string => new Date(hub.clock.now()).toISOString()

  function run<T> (unit: number, op: () => Promise<T>): Promise<T> {
    const p = line.then(async () => {
      if (!open) throw new Error('port not open')
      client.setID(unit)
      client.setTimeout(cfg.timeoutMs)
      ps.counters.framesOut++
      const res = await op()
      ps.counters.framesIn++
      ps.lastActivity = now()
      return res
    })
    line = p.catch(() => {})
    return p
  }

  function read (unit: number, span: Span): Promise<ReadResult> {
    return run<ReadResult>(unit, async (): Promise<ReadResult> => {
      switch (span.area) {
        case 'holding': return client.readHoldingRegisters(span.start, span.length)
        case 'input': return client.readInputRegisters(span.start, span.length)
        case 'coil': return client.readCoils(span.start, span.length)
        case 'discrete': return client.readDiscreteInputs(span.start, span.length)
      }
    })
  }

  async function write (dev: Dev, area: 'holding' | 'coil', address: number, value: number[] | boolean): Promise<void> {
    await run(dev.binding.address, async () => {
      if (area === 'coil') await client.writeCoil(address, value === true || (Array.isArray(value) && value[0] !== 0))
      else await client.writeRegisters(address, value as number[])
    })
  }

  function devFailed (dev: Dev, err: Error): void {
    dev.errors++
    dev.failures++
    dev.lastError = err.message
    if (/timed out|timeout/i.test(err.message)) ps.counters.timeouts++
    if (dev.conn !== null && dev.failures >= FAILS_TO_DISCONNECT) disconnect(dev, `device not answering: ${err.message}`)
  }

  function disconnect (dev: Dev, reason: string): void {
    const conn = dev.conn
    dev.conn = null
    if (conn === null) return
    log.info('modbus device disconnected', { port: cfg.name, deviceId: dev.binding.deviceId, reason })
    hub.connections.detach(conn, reason)
  }

  async function applyDesired (dev: Dev, desired: JsonObject): Promise<void> {
    const profile = dev.profile
    if (profile === null) return
    const reported: JsonObject = {}
    for (const spec of profile.registers) {
      if (!spec.desired || !(spec.name in desired)) continue
      const v = desired[spec.name]
      if (v === null || v === undefined) continue
      try {
        if (spec.area === 'coil') {
          if (typeof v !== 'boolean') throw new Error(`${spec.name} must be true or false`)
          await write(dev, 'coil', spec.address, v)
        } else {
          await write(dev, 'holding', spec.address, encodeValue(spec, v, profile.wordOrder))
        }
        reported[spec.name] = v
        dev.lastReported.set(spec.name, v)
      } catch (err) {
        dev.errors++
        dev.lastError = `desired ${spec.name}: ${(err as Error).message}`
        log.warn('modbus desired write failed', { port: cfg.name, deviceId: dev.binding.deviceId, property: spec.name, error: (err as Error).message })
      }
    }
    if (Object.keys(reported).length > 0 && dev.conn !== null) {
      await hub.twins.patchReported({ deviceId: dev.binding.deviceId }, reported)
      deps.stats.twinPatches++
    }
  }

  function connectionOf (dev: Dev): DeviceConnection {
    const deviceId = dev.binding.deviceId
    const conn: DeviceConnection = {
      identity: { deviceId },
      key: deviceId,
      transport: 'serial',
      remote: `modbus:${cfg.path}#${dev.binding.address}`,
      connectedAt: now(),
      sendMethodRequest (req) {
        const m = dev.profile?.methods[req.methodName]
        if (m === undefined) {
          hub.methods.handleResponse(conn.identity, req.requestId, 404, { error: `method '${req.methodName}' is not in profile ${dev.profile?.name ?? '?'}` })
          return
        }
        write(dev, m.area, m.address, m.area === 'coil' ? m.value === true : [Number(m.value)]).then(
          () => { hub.methods.handleResponse(conn.identity, req.requestId, 200, { ok: true, [m.area]: m.address }) },
          (err: Error) => {
            devFailed(dev, err)
            hub.methods.handleResponse(conn.identity, req.requestId, 500, { error: err.message })
          })
      },
      sendDesiredPatch (patch) {
        applyDesired(dev, patch).catch((err: Error) => { log.warn('modbus desired failed', { error: err.message }) })
      },
      sendC2d () {
        return Promise.reject(new HubError('ArgumentInvalid', 'Modbus devices do not take cloud-to-device messages.'))
      },
      close (reason) {
        if (dev.conn === conn) disconnect(dev, reason)
      },
      details () {
        return { port: cfg.name, path: cfg.path, unitId: dev.binding.address, profile: dev.profile?.name ?? null, lastActivity: dev.lastActivity, errors: dev.errors, lastError: dev.lastError }
      }
    }
    return conn
  }

  /** The device answered: attach it to the core if the registry knows it and it is enabled. */
  function ensureAttached (dev: Dev): boolean {
    if (dev.conn !== null) return true
    const deviceId = dev.binding.deviceId
    const doc = hub.registry.get({ deviceId })
    if (doc === undefined || doc.status !== 'enabled') {
      dev.lastError = doc === undefined ? `device '${deviceId}' is not registered` : `device '${deviceId}' is disabled`
      return false
    }
    const conn = connectionOf(dev)
    dev.conn = conn
    hub.connections.attach(conn, { cleanSession: true })
    hub.connections.subscribe(conn, 'methods', true)
    hub.connections.subscribe(conn, 'desired', true)
    log.info('modbus device connected', { port: cfg.name, deviceId, unit: dev.binding.address })
    // desired state set while the device was away is written now
    try {
      const desired = hub.twins.getForDevice({ deviceId }).desired
      applyDesired(dev, desired).catch((err: Error) => { log.warn('modbus desired failed', { error: err.message }) })
    } catch { /* twin gone with the device */ }
    return true
  }

  async function poll (dev: Dev, spans: Span[]): Promise<void> {
    const profile = dev.profile
    if (profile === null || !open) return
    const values = new Map<RegisterSpec, number | boolean>()
    try {
      for (const span of spans) {
        const res = await read(dev.binding.address, span)
        for (const r of span.regs) {
          const off = r.address - span.start
          if (r.type === 'bool') values.set(r, res.data[off] === true)
          else values.set(r, scaleValue(decodeRaw(r.type, (res.data as number[]).slice(off, off + 2), profile.wordOrder), r))
        }
      }
    } catch (err) {
      devFailed(dev, err as Error)
      return
    }
    dev.failures = 0
    dev.lastActivity = now()
    if (!ensureAttached(dev)) return
    const identity = { deviceId: dev.binding.deviceId }
    const t = hub.clock.now()
    if (t - dev.lastTouch >= 1000) { dev.lastTouch = t; hub.registry.touch(identity, t) }
    const body: JsonObject = {}
    const reported: JsonObject = {}
    for (const [r, v] of values) {
      if (r.telemetry) body[r.name] = v
      if (r.reported && dev.lastReported.get(r.name) !== v) { reported[r.name] = v; dev.lastReported.set(r.name, v) }
    }
    if (Object.keys(body).length > 0) {
      await hub.telemetry.accept({
        deviceId: identity.deviceId,
        systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' },
        properties: { 'modbus-profile': profile.name },
        body: Buffer.from(JSON.stringify(body)),
        enqueuedTime: now(),
        transport: 'serial'
      })
      deps.stats.telemetry++
    }
    if (Object.keys(reported).length > 0) {
      await hub.twins.patchReported(identity, reported)
      deps.stats.twinPatches++
    }
  }

  function startPolling (dev: Dev): void {
    const profile = dev.profile
    if (profile === null) return
    const byInterval = new Map<number, RegisterSpec[]>()
    for (const r of profile.registers) byInterval.set(r.interval, [...(byInterval.get(r.interval) ?? []), r])
    for (const [interval, regs] of byInterval) {
      const g: Dev['groups'][number] = { interval, spans: planSpans(regs), busy: false, timer: null }
      const tick = (): void => {
        if (g.busy || !open) return
        g.busy = true
        poll(dev, g.spans).catch((err: Error) => { log.error('modbus poll failed', { port: cfg.name, error: err.message }) }).finally(() => { g.busy = false })
      }
      g.timer = setInterval(tick, interval)
      g.timer.unref()
      dev.groups.push(g)
      setImmediate(tick)
    }
  }

  function scheduleReopen (): void {
    if (closed || retryTimer !== null) return
    const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 16))
    const delay = Math.round(base * (0.75 + Math.random() * 0.5))
    attempt++
    ps.setState('backoff', Date.now() + delay)
    retryTimer = setTimeout(() => { retryTimer = null; connect() }, delay)
    retryTimer.unref()
  }

  function down (err: Error): void {
    if (!open && ps.state !== 'opening') return
    open = false
    ps.counters.portErrors++
    ps.lastError = err.message
    ps.setState('closed')
    log.warn('modbus port lost', { port: cfg.name, path: cfg.path, error: err.message })
    for (const d of devs) disconnect(d, `serial port lost: ${err.message}`)
    try { client.close(() => {}) } catch { /* already closed */ }
    scheduleReopen()
  }

  function connect (): void {
    if (closed) return
    ps.setState('opening')
    client.connectRTUBuffered(cfg.path, { baudRate: cfg.baudRate, dataBits: cfg.dataBits, stopBits: cfg.stopBits, parity: cfg.parity }).then(() => {
      if (closed) { client.close(() => {}); return }
      open = true
      attempt = 0
      ps.counters.opens++
      ps.setState('open')
      log.info('modbus port open', { port: cfg.name, path: cfg.path })
    }, (err: Error) => {
      ps.counters.portErrors++
      ps.lastError = err.message
      ps.setState('closed')
      scheduleReopen()
    })
  }
  client.on('close', () => { if (open) down(new Error('port closed')) })
  client.on('error', (err: unknown) => { down(err instanceof Error ? err : new Error(String(err))) })

  // profiles load once per worker start; a changed profile file applies on the next restart of the port
  for (const dev of devs) {
    hub.serial.profiles.load(dev.binding.profile ?? '').then((p) => {
      dev.profile = p
      if (!closed) startPolling(dev)
    }, (err: Error) => {
      dev.lastError = err.message
      dev.errors++
      log.error('modbus profile not loaded', { port: cfg.name, deviceId: dev.binding.deviceId, error: err.message })
    })
  }
  connect()

  return {
    config: cfg,
    status (): SerialPortStatus {
      return ps.snapshot(devs.map((d) => ({
        deviceId: d.binding.deviceId, address: d.binding.address, connected: d.conn !== null, lastActivity: d.lastActivity, errors: d.errors, lastError: d.lastError
      })))
    },
    async close (reason) {
      closed = true
      if (retryTimer !== null) clearTimeout(retryTimer)
      for (const d of devs) {
        for (const g of d.groups) if (g.timer !== null) clearInterval(g.timer)
        disconnect(d, reason)
      }
      open = false
      await line.catch(() => {})
      await new Promise<void>((resolve) => {
        try { client.close(() => { resolve() }) } catch { resolve() }
        setTimeout(resolve, 1000).unref()
      })
      ps.setState('closed')
    }
  }
}
