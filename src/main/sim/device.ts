// One simulated field device on the official device SDK (azure-iot-device + MQTT). It behaves
// like a well-made device: reports what it is on every boot, handles reboot / factoryReset /
// firmwareUpdate direct methods, acknowledges desired configuration the IoT Plug and Play way,
// and sends telemetry. The reported layout is the contract in src/main/hub/reports/layout.ts.
import { randomBytes } from 'node:crypto'
import { ACK, METHODS, type DeviceState, type FirmwareStatus, type ReportedFirmware, type WritableAck } from '../hub/reports/layout.js'
import { downloadImage, DownloadError } from './download.js'
import { loadDeviceSdk, parseDeviceConnectionString, type DeviceClient, type DeviceTwin, type MethodRequest, type MethodResponse } from './sdk.js'

/** A marker that makes an image fail its simulated self-test after it is applied (tests the rollback path). */
export const BAD_IMAGE_MARKER = 'SITEHUB-SIM-BAD-IMAGE'

export interface SimulatedDeviceOptions {
  connectionString: string
  /** The hub CA (PEM), for MQTT/TLS and the firmware download. */
  ca?: string | Buffer
  transport?: 'mqtt' | 'ws'
  /** Seconds between telemetry messages; 0 sends none. Desired config.telemetryRateSeconds overrides it. Default 10. */
  telemetryRateSeconds?: number
  /** Firmware version the device ships with. Default '1.0.0'. */
  factoryFirmware?: string
  /** How long a reboot keeps the device offline. Default 1000 ms. */
  rebootDelayMs?: number
  /** Pause between the steps of an update or a reset (so progress is visible). Default 300 ms. */
  stepDelayMs?: number
  /** Time between acknowledging a desired configuration as pending and as applied. Default 200 ms. */
  configApplyDelayMs?: number
  model?: string
  /** Everything the device does, for stats, logs and tests. */
  onEvent?: (event: SimEvent) => void
}

export type SimEvent =
  | { type: 'connected'; deviceId: string }
  | { type: 'disconnected'; deviceId: string; reason: string }
  | { type: 'telemetry'; deviceId: string; seq: number }
  | { type: 'reported'; deviceId: string; patch: Record<string, unknown> }
  | { type: 'method'; deviceId: string; name: string; status: number }
  | { type: 'error'; deviceId: string; message: string }

export interface SimulatedDeviceSnapshot {
  deviceId: string
  connected: boolean
  state: DeviceState
  firmware: ReportedFirmware
  config: Record<string, unknown>
  messagesSent: number
  boots: number
}

