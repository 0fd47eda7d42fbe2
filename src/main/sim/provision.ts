// Device identities for a simulated fleet: created if missing, then their connection strings.
// Either through the admin socket of a hub running on a data dir (no credentials needed, the
// socket is owner-only), or through the service REST API of any IoT Hub-dialect hub with a
// service connection string (azure-iothub Registry).
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createAdminClient } from '../hub/admin/client.js'
import { isHubError } from '../hub/errors.js'

export interface ProvisionedFleet {
  connectionStrings: string[]
  /** The hub CA (PEM) when known (from the data dir); undefined means the system trust store. */
  ca?: string
  /** Devices created by this call (the rest already existed). */
  created: number
}

export const fleetIds = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`)

async function inBatches<T> (items: string[], size: number, fn: (id: string) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < items.length; i += size) out.push(...await Promise.all(items.slice(i, i + size).map(fn)))
  return out
}

/** Through the admin socket of the hub running on `dataDir` (HubNotRunningError when none is). */
export async function provisionViaAdmin (dataDir: string, ids: string[]): Promise<ProvisionedFleet> {
  const admin = await createAdminClient(dataDir)
  try {
    const status = await admin.call('hub.status', {})
    let created = 0
    const connectionStrings = await inBatches(ids, 50, async (deviceId) => {
      try {
        await admin.call('registry.get', { deviceId })
      } catch (err) {
        if (!isHubError(err) || err.errorName !== 'DeviceNotFound') throw err
        await admin.call('registry.create', { deviceId })
        created++
      }
      const cs = await admin.call('registry.deviceConnectionString', { deviceId })
      // The SDK's MQTT transport connects to 8883 unless HostName carries a port (protocol 0).
      return status.ports.mqtts === 8883 ? cs : cs.replace(/HostName=([^;:]+)/, `HostName=$1:${status.ports.mqtts}`)
    })
    const ca = await readFile(join(dataDir, 'tls', 'ca.pem'), 'utf8').catch(() => undefined)
    return { connectionStrings, created, ...(ca === undefined ? {} : { ca }) }
  } finally {
    await admin.close()
  }
}

interface RegistryLike {
  get(id: string): Promise<{ responseBody: { authentication?: { symmetricKey?: { primaryKey?: string } } } }>
  create(device: { deviceId: string }): Promise<{ responseBody: { authentication?: { symmetricKey?: { primaryKey?: string } } } }>
}

/** Through the service API (azure-iothub) with a connection string carrying RegistryRead and RegistryWrite. */
export async function provisionViaService (serviceConnectionString: string, ids: string[], ca?: string): Promise<ProvisionedFleet> {
  const host = /HostName=([^;]+)/.exec(serviceConnectionString)?.[1]
  if (host === undefined || !/SharedAccessKeyName=/.test(serviceConnectionString)) {
    throw new Error('the connection string must be a service one: HostName=...;SharedAccessKeyName=...;SharedAccessKey=...')
  }
  const require = createRequire(import.meta.url)
  const { Registry } = require('azure-iothub') as typeof import('azure-iothub')
  const registry = Registry.fromConnectionString(serviceConnectionString) as unknown as RegistryLike
  let created = 0
  const connectionStrings = await inBatches(ids, 20, async (deviceId) => {
    let res
    try {
      res = await registry.get(deviceId)
    } catch (err) {
      if ((err as { responseBody?: string; response?: { statusCode?: number } }).response?.statusCode !== 404) throw err
      res = await registry.create({ deviceId })
      created++
    }
    const key = res.responseBody.authentication?.symmetricKey?.primaryKey
    if (key === undefined || key === null) throw new Error(`device ${deviceId} has no symmetric key (X.509 devices cannot be simulated)`)
    return `HostName=${host};DeviceId=${deviceId};SharedAccessKey=${key}`
  })
  return { connectionStrings, created, ...(ca === undefined ? {} : { ca }) }
}
