// The published Azure IoT device SDK (CommonJS) for ESM tests, plus connection-string and SAS helpers.
import { createRequire } from 'node:module'
import type { Defer } from './hub.js'

const require = createRequire(import.meta.url)
export const deviceSdk = require('azure-iot-device') as typeof import('azure-iot-device')
export const deviceMqtt = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt')
export const common = require('azure-iot-common') as typeof import('azure-iot-common')

export type DeviceClient = import('azure-iot-device').Client
export type Twin = import('azure-iot-device').Twin

export interface ParsedConnectionString {
  HostName: string
  DeviceId: string
  SharedAccessKey?: string
  [key: string]: string | undefined
}

export function parseConnectionString (cs: string): ParsedConnectionString {
  const out: Record<string, string> = {}
  for (const part of cs.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1)
  }
  if (out['HostName'] === undefined || out['DeviceId'] === undefined) throw new Error(`not a device connection string: ${cs}`)
  return out as ParsedConnectionString
}

/** A device SAS token made by the published SDK (`sr` = urlencode(host/devices/id)). */
export function deviceSasToken (host: string, deviceId: string, key: string, ttlSeconds = 3600): string {
  const expiry = Math.floor(Date.now() / 1000) + ttlSeconds
  return deviceSdk.SharedAccessSignature.create(host, deviceId, key, String(expiry)).toString()
}

export interface OpenClientOptions {
  ca: string | Buffer
  transport?: 'mqtt' | 'ws'
  cert?: string
  key?: string
  defer: Defer
  /** Do not call open() (the caller wants to observe it). */
  noOpen?: boolean
}

/** Creates an SDK client (MQTT or MQTT over WebSocket), trusts the hub CA, registers close(), opens it. */
export async function openClient (cs: string, opts: OpenClientOptions): Promise<DeviceClient> {
  const Transport = opts.transport === 'ws' ? deviceMqtt.MqttWs : deviceMqtt.Mqtt
  const client = deviceSdk.Client.fromConnectionString(cs, Transport)
  const options: Record<string, unknown> = { ca: opts.ca }
  if (opts.cert !== undefined) options['cert'] = opts.cert
  if (opts.key !== undefined) options['key'] = opts.key
  await client.setOptions(options as never)
  // An SDK client left open keeps retrying forever; close it whatever the test did.
  opts.defer(async () => {
    client.removeAllListeners()
    client.on('error', () => {})
    await Promise.race([client.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))])
  })
  client.on('error', () => {})
  if (opts.noOpen !== true) await client.open()
  return client
}

export function message (body: string | Buffer, props: Record<string, string> = {}): import('azure-iot-device').Message {
  const m = new deviceSdk.Message(body)
  for (const [k, v] of Object.entries(props)) m.properties.add(k, v)
  return m
}
