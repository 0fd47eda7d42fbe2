// createHub: builds the headless core from a data dir. No network listeners here (see server.ts),
// no module singletons, never imports electron.
import { join } from 'node:path'
import { createC2dService } from './c2d/c2d.js'
import { createCommandService } from './commands/service.js'
import { createConfigurationService } from './configurations/service.js'
import type { ConfigurationOptions } from './configurations/types.js'
import { createConnectionManager } from './connections.js'
import { createEventBus } from './events.js'
import { createFirmwareLibrary } from './firmware/library.js'
import { createReportService } from './reports/index.js'
import { silentLogger } from './logger.js'
import { createMethodService } from './methods/methods.js'
import { createRegistry } from './registry/registry.js'
import { identityKey } from './registry/ids.js'
import { createIoJobService } from './registry/io-jobs.js'
import { createJobService, type JobServiceOptions } from './jobs/service.js'
import { createScheduler, type Scheduler } from './jobs/scheduler.js'
import { createQueryService } from './query/twin-query.js'
import { createSerialService } from './serial/service.js'
import { createSettingsService } from './settings/service.js'
import type { Hub, HubConfig } from './services.js'
import { openStore } from './store/index.js'
import type { HubStore } from './store/types.js'
import { DEFAULT_RETENTION } from './telemetry/log.js'
import { createTelemetryService } from './telemetry/service.js'
import { withTelemetryDedupe } from './sync/dedupe.js'
import { createSyncService, type SyncOptions } from './sync/service.js'
import { createCloudDelegation } from './sync/cloud-delegation.js'
import { createTwinService } from './twins/twin-service.js'
import type { Clock, Logger } from './types.js'

export type { Hub, HubConfig } from './services.js'

export interface CreateHubOptions {
  config: HubConfig
  logger?: Logger
  clock?: Clock
  /** Disable fsync only in benchmarks that measure something else. Default true. */
  fsync?: boolean
  /** Inject a store (tests); by default the durable store in DIR/store. */
  store?: HubStore
  telemetry?: { maxBytes?: number; maxAgeMs?: number }
  /** Offline command queue: TTL sweep period (0 = tests call hub.commands.sweep()). */
  commands?: { sweepIntervalMs?: number; connectGraceMs?: number; delegatedOutcomeWaitSeconds?: number }
  /** Automatic configurations: run period, debounce, limit. */
  configurations?: ConfigurationOptions
  /** Jobs v2 limits and time source (tests inject a fake scheduler). */
  jobs?: JobServiceOptions & { scheduler?: Scheduler }
  /** Upstream sync timings (heartbeat, backoff, TTL); the upstream itself is in the store (hub.sync.configure). */
  sync?: SyncOptions
}

const ACTIVITY_FLUSH_MS = 30_000

