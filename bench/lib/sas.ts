// Device SAS tokens (protocol A.3) and deterministic bench device keys.
import { createHash, createHmac } from 'node:crypto'

/** A stable per-device key, so provisioning and load generation need not share state. */
export function benchKey (deviceId: string, which: 'primary' | 'secondary' = 'primary'): string {
  return createHash('sha256').update(`sitehub-bench/${which}/${deviceId}`).digest('base64')
}

export function deviceSas (host: string, deviceId: string, key: string, ttlSeconds = 3600): string {
  const se = Math.floor(Date.now() / 1000) + ttlSeconds
  const sr = encodeURIComponent(`${host}/devices/${deviceId}`)
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64')
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`
}

/** mqtt.js CONNECT options for a device (A.2), plain or TLS. */
export function deviceConnectOptions (host: string, deviceId: string, key: string): { clientId: string; username: string; password: string } {
  return {
    clientId: deviceId,
    username: `${host}/${deviceId}/?api-version=2021-04-12`,
    password: deviceSas(host, deviceId, key)
  }
}
