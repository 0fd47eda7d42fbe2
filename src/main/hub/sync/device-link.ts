// One MQTT connection to the cloud per local device, in the device dialect (A.2, A.5, A.7),
// authenticated with the device's own key (identity translation). TLS with the upstream CA.
import mqtt, { type MqttClient } from 'mqtt'
import { createSasToken } from '../registry/sas.js'
import type { JsonObject } from '../types.js'

export interface DeviceLinkOptions {
  host: string
  /** HostName as in the connection string (token resource, username). */
  hostName: string
  mqttsPort: number
  deviceId: string
  /** A module identity (deviceId/moduleId): connects and publishes as the module. */
  moduleId?: string
  key: string
  ca?: string
  keepaliveSeconds?: number
  tokenTtlSeconds?: number
  /** Called with `deviceId`, or `deviceId/moduleId` for a module link (also onMethod, onClose). */
  onDesired: (deviceId: string) => void
  /** A direct method call from the cloud for this device ($iothub/methods/POST, A.8). */
  onMethod?: (deviceId: string, methodName: string, rid: string, payload: Buffer) => void
  onClose: (deviceId: string, reason: string) => void
  /**
   * The token reaches 80 % of its life: the owner opens a fresh link and then closes this one
   * (make before break, so the device never looks offline upstream). Without it, the link
   * closes itself then and the owner reopens on demand.
   */
  onRenewDue?: (deviceId: string) => void
  /** Subscribe to direct methods in the opening SUBSCRIBE (a renewal of a link that had them). */
  subscribeMethods?: boolean
}

export interface DeviceLink {
  readonly deviceId: string
  connected(): boolean
  /** Resolves on PUBACK. */
  publish(bag: string, body: Buffer): Promise<void>
  /** Reported PATCH; resolves with the new reported $version on 204. */
  patchReported(patch: JsonObject): Promise<number>
  /**
   * The twin as the device sees it (`$iothub/twin/GET`, A.7): `{ desired, reported }`. Asked on
   * the same connection as the patches, so the cloud answers after any patch sent before it.
   */
  getTwin(): Promise<{ desired: JsonObject; reported: JsonObject }>
  /** Subscribe to (or leave) direct methods upstream: the cloud then sees the device as reachable for methods. */
  setMethods(on: boolean): Promise<void>
  respondMethod(rid: string, status: number, payloadJson: string): void
  close(): Promise<void>
}

const enc = encodeURIComponent

export function encodeTelemetryBag (systemProperties: Record<string, string>, properties: Record<string, string | null>): string {
  const SYS: Record<string, string> = { messageId: '$.mid', correlationId: '$.cid', userId: '$.uid', to: '$.to', contentType: '$.ct', contentEncoding: '$.ce', expiryTimeUtc: '$.exp', interfaceId: '$.ifid', componentName: '$.sub', outputName: '$.on' }
  const parts: string[] = []
  for (const [k, v] of Object.entries(systemProperties)) {
    const sk = SYS[k]
    if (sk !== undefined) parts.push(`${enc(sk)}=${enc(v)}`)
  }
  for (const [k, v] of Object.entries(properties)) parts.push(v === null ? enc(k) : `${enc(k)}=${enc(v)}`)
  return parts.join('&')
}

