// Load generation with mqtt.js v5 clients (the same code drives the hub and bare aedes).
import mqtt, { type MqttClient } from 'mqtt'
import { log, pool } from './common.js'
import { benchKey, deviceConnectOptions } from './sas.js'

export interface ConnectOptions {
  url: string
  /** IoT Hub host name used in the username and the SAS `sr`. */
  hostName: string
  deviceIds: readonly string[]
  ca?: string | Buffer
  clean?: boolean
  /** Connection attempts in flight at once. */
  parallel?: number
}

export async function connectDevices (opts: ConnectOptions): Promise<MqttClient[]> {
  const t0 = performance.now()
  const clients = await pool(opts.deviceIds, opts.parallel ?? 50, async (deviceId) => {
    const cred = deviceConnectOptions(opts.hostName, deviceId, benchKey(deviceId))
    try {
      return await mqtt.connectAsync(opts.url, {
        ...cred,
        protocolVersion: 4,
        clean: opts.clean ?? true,
        keepalive: 180,
        reconnectPeriod: 0,
        connectTimeout: 60_000,
        ...(opts.ca ? { ca: opts.ca, servername: opts.hostName } : {})
      }, false)
    } catch (err) {
      throw new Error(`device ${deviceId} failed to connect to ${opts.url}: ${(err as Error).message}`)
    }
  })
  log(`connected ${clients.length} clients in ${Math.round(performance.now() - t0)} ms`)
  return clients
}

export async function closeAll (clients: readonly MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
}

export interface PublishResult {
  elapsedMs: number
  acked: number
  errors: number
}

/**
 * Every client publishes its share of `total` QoS 1 telemetry messages to
 * devices/{id}/messages/events/{bag}, keeping at most `window` un-acknowledged per client.
 * Resolves when every PUBACK has arrived.
 */
export function publishTelemetry (clients: readonly MqttClient[], deviceIds: readonly string[], total: number, window: number, payloadBytes: number): Promise<PublishResult> {
  const filler = 'x'.repeat(Math.max(0, payloadBytes - 60))
  const t0 = performance.now()
  let acked = 0
  let errors = 0
  return new Promise((resolve) => {
    const done = (): void => resolve({ elapsedMs: performance.now() - t0, acked, errors })
    clients.forEach((client, k) => {
      const deviceId = deviceIds[k] as string
      const topic = `devices/${deviceId}/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8`
      const quota = Math.floor(total / clients.length) + (k < total % clients.length ? 1 : 0)
      let sent = 0
      let inflight = 0
      const pump = (): void => {
        while (inflight < window && sent < quota) {
          sent++
          inflight++
          const body = `{"seq":${sent},"t":${Date.now()},"temp":21.5,"pad":"${filler}"}`
          client.publish(topic, body, { qos: 1 }, (err) => {
            inflight--
            if (err) errors++
            if (++acked === total) done()
            else pump()
          })
        }
      }
      pump()
    })
    if (total === 0) done()
  })
}

/** One subscriber that receives the relayed telemetry (bare aedes baseline). */
export async function subscriber (url: string, qos: 0 | 1): Promise<{ client: MqttClient; waitFor(n: number): Promise<number> }> {
  const client = await mqtt.connectAsync(url, { clientId: 'bench-subscriber', protocolVersion: 4, clean: true, reconnectPeriod: 0 })
  let received = 0
  let waiter: { n: number; resolve: (at: number) => void } | null = null
  client.on('message', () => {
    received++
    if (waiter && received >= waiter.n) { const w = waiter; waiter = null; w.resolve(performance.now()) }
  })
  await client.subscribeAsync('devices/+/messages/events/#', { qos })
  return {
    client,
    waitFor: (n) => new Promise((resolve) => {
      if (received >= n) resolve(performance.now())
      else waiter = { n, resolve }
    })
  }
}

export interface PatchResult {
  elapsedMs: number
  latenciesMs: number[]
  ok: number
  failed: number
  missingVersion: number
  statuses: Record<string, number>
}

/**
 * Reported-property patches (A.7): each client keeps one patch outstanding and sends the next
 * when the 204 (with $version) arrives, until `total` patches have been issued overall.
 * Clients must already be subscribed to $iothub/twin/res/#.
 */
export function patchReported (clients: readonly MqttClient[], total: number, timeoutMs = 120_000): Promise<PatchResult> {
  const latenciesMs: number[] = []
  const statuses: Record<string, number> = {}
  let issued = 0
  let completed = 0
  let ok = 0
  let failed = 0
  let missingVersion = 0
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reported patches: only ${completed}/${total} answered after ${timeoutMs} ms (statuses ${JSON.stringify(statuses)})`)), timeoutMs)
    const finish = (): void => {
      clearTimeout(timer)
      resolve({ elapsedMs: performance.now() - t0, latenciesMs, ok, failed, missingVersion, statuses })
    }
    clients.forEach((client, k) => {
      const pending = new Map<string, number>()
      let rid = 0
      const next = (): void => {
        if (issued >= total) return
        issued++
        const id = `${k}-${++rid}`
        pending.set(id, performance.now())
        const body = JSON.stringify({ temperature: 20 + (rid % 10), status: 'running', counter: rid, firmware: { version: '1.2.3' } })
        client.publish(`$iothub/twin/PATCH/properties/reported/?$rid=${id}`, body, { qos: 0 })
      }
      client.on('message', (topic) => {
        const m = /^\$iothub\/twin\/res\/(\d+)\/\?(.*)$/.exec(topic)
        if (!m) return
        const params = new URLSearchParams(m[2])
        const id = params.get('$rid')
        const start = id === null ? undefined : pending.get(id)
        if (id === null || start === undefined) return
        pending.delete(id)
        latenciesMs.push(performance.now() - start)
        const status = m[1] as string
        statuses[status] = (statuses[status] ?? 0) + 1
        if (status === '204') {
          ok++
          if (!params.get('$version')) missingVersion++
        } else failed++
        if (++completed === total) finish()
        else next()
      })
      next()
    })
  })
}

export async function subscribeTwinResponses (clients: readonly MqttClient[]): Promise<void> {
  await pool(clients, 100, async (c) => {
    const granted = await c.subscribeAsync('$iothub/twin/res/#', { qos: 0 })
    if (granted[0]?.qos === 128) throw new Error(`SUBACK 0x80 for $iothub/twin/res/# (${c.options.clientId})`)
  })
}

export function deviceIdsFor (prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(6, '0')}`)
}
