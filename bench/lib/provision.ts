// Fast provisioning of bench devices into a data dir BEFORE the hub child starts: the hub core
// in-process (createHub, no listeners) with fsync OFF (provisioning speed is not what we measure;
// the measured hub child runs with its default, fsync on), registry.create in concurrent batches.
import { log, round } from './common.js'
import { benchKey } from './sas.js'

export interface ProvisionOptions {
  dataDir: string
  deviceIds: readonly string[]
  hostName?: string
  /** Also give each twin tags and a few reported properties (memory benchmark). */
  smallTwin?: boolean
  batch?: number
}

export async function provision (opts: ProvisionOptions): Promise<{ ms: number; perSecond: number }> {
  const t0 = performance.now()
  // Imported lazily: a bench that fails to load the hub still reports what it could measure.
  const { createHub } = await import('../../src/main/hub/index.js')
  const hub = await createHub({
    config: { dataDir: opts.dataDir, hostName: opts.hostName ?? 'localhost', bind: '127.0.0.1', mqttsPort: 0, httpsPort: 0, mqttPort: null, role: 'edge' },
    fsync: false
  })
  const batch = opts.batch ?? 500
  const ids = opts.deviceIds
  try {
    for (let i = 0; i < ids.length; i += batch) {
      const slice = ids.slice(i, i + batch)
      await Promise.all(slice.map(async (deviceId, j) => {
        await hub.registry.create({ deviceId, authentication: { symmetricKey: { primaryKey: benchKey(deviceId), secondaryKey: benchKey(deviceId, 'secondary') } } })
        if (opts.smallTwin) {
          const n = i + j
          await hub.twins.patchTags({ deviceId }, { site: 'plant-1', line: `line-${n % 20}`, building: n % 3 === 0 ? 'north' : 'south' })
          await hub.twins.patchReported({ deviceId }, { firmware: '1.4.2', temperature: 20 + (n % 10), status: 'running', lastBoot: '2024-05-01T08:00:00Z' })
        }
      }))
      if ((i / batch) % 20 === 19) log(`provisioned ${i + slice.length}/${ids.length}`)
    }
  } finally {
    await hub.close()
  }
  const ms = performance.now() - t0
  log(`provisioned ${ids.length} devices${opts.smallTwin ? ' (with tags + reported)' : ''} in ${Math.round(ms)} ms`)
  return { ms: round(ms, 0), perSecond: round(ids.length / (ms / 1000), 0) }
}
