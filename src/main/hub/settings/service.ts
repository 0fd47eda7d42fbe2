// hub.settings: the hub's own operating settings (alert thresholds, store quota, the UI's
// default theme), persisted in the store (collection 'settings', id 'hub') and validated here.
// Changes are durable when update() resolves and are announced as a 'settings.changed' event,
// so every UI shows them at once. Also measures the data dir for the store-usage alert.
import { argumentInvalid } from '../errors.js'
import type { HubEventBus } from '../events.js'
import type { HubStore } from '../store/types.js'
import type { Clock, JsonObject } from '../types.js'
import { measureDataDir, type DataDirUsage } from './usage.js'

export type ThemeSetting = 'system' | 'light' | 'dark'

export interface HubSettings {
  /** Enabled devices offline longer than this are listed as alerts (minutes, 1..10080). */
  offlineMinutes: number
  /** The store-filling-up alert fires at this percent of the limit (1..100). */
  storeWarnPercent: number
  /** Bytes the data dir may use; null = the disk (what it uses now plus the free space). */
  storeQuotaBytes: number | null
  /** The UI's theme for every browser and window ('system' follows the OS). */
  theme: ThemeSetting
  /** Last change (ISO), null while all are defaults. */
  updatedAt: string | null
}

export const DEFAULT_SETTINGS: HubSettings = { offlineMinutes: 15, storeWarnPercent: 80, storeQuotaBytes: null, theme: 'system', updatedAt: null }

export interface StoreUsage extends DataDirUsage {
  /** The quota, or used + free disk when no quota is set. */
  limitBytes: number
  quotaBytes: number | null
  /** usedBytes of limitBytes, 0..100+ (above 100 when over the quota). */
  percent: number
  warnPercent: number
  measuredAt: string
}

export interface TelemetryRetention { maxBytes: number; maxAgeMs: number }

export interface SettingsService {
  get(): HubSettings
  /** Validates every field first (nothing is written if one is bad), then stores durably and emits settings.changed. */
  update(changes: Partial<Omit<HubSettings, 'updatedAt'>>): Promise<HubSettings>
  /** Whole data dir usage against the quota; measured at most every `maxAgeMs` (default 5 s). */
  storeUsage(opts?: { maxAgeMs?: number }): Promise<StoreUsage>
  /** The telemetry log's retention as the hub was started with. */
  readonly retention: TelemetryRetention
}

export interface SettingsDeps {
  store: HubStore
  events: HubEventBus
  clock: Clock
  dataDir: string
  retention: TelemetryRetention
}

const THEMES: readonly ThemeSetting[] = ['system', 'light', 'dark']
const MIN_QUOTA = 16 * 1024 * 1024
const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi

export function createSettingsService (deps: SettingsDeps): SettingsService {
  const { store, events, clock } = deps
  const stored = (store.get('settings', 'hub') ?? {}) as Partial<HubSettings>
  // Unknown or invalid stored fields (an older or newer hub) fall back to the defaults.
  let current: HubSettings = {
    offlineMinutes: isInt(stored.offlineMinutes, 1, 10_080) ? stored.offlineMinutes : DEFAULT_SETTINGS.offlineMinutes,
    storeWarnPercent: isInt(stored.storeWarnPercent, 1, 100) ? stored.storeWarnPercent : DEFAULT_SETTINGS.storeWarnPercent,
    storeQuotaBytes: isInt(stored.storeQuotaBytes, MIN_QUOTA, Number.MAX_SAFE_INTEGER) ? stored.storeQuotaBytes : null,
    theme: THEMES.includes(stored.theme as ThemeSetting) ? stored.theme as ThemeSetting : DEFAULT_SETTINGS.theme,
    updatedAt: typeof stored.updatedAt === 'string' ? stored.updatedAt : null
  }
  let cached: { at: number; usage: DataDirUsage } | null = null
  let measuring: Promise<DataDirUsage> | null = null
  // Updates run one at a time: each validates against and writes over the one before.
  let chain: Promise<unknown> = Promise.resolve()

  function check (changes: Record<string, unknown>): Partial<HubSettings> {
    const out: Partial<HubSettings> = {}
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) continue
      switch (k) {
        case 'offlineMinutes':
          if (!isInt(v, 1, 10_080)) throw argumentInvalid('offlineMinutes must be a whole number of minutes from 1 to 10080 (a week)')
          out.offlineMinutes = v; break
        case 'storeWarnPercent':
          if (!isInt(v, 1, 100)) throw argumentInvalid('storeWarnPercent must be a whole number from 1 to 100')
          out.storeWarnPercent = v; break
        case 'storeQuotaBytes':
          if (v !== null && !isInt(v, MIN_QUOTA, Number.MAX_SAFE_INTEGER)) throw argumentInvalid(`storeQuotaBytes must be at least ${MIN_QUOTA} bytes (16 MB), or null for the whole disk`)
          out.storeQuotaBytes = v; break
        case 'theme':
          if (!THEMES.includes(v as ThemeSetting)) throw argumentInvalid(`theme must be one of ${THEMES.join(', ')}`)
          out.theme = v as ThemeSetting; break
        default:
          throw argumentInvalid(`${k} is not a hub setting`)
      }
    }
    return out
  }

  async function measure (maxAgeMs: number): Promise<DataDirUsage> {
    const now = clock.now()
    if (cached !== null && now - cached.at < maxAgeMs) return cached.usage
    measuring ??= measureDataDir(deps.dataDir).then((usage) => { cached = { at: clock.now(), usage }; return usage }).finally(() => { measuring = null })
    return await measuring
  }

  return {
    get: () => ({ ...current }),
    async update (changes) {
      const run = async (): Promise<HubSettings> => {
        const valid = check(changes as Record<string, unknown>)
        const next: HubSettings = { ...current, ...valid, updatedAt: new Date(clock.now()).toISOString() }
        await store.put('settings', 'hub', next as unknown as JsonObject)
        current = next
        events.emit('settings.changed', { settings: { ...next } })
        return { ...next }
      }
      const p = chain.then(run, run)
      chain = p.catch(() => {})
      return await p
    },
    async storeUsage (opts = {}) {
      const u = await measure(opts.maxAgeMs ?? 5000)
      const s = current
      const limitBytes = s.storeQuotaBytes ?? (u.diskFreeBytes === null ? Math.max(u.usedBytes, 1) : u.usedBytes + u.diskFreeBytes)
      return {
        ...u,
        parts: { ...u.parts },
        limitBytes,
        quotaBytes: s.storeQuotaBytes,
        percent: limitBytes > 0 ? Math.round((u.usedBytes / limitBytes) * 1000) / 10 : 0,
        warnPercent: s.storeWarnPercent,
        measuredAt: new Date(cached?.at ?? clock.now()).toISOString()
      }
    },
    retention: { ...deps.retention }
  }
}