export function openDeviceLink (opts: DeviceLinkOptions): Promise<DeviceLink> {
  const ttl = opts.tokenTtlSeconds ?? 3600
  const mod = opts.moduleId
  const linkKey = mod === undefined ? opts.deviceId : `${opts.deviceId}/${mod}`
  const resource = mod === undefined ? `${opts.hostName}/devices/${opts.deviceId}` : `${opts.hostName}/devices/${opts.deviceId}/modules/${mod}`
  const token = createSasToken({ resource, key: opts.key, expiry: Math.floor(Date.now() / 1000) + ttl })
  const client: MqttClient = mqtt.connect({
    protocol: 'mqtts',
    host: opts.host,
    port: opts.mqttsPort,
    clientId: linkKey,
    username: `${opts.hostName}/${linkKey}/?api-version=2021-04-12`,
    password: token,
    protocolVersion: 4,
    clean: true,
    keepalive: opts.keepaliveSeconds ?? 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    rejectUnauthorized: true,
    ...(opts.ca === undefined ? {} : { ca: opts.ca })
  })
  let rid = 0
  /** Twin requests waiting for their answer on $iothub/twin/res, by $rid. */
  const pending = new Map<string, { resolve: (status: number, version: number, payload: Buffer) => void; reject: (e: Error) => void }>()
  let closed = false
  let renewTimer: NodeJS.Timeout | null = null
  const inflight = new Set<(e: Error) => void>()
  const failAll = (reason: string): void => {
    for (const p of pending.values()) p.reject(new Error(reason))
    pending.clear()
    for (const rej of inflight) rej(new Error(reason))
    inflight.clear()
  }
  /** A twin request (A.7): publish on `{topic}/?$rid=`, settle with the answer on $iothub/twin/res. */
  const twinRequest = (topic: string, body: string, what: string): Promise<{ status: number; version: number; payload: Buffer }> => new Promise((res, rej) => {
    if (closed) { rej(new Error('device link closed')); return }
    const id = String(++rid)
    // No answer in 10 s: fail (the caller keeps the device dirty and retries).
    const timer = setTimeout(() => { if (pending.delete(id)) rej(new Error(`no answer to the ${what} within 10 s`)) }, 10_000)
    timer.unref?.()
    pending.set(id, { resolve: (status, version, payload) => { clearTimeout(timer); res({ status, version, payload }) }, reject: (e) => { clearTimeout(timer); rej(e) } })
    client.publish(`${topic}/?$rid=${id}`, body, { qos: 0 }, (e) => {
      if (e) { pending.delete(id); clearTimeout(timer); rej(e) }
    })
  })
  return new Promise<DeviceLink>((resolve, reject) => {
    let opened = false
    // Whatever stalls (TCP, TLS, CONNACK, SUBACK), an open settles within 10 s.
    const openTimer = setTimeout(() => { if (!opened) { client.end(true); onClose('device link open timed out') } }, 10_000)
    openTimer.unref?.()
    const onClose = (reason: string): void => {
      if (renewTimer !== null) clearTimeout(renewTimer)
      failAll(reason)
      if (!opened) { reject(new Error(reason)); return }
      if (!closed) { closed = true; opts.onClose(linkKey, reason) }
    }
    client.on('error', (err) => { onClose(err.message); client.end(true) })
    client.on('close', () => { onClose('connection closed'); if (!client.disconnecting) client.end(true) })
    client.on('message', (topic, payload) => {
      if (topic.startsWith('$iothub/twin/res/')) {
        const m = /^\$iothub\/twin\/res\/(\d+)\/\?(.*)$/.exec(topic)
        if (m === null) return
        const params = new URLSearchParams(m[2])
        const id = params.get('$rid') ?? ''
        const p = pending.get(id)
        if (p === undefined) return
        pending.delete(id)
        p.resolve(Number(m[1]), Number(params.get('$version') ?? '0'), payload)
      } else if (topic.startsWith('$iothub/twin/PATCH/properties/desired/')) {
        opts.onDesired(linkKey)
      } else if (topic.startsWith('$iothub/methods/POST/')) {
        const m = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic)
        if (m !== null) opts.onMethod?.(linkKey, decodeURIComponent(m[1] as string), m[2] as string, payload)
      }
    })
    client.once('connect', () => {
      client.subscribe(['$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#', ...(opts.subscribeMethods === true ? ['$iothub/methods/POST/#'] : [])], { qos: 0 }, (err) => {
        if (err) { client.end(true); reject(err); return }
        opened = true
        clearTimeout(openTimer)
        // SAS renewal: reconnect with a fresh token before this one expires (the hub drops the session then).
        renewTimer = setTimeout(() => { if (opts.onRenewDue === undefined) client.end(true); else opts.onRenewDue(linkKey) }, ttl * 800)
        renewTimer.unref?.()
        resolve({
          deviceId: opts.deviceId,
          connected: () => !closed && client.connected,
          publish: (bag, body) => new Promise<void>((res, rej) => {
            if (closed) { rej(new Error('device link closed')); return }
            inflight.add(rej)
            client.publish(mod === undefined ? `devices/${opts.deviceId}/messages/events/${bag}` : `devices/${opts.deviceId}/modules/${mod}/messages/events/${bag}`, body, { qos: 1 }, (e) => {
              if (!inflight.delete(rej)) return
              if (e) rej(e); else res()
            })
          }),
          patchReported: async (patch) => {
            const { status, version, payload } = await twinRequest('$iothub/twin/PATCH/properties/reported', JSON.stringify(patch), 'reported patch')
            if (status < 200 || status >= 300) throw new Error(`reported patch refused: ${status} ${payload.toString('utf8')}`)
            return version
          },
          getTwin: async () => {
            const { status, payload } = await twinRequest('$iothub/twin/GET', '', 'twin GET')
            if (status !== 200) throw new Error(`twin GET refused: ${status} ${payload.toString('utf8')}`)
            const doc = JSON.parse(payload.toString('utf8')) as { desired?: JsonObject; reported?: JsonObject }
            return { desired: doc.desired ?? {}, reported: doc.reported ?? {} }
          },
          setMethods: (on) => new Promise<void>((res, rej) => {
            const cb = (e?: Error | null): void => { if (e) rej(e); else res() }
            if (on) client.subscribe('$iothub/methods/POST/#', { qos: 0 }, (e) => cb(e))
            else client.unsubscribe('$iothub/methods/POST/#', (e) => cb(e as Error | undefined))
          }),
          respondMethod: (id, status, payloadJson) => {
            client.publish(`$iothub/methods/res/${status}/?$rid=${id}`, payloadJson, { qos: 0 })
          },
          close: () => new Promise<void>((res) => {
            closed = true
            if (renewTimer !== null) clearTimeout(renewTimer)
            failAll('closed')
            client.end(true, {}, () => res())
          })
        })
      })
    })
  })
}
