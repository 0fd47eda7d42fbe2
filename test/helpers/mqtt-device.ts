// A raw IoT Hub MQTT device on mqtt.js (same CONNECT as the Node SDK: MQTT 3.1.1, clean=false,
// IoT Hub username, SAS password) with the twin request/response pairing done by hand, so that
// tests can see exactly what the hub acknowledged (status, $version, PUBACK).
import mqtt, { type MqttClient } from 'mqtt'
import { randomUUID } from 'node:crypto'
import { deviceSasToken } from './sdk.js'

export interface TwinReply { status: number; version: number | null; body: string }

export interface RawDevice {
  readonly id: string
  readonly client: MqttClient
  /** Resolves when the connection closes (for whatever reason). */
  readonly closed: Promise<void>
  /** Reported PATCH (QoS 0, as the SDK does); resolves with the hub's reply. */
  reportPatch(patch: unknown, timeoutMs?: number): Promise<TwinReply>
  /** Twin GET. */
  getTwin(timeoutMs?: number): Promise<TwinReply>
  /** QoS 1 telemetry; resolves on PUBACK. */
  sendTelemetry(messageId: string, body: string | Buffer, props?: Record<string, string>): Promise<void>
  end(): Promise<void>
}

export interface RawDeviceOptions {
  url: string
  host: string
  deviceId: string
  key: string
  ca: string
  clean?: boolean
}

export async function connectRawDevice (opts: RawDeviceOptions): Promise<RawDevice> {
  const { deviceId: id } = opts
  const client = await mqtt.connectAsync(opts.url, {
    protocolVersion: 4,
    clean: opts.clean ?? false,
    clientId: id,
    username: `${opts.host}/${id}/?api-version=2021-04-12`,
    password: deviceSasToken(opts.host, id, opts.key),
    ca: opts.ca,
    reconnectPeriod: 0,
    keepalive: 60,
    connectTimeout: 15_000
  })
  client.on('error', () => {})
  const pending = new Map<string, (r: TwinReply) => void>()
  let isClosed = false
  const closeWaiters = new Set<(err: Error) => void>()
  const closed = new Promise<void>((resolve) => {
    client.once('close', () => {
      isClosed = true
      for (const w of closeWaiters) w(new Error(`connection of ${id} closed`))
      closeWaiters.clear()
      resolve()
    })
  })
  client.on('message', (topic, payload) => {
    const m = /^\$iothub\/twin\/res\/(\d+)\/\?(.*)$/.exec(topic)
    if (m === null) return
    const params = new URLSearchParams(m[2])
    const rid = params.get('$rid')
    const done = rid === null ? undefined : pending.get(rid)
    if (rid === null || done === undefined) return
    pending.delete(rid)
    const v = params.get('$version')
    done({ status: Number(m[1]), version: v === null ? null : Number(v), body: payload.toString() })
  })
  await client.subscribeAsync('$iothub/twin/res/#', { qos: 0 })

  /** Runs `start` and settles with it, or rejects if the connection closes or the time runs out. */
  function guarded<T> (start: (resolve: (v: T) => void, reject: (e: Error) => void) => void, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (isClosed) { reject(new Error(`connection of ${id} closed`)); return }
      let settled = false
      const finish = (fn: () => void): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        closeWaiters.delete(onClose)
        fn()
      }
      const onClose = (e: Error): void => finish(() => reject(e))
      closeWaiters.add(onClose)
      const timer = setTimeout(() => finish(() => reject(new Error(`${what} of ${id}: no reply within ${timeoutMs} ms`))), timeoutMs)
      start((v) => finish(() => resolve(v)), (e) => finish(() => reject(e)))
    })
  }

  function twinRequest (topicPrefix: string, body: string, timeoutMs: number, what: string): Promise<TwinReply> {
    const rid = randomUUID()
    return guarded<TwinReply>((resolve, reject) => {
      pending.set(rid, resolve)
      client.publish(`${topicPrefix}?$rid=${rid}`, body, { qos: 0 }, (err) => { if (err) { pending.delete(rid); reject(err) } })
    }, timeoutMs, what).finally(() => pending.delete(rid))
  }

  return {
    id,
    client,
    closed,
    reportPatch: (patch, timeoutMs = 20_000) => twinRequest('$iothub/twin/PATCH/properties/reported/', JSON.stringify(patch), timeoutMs, 'reported PATCH'),
    getTwin: (timeoutMs = 20_000) => twinRequest('$iothub/twin/GET/', ' ', timeoutMs, 'twin GET'),
    sendTelemetry (messageId, body, props = {}) {
      const bag = [`%24.mid=${encodeURIComponent(messageId)}`, ...Object.entries(props).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)].join('&')
      return guarded<void>((resolve, reject) => {
        client.publish(`devices/${id}/messages/events/${bag}`, body, { qos: 1 }, (err) => { if (err) reject(err); else resolve() })
      }, 30_000, 'telemetry PUBACK')
    },
    async end () {
      if (isClosed) return
      await new Promise<void>((resolve) => { client.end(true, {}, () => resolve()) })
    }
  }
}