export interface SimulatedDevice {
  readonly deviceId: string
  /** Connects, reports capabilities and state, starts telemetry. Resolves once the first boot is reported. */
  start(): Promise<void>
  /** Stops everything and closes the client. Safe to call twice. */
  stop(): Promise<void>
  snapshot(): SimulatedDeviceSnapshot
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const now = (): string => new Date().toISOString()
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export function createSimulatedDevice (opts: SimulatedDeviceOptions): SimulatedDevice {
  const sdk = loadDeviceSdk()
  const cs = parseDeviceConnectionString(opts.connectionString)
  const deviceId = cs.DeviceId
  const emit = (e: SimEvent): void => { try { opts.onEvent?.(e) } catch { /* a listener's bug is not the device's */ } }
  const rebootDelayMs = opts.rebootDelayMs ?? 1000
  const stepDelayMs = opts.stepDelayMs ?? 300
  const configApplyDelayMs = opts.configApplyDelayMs ?? 200
  const defaultRate = opts.telemetryRateSeconds ?? 10

  // "Flash": what survives a reboot. A factory reset clears all of it except the firmware.
  const factory = (): { config: Record<string, unknown> | undefined; configVersion: number; telemetrySeq: number } =>
    ({ config: undefined, configVersion: 0, telemetrySeq: 0 })
  let flash = factory()
  let firmware: ReportedFirmware = {
    current: opts.factoryFirmware ?? '1.0.0', currentName: null, pending: null, pendingName: null, status: 'current', progress: 100, lastUpdate: now()
  }
  let state: DeviceState = 'running'
  let client: DeviceClient | undefined
  let twin: DeviceTwin | undefined
  let connected = false
  let stopping = false
  let boots = 0
  let messagesSent = 0
  let telemetryTimer: NodeJS.Timeout | undefined
  let sending = false
  let reportChain: Promise<unknown> = Promise.resolve()
  let recovering: Promise<void> | undefined
  let rebootAfterBoot: Record<string, unknown> | undefined
  const abort = new AbortController()
  /** Highest desired $version handled; a reboot's full-document replay of it is skipped. */
  let configVersionSeen = 0

  const rate = (): number => {
    const r = flash.config?.['telemetryRateSeconds']
    return typeof r === 'number' ? r : defaultRate
  }

  /** Reported patches go out one at a time, in order; a failure is logged, not thrown. */
  function report (patch: Record<string, unknown>): Promise<void> {
    const t = twin
    const next = reportChain.then(() => new Promise<void>((resolve) => {
      if (t === undefined || stopping) { resolve(); return }
      (t.properties.reported as unknown as { update: (p: unknown, cb: (err?: Error) => void) => void }).update(patch, (err) => {
        if (err) emit({ type: 'error', deviceId, message: `reported update failed: ${err.message}` })
        else emit({ type: 'reported', deviceId, patch })
        resolve()
      })
    }))
    reportChain = next
    return next
  }

  const setFirmware = (change: Partial<ReportedFirmware>): Promise<void> => {
    firmware = { ...firmware, ...change, lastUpdate: now() }
    return report({ firmware: { ...change, lastUpdate: firmware.lastUpdate } })
  }
  const setState = (s: DeviceState, extra: Record<string, unknown> = {}): Promise<void> => {
    state = s
    return report({ state: s, ...extra })
  }

  async function boot (): Promise<void> {
    const Transport = opts.transport === 'ws' ? sdk.mqtt.MqttWs : sdk.mqtt.Mqtt
    const c = sdk.device.Client.fromConnectionString(opts.connectionString, Transport)
    c.on('error', (err: Error) => emit({ type: 'error', deviceId, message: err.message }))
    if (opts.ca !== undefined) await c.setOptions({ ca: opts.ca } as never)
    const discard = async (): Promise<void> => { c.removeAllListeners(); c.on('error', () => {}); await Promise.race([c.close().catch(() => {}), sleep(5000)]) }
    try {
      await c.open()
    } catch (err) {
      await discard()
      throw err
    }
    // stop() ran while the connection was being opened: do not leave a live client behind.
    if (stopping) { await discard(); return }
    client = c
    connected = true
    boots++
    c.on('disconnect', () => {
      if (client !== c || stopping) return
      connected = false
      emit({ type: 'disconnected', deviceId, reason: 'connection lost' })
      recover()
    })
    for (const name of Object.values(METHODS)) c.onDeviceMethod(name, (req, res) => { void onMethod(req, res) })
    const t = await c.getTwin()
    twin = t
    emit({ type: 'connected', deviceId })
    const reported = t.properties.reported as Record<string, unknown>
    if (boots === 1) {
      adoptFlashFromTwin(reported)
      const rc = reported['config']
      if (isObject(rc) && isObject(rc['value'])) reportedConfigValue = structuredClone(rc['value'])
    }
    await report({
      deviceInfo: { manufacturer: 'Sitehub', model: opts.model ?? 'sim-device', serialNumber: `SIM-${deviceId}`, simulated: true },
      capabilities: { methods: Object.values(METHODS), writable: ['config', 'firmware'], firmwareUpdate: true },
      state: 'running',
      firmware: { ...firmware, lastUpdate: firmware.lastUpdate },
      telemetry: { rateSeconds: rate() },
      ...rebootAfterBoot
    })
    state = 'running'
    rebootAfterBoot = undefined
    // The SDK emits the whole desired document once for a new listener, then each patch.
    t.on('properties.desired', (patch: Record<string, unknown>) => { void onDesired(patch) })
    scheduleTelemetry()
  }

  /** A restarted simulator process: the twin remembers what this device had installed. */
  function adoptFlashFromTwin (reported: Record<string, unknown>): void {
    const fw = reported['firmware']
    if (!isObject(fw) || typeof fw['current'] !== 'string') return
    firmware.current = fw['current']
    firmware.currentName = typeof fw['currentName'] === 'string' ? fw['currentName'] : null
    const status = fw['status'] as FirmwareStatus | undefined
    if (status !== undefined && status !== 'current' && status !== 'failed') {
      firmware = { ...firmware, status: 'failed', progress: 0, pending: typeof fw['pending'] === 'string' ? fw['pending'] : null,
        error: { code: 'interrupted', message: 'the device restarted during the update; the previous firmware is still running' } }
    } else if (status === 'failed') {
      firmware = { ...firmware, status: 'failed', progress: 0, pending: typeof fw['pending'] === 'string' ? fw['pending'] : null,
        ...(isObject(fw['error']) ? { error: fw['error'] as { code: string; message: string } } : {}) }
    }
  }

  async function shutdown (reason: string): Promise<void> {
    if (telemetryTimer !== undefined) clearTimeout(telemetryTimer)
    telemetryTimer = undefined
    const c = client
    client = undefined
    twin = undefined
    if (c === undefined) return
    await reportChain
    connected = false
    c.removeAllListeners()
    c.on('error', () => {})
    await Promise.race([c.close().catch(() => {}), sleep(5000)])
    emit({ type: 'disconnected', deviceId, reason })
  }

  /** Connection lost for good (the SDK's own retries gave up): reboot-style reconnect with back-off. */
  function recover (): void {
    if (recovering !== undefined || stopping) return
    recovering = (async () => {
      await shutdown('reconnecting')
      for (let attempt = 0; !stopping; attempt++) {
        await sleep(Math.min(1000 * 2 ** attempt, 30_000))
        if (stopping) return
        try { await boot(); return } catch (err) {
          emit({ type: 'error', deviceId, message: `reconnect failed: ${(err as Error).message}` })
          await shutdown('reconnect failed')
        }
      }
    })().finally(() => { recovering = undefined })
  }

  async function restart (after: Record<string, unknown>): Promise<void> {
    await shutdown('rebooting')
    await sleep(rebootDelayMs)
    if (stopping) return
    rebootAfterBoot = { rebootStatus: 'completed', lastReboot: now(), ...after }
    try { await boot() } catch (err) {
      emit({ type: 'error', deviceId, message: `boot failed: ${(err as Error).message}` })
      recover()
    }
  }

  function scheduleTelemetry (): void {
    if (telemetryTimer !== undefined) clearTimeout(telemetryTimer)
    telemetryTimer = undefined
    const seconds = rate()
    if (seconds <= 0 || stopping) return
    // A random first delay spreads a fleet's messages over the period.
    const first = boots === 1 && flash.telemetrySeq === 0 ? Math.random() * seconds * 1000 : seconds * 1000
    telemetryTimer = setTimeout(function tick () {
      void sendTelemetry()
      telemetryTimer = setTimeout(tick, rate() * 1000)
    }, first)
  }

  async function sendTelemetry (): Promise<void> {
    const c = client
    if (c === undefined || sending || !connected) return
    sending = true
    const seq = ++flash.telemetrySeq
    const body = JSON.stringify({
      seq, temperature: Math.round((20 + 5 * Math.sin(seq / 10) + Math.random()) * 100) / 100,
      humidity: Math.round((45 + 10 * Math.cos(seq / 15)) * 10) / 10, firmware: firmware.current, ts: now()
    })
    const msg = new sdk.device.Message(body)
    msg.contentType = 'application/json'
    msg.contentEncoding = 'utf-8'
    try {
      await c.sendEvent(msg)
      messagesSent++
      emit({ type: 'telemetry', deviceId, seq })
    } catch (err) {
      emit({ type: 'error', deviceId, message: `telemetry failed: ${(err as Error).message}` })
    } finally {
      sending = false
    }
  }

  function respond (res: MethodResponse, name: string, status: number, payload: unknown): Promise<void> {
    emit({ type: 'method', deviceId, name, status })
    return new Promise((resolve) => { res.send(status, payload as never, () => resolve()) })
  }

  async function onMethod (req: MethodRequest, res: MethodResponse): Promise<void> {
    const name = req.methodName
    const busy = state !== 'running'
    if (busy) { await respond(res, name, 409, { error: 'busy', state, message: `the device is ${state}; try again when it is running` }); return }
    if (name === METHODS.reboot) {
      await respond(res, name, 200, { status: 'rebooting', delaySeconds: rebootDelayMs / 1000 })
      await setState('rebooting', { rebootStatus: 'rebooting' })
      await restart({})
    } else if (name === METHODS.factoryReset) {
      await respond(res, name, 200, { status: 'resetting' })
      await factoryReset()
    } else if (name === METHODS.firmwareUpdate) {
      const problem = validateUpdate(req.payload)
      if (problem !== undefined) { await respond(res, name, 400, { error: 'badRequest', message: problem }); return }
      const p = req.payload as UpdateRequest
      if (p.version === firmware.current && (p.name ?? null) === (firmware.currentName ?? null)) {
        await respond(res, name, 200, { status: 'current', version: firmware.current })
        return
      }
      await respond(res, name, 202, { status: 'accepted', version: p.version })
      await firmwareUpdate(p)
    }
  }

  async function factoryReset (): Promise<void> {
    await setState('resetting', { factoryReset: { status: 'resetting', progress: 0 } })
    for (const progress of [25, 50, 75]) {
      await sleep(stepDelayMs)
      await report({ factoryReset: { status: 'resetting', progress } })
    }
    flash = factory()
    configVersionSeen = 0
    const lastReset = now()
    // `config: null` deletes the reported ack: nothing is applied any more.
    reportedConfigValue = undefined
    await report({ factoryReset: { status: 'completed', progress: 100, lastReset }, config: null, telemetry: { rateSeconds: rate() } })
    // A reset ends in a reboot; the fresh boot re-reads the twin like a new device.
    await setState('rebooting', { rebootStatus: 'rebooting' })
    await restart({})
  }

  interface UpdateRequest { name?: string; version: string; url: string; sha256: string; size?: number }

  function validateUpdate (p: unknown): string | undefined {
    if (!isObject(p)) return 'the payload must be {name, version, url, sha256}'
    if (typeof p['version'] !== 'string' || p['version'] === '') return 'version is missing'
    if (typeof p['url'] !== 'string' || !/^https:\/\//.test(p['url'])) return 'url must be an https URL'
    if (typeof p['sha256'] !== 'string' || !/^[0-9a-fA-F]{64}$/.test(p['sha256'])) return 'sha256 must be 64 hex digits'
    return undefined
  }

  async function fail (code: string, message: string): Promise<void> {
    // One patch: a reader never sees 'failed' while the device still says it is updating.
    const change: Partial<ReportedFirmware> = { status: 'failed', progress: 0, error: { code, message } }
    firmware = { ...firmware, ...change, lastUpdate: now() }
    state = 'running'
    await report({ firmware: { ...change, lastUpdate: firmware.lastUpdate }, state })
  }

  async function firmwareUpdate (p: UpdateRequest): Promise<void> {
    state = 'updating'
    await report({ state: 'updating' })
    await setFirmware({ pending: p.version, pendingName: p.name ?? null, status: 'downloading', progress: 0, error: null })
    let lastPct = 0
    let tail = ''
    let marked = false
    let result: Awaited<ReturnType<typeof downloadImage>>
    try {
      result = await downloadImage({
        url: p.url,
        ...(opts.ca === undefined ? {} : { ca: opts.ca }),
        token: () => downloadToken(),
        signal: abort.signal,
        onChunk (chunk) {
          // Scan for the self-test marker across chunk boundaries without keeping the image.
          const text = tail + chunk.toString('latin1')
          if (text.includes(BAD_IMAGE_MARKER)) marked = true
          tail = text.slice(-BAD_IMAGE_MARKER.length)
        },
        onProgress (received, total) {
          const size = total ?? p.size
          if (size === undefined || size <= 0) return
          const pct = Math.floor((received / size) * 100)
          // At most one reported patch per 10 percent.
          if (pct >= lastPct + 10 && pct < 100) { lastPct = pct - (pct % 10); void setFirmware({ progress: lastPct }) }
        }
      })
    } catch (err) {
      if (stopping) return
      await fail(err instanceof DownloadError ? err.code : 'downloadFailed', `download failed: ${(err as Error).message}`)
      return
    }
    await setFirmware({ progress: 100 })
    await setFirmware({ status: 'verifying', progress: 0 })
    await sleep(stepDelayMs)
    if (result.sha256 !== p.sha256.toLowerCase()) {
      // Nothing was written to the boot slot: the running firmware stays, the download is discarded.
      await fail('sha256Mismatch', `the image hashes to ${result.sha256}, not the expected ${p.sha256.toLowerCase()}; the update was discarded`)
      return
    }
    await setFirmware({ progress: 100 })
    await setFirmware({ status: 'applying', progress: 0 })
    for (const progress of [50, 100]) { await sleep(stepDelayMs); await setFirmware({ progress }) }
    await setFirmware({ status: 'rebooting', progress: 0 })
    await report({ rebootStatus: 'rebooting' })
    await shutdown('rebooting into new firmware')
    await sleep(rebootDelayMs)
    if (stopping) return
    if (marked) {
      // The new image failed its self-test: report the rollback, boot the previous slot, say why.
      firmware = { ...firmware, status: 'rollingBack', progress: 0, lastUpdate: now() }
      rebootAfterBoot = { rebootStatus: 'completed', lastReboot: now() }
      try { await boot() } catch (err) {
        emit({ type: 'error', deviceId, message: `boot failed: ${(err as Error).message}` })
        recover()
        return
      }
      await sleep(stepDelayMs)
      await setFirmware({ status: 'failed', progress: 0, error: { code: 'bootFailed', message: `firmware ${p.version} failed its self-test after applying; rolled back to ${firmware.current}` } })
      return
    } else {
      firmware = { current: p.version, currentName: p.name ?? null, pending: null, pendingName: null, status: 'current', progress: 100, error: null, lastUpdate: now() }
      rebootAfterBoot = { rebootStatus: 'completed', lastReboot: now() }
    }
    try { await boot() } catch (err) {
      emit({ type: 'error', deviceId, message: `boot failed: ${(err as Error).message}` })
      recover()
    }
  }

  function downloadToken (): string {
    if (cs['SharedAccessSignature'] !== undefined) return cs['SharedAccessSignature']
    const key = cs['SharedAccessKey']
    if (key === undefined) throw new DownloadError('noCredentials', 'the device has no SAS key to authenticate the download')
    const expiry = String(Math.floor(Date.now() / 1000) + 3600)
    return sdk.device.SharedAccessSignature.create(cs.HostName, deviceId, key, expiry).toString()
  }

  async function onDesired (patch: Record<string, unknown>): Promise<void> {
    const version = typeof patch['$version'] === 'number' ? patch['$version'] : 0
    if (version <= configVersionSeen) return
    configVersionSeen = version
    const desired = (twin?.properties.desired ?? {}) as Record<string, unknown>
    if ('config' in patch) await applyConfig(desired['config'], version)
    const fw = desired['firmware']
    if ('firmware' in patch && isObject(fw) && validateUpdate(fw) === undefined) {
      const want = fw as unknown as UpdateRequest
      const already = want.version === firmware.current || (firmware.status === 'failed' && firmware.pending === want.version)
      if (!already && state === 'running') void firmwareUpdate(want)
    }
  }

  /** The config value last reported, to turn a replacement into a merge patch (removed keys as null, B.3). */
  let reportedConfigValue: Record<string, unknown> | undefined

  function reportConfig (value: Record<string, unknown>, ack: Omit<WritableAck, 'value'>, extra: Record<string, unknown> = {}): Promise<void> {
    const patch = mergeDiff(reportedConfigValue, value)
    reportedConfigValue = structuredClone(value)
    return report({ config: { ...(patch === undefined ? {} : { value: patch }), ...ack }, ...extra })
  }

  async function applyConfig (value: unknown, version: number): Promise<void> {
    // A copy: the SDK merges later patches into its cached desired object in place.
    const cfg = isObject(value) ? structuredClone(value) : {}
    if (flash.configVersion !== 0 && JSON.stringify(flash.config ?? {}) === JSON.stringify(cfg)) return
    await reportConfig(cfg, { ac: ACK.pending, av: version, ad: 'pending' })
    await sleep(configApplyDelayMs)
    const r = cfg['telemetryRateSeconds']
    if (r !== undefined && (typeof r !== 'number' || !Number.isFinite(r) || (r !== 0 && r < 0.1) || r > 86_400)) {
      await reportConfig(cfg, { ac: ACK.invalid, av: version, ad: 'telemetryRateSeconds must be 0 (off) or a number of seconds from 0.1 to 86400' })
      return
    }
    flash.config = cfg
    flash.configVersion = version
    await reportConfig(cfg, { ac: ACK.applied, av: version, ad: 'applied' }, { telemetry: { rateSeconds: rate() } })
    scheduleTelemetry()
  }

  return {
    deviceId,
    async start () {
      stopping = false
      await boot()
    },
    async stop () {
      if (stopping) return
      stopping = true
      abort.abort()
      await recovering?.catch(() => {})
      await shutdown('stopped')
    },
    snapshot: () => ({ deviceId, connected, state, firmware: { ...firmware }, config: { ...flash.config }, messagesSent, boots })
  }
}

/**
 * The merge patch turning `from` into `to` (B.3: objects merge, null deletes). Undefined when
 * nothing changed. `from` undefined means the reported side has nothing yet: send `to` whole.
 */
export function mergeDiff (from: unknown, to: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!isObject(from)) return to
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(from)) if (!(k in to)) out[k] = null
  for (const [k, v] of Object.entries(to)) {
    const old = from[k]
    if (isObject(v) && isObject(old)) {
      const sub = mergeDiff(old, v)
      if (sub !== undefined) out[k] = sub
    } else if (JSON.stringify(old) !== JSON.stringify(v)) out[k] = v
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/** A random suffix for fleet device ids when none is given. */
export const randomSuffix = (): string => randomBytes(3).toString('hex')