export async function createHub (opts: CreateHubOptions): Promise<Hub> {
  const { config } = opts
  const logger = opts.logger ?? silentLogger
  const clock = opts.clock ?? { now: () => Date.now() }
  const fsync = opts.fsync ?? true
  const store = opts.store ?? await openStore({ dir: config.dataDir, fsync, logger })
  for (const problem of store.recovery.problems) logger.warn('store recovery', { problem })
  const events = createEventBus()

  // The change feed must never reuse a number, even after a crash that lost the meta write:
  // start above every sequence number a twin carries.
  let changeSeq = Number(store.get('meta', 'changeFeed')?.['seq'] ?? 0)
  for (const [, twin] of store.entries('twins')) if (twin.changeSeq > changeSeq) changeSeq = twin.changeSeq
  const openedAtSeq = changeSeq
  const nextChangeSeq = (): number => ++changeSeq

  let c2dPump: ((identity: { deviceId: string; moduleId?: string }) => void) | undefined
  const connections = createConnectionManager({
    store, events, clock, logger,
    onSubscribed: (identity, feature) => { if (feature === 'c2d') c2dPump?.(identity) }
  })
  // The registry and the twin service need each other (the twin renders identity fields,
  // the registry creates twins): break the cycle with late binding.
  let twinsRef: ReturnType<typeof createTwinService> | undefined
  const extraHostNames = config.bind !== '0.0.0.0' && config.bind !== '::' ? [config.bind] : []
  const registry = createRegistry({
    store, events, clock,
    hostName: () => config.hostName,
    extraHostNames: () => extraHostNames,
    connections: () => connections,
    newTwin: (identity) => {
      if (!twinsRef) throw new Error('twin service not ready')
      return twinsRef.initRecord(identity)
    }
  })
  const twins = createTwinService({ store, events, clock, registry, connections, nextChangeSeq })
  twinsRef = twins
  await registry.ensureDefaults()

  const exists = (identity: { deviceId: string; moduleId?: string }): boolean => store.has('devices', identityKey(identity))
  const methods = createMethodService({ connections, events, exists })
  const c2d = createC2dService({ store, connections, events, clock, logger, exists })
  c2dPump = c2d.pump
  // Messages forwarded by an edge carry `sitehub-origin`; a resend of one is acknowledged, not stored twice (sync/dedupe.ts).
  const telemetry = await withTelemetryDedupe(await createTelemetryService({
    dir: join(config.dataDir, 'telemetry'), fsync, clock, logger, events, ...opts.telemetry
  }), { window: config.role === 'cloud' ? 200_000 : 10_000 })

  const query = createQueryService({ twins, events, exists: (key) => store.has('devices', key) })
  const serial = createSerialService({ store, clock, logger, dataDir: config.dataDir })
  const ioJobs = createIoJobService({ store, registry, twins, clock, logger })
  await ioJobs.resume()
  // Devices of an edge that takes over its devices' jobs and queued commands are left to it (docs/sync.md).
  const delegation = createCloudDelegation({ store, registry, clock })
  const jobs = createJobService({
    store, twins, methods, connections, events, query, logger, delegation, ...opts.jobs,
    scheduler: opts.jobs?.scheduler ?? createScheduler({ clock })
  })
  await jobs.resume()
  const firmware = await createFirmwareLibrary({
    dir: join(config.dataDir, 'firmware'), store, clock, logger, fsync, query, events,
    baseUrl: () => `https://${config.hostName.includes(':') ? `[${config.hostName}]` : config.hostName}${config.httpsPort === 443 ? '' : `:${config.httpsPort}`}`
  })
  const reports = createReportService({ query, clock })
  const settings = createSettingsService({
    store, events, clock, dataDir: config.dataDir,
    retention: { maxBytes: opts.telemetry?.maxBytes ?? DEFAULT_RETENTION.maxBytes, maxAgeMs: opts.telemetry?.maxAgeMs ?? DEFAULT_RETENTION.maxAgeMs }
  })
  const commands = createCommandService({ store, events, clock, logger, methods, connections, exists, delegation, ...opts.commands })
  const configurations = createConfigurationService({ store, events, clock, logger, twins, query, ...(opts.configurations === undefined ? {} : { options: opts.configurations }) })

  const sync = createSyncService({ store, events, registry, twins, telemetry, methods, connections, jobs, commands, clock, logger, hostName: () => config.hostName, ...(opts.sync === undefined ? {} : { options: opts.sync }) })
  sync.start()

  const flushTimer = setInterval(() => {
    registry.flushActivity().catch((err: Error) => logger.warn('activity flush failed', { error: err.message }))
  }, ACTIVITY_FLUSH_MS)
  flushTimer.unref()

  let closed = false
  return {
    config, store, events, registry, twins, methods, telemetry, c2d, connections, ioJobs, jobs, query, serial, logger, clock,
    firmware, reports, commands, configurations, sync, delegation, settings,
    async close () {
      if (closed) return
      closed = true
      clearInterval(flushTimer)
      await sync.close()
      await commands.close()
      await configurations.close()
      jobs.close()
      connections.closeAll('hub shutting down')
      await registry.flushActivity()
      // Writing only when something changed keeps an idle stop from rewriting the snapshot.
      if (changeSeq !== openedAtSeq) await store.put('meta', 'changeFeed', { seq: changeSeq })
      await telemetry.close()
      await store.close()
    }
  }
}
