// Automatic device configurations (protocol C.7, F; docs/configurations.md).
import type { JsonValue } from '../types.js'

export interface ConfigurationContent {
  /** Twin paths (`properties.desired...`) to values for device twins; null removes. */
  deviceContent?: Record<string, JsonValue>
  /** The same for module twins (target condition `FROM devices.modules WHERE ...`). */
  moduleContent?: Record<string, JsonValue>
  /** IoT Edge deployments: stored and returned, not applied by Sitehub. */
  modulesContent?: Record<string, JsonValue>
}

/** A configuration as stored. Metric results are derived (kept in memory, recomputed on every run). */
export interface StoredConfiguration {
  id: string
  schemaVersion: string
  labels: Record<string, string>
  content: ConfigurationContent
  targetCondition: string
  createdTimeUtc: string
  lastUpdatedTimeUtc: string
  priority: number
  metrics: { queries: Record<string, string> }
  etagCounter: number
}

/** What the service REST API returns (swagger Configuration). */
export interface Configuration {
  id: string
  schemaVersion: string
  labels: Record<string, string>
  content: ConfigurationContent
  targetCondition: string
  createdTimeUtc: string
  lastUpdatedTimeUtc: string
  priority: number
  systemMetrics: { results: { targetedCount: number; appliedCount: number }; queries: { targetedCount: string; appliedCount: string } }
  metrics: { results: Record<string, number>; queries: Record<string, string> }
  etag: string
}

/** Per twin: which configuration owns which desired path (dotted, below properties.desired). */
export interface ConfigurationTwinState {
  owners: Record<string, string>
}

export interface ConfigurationTestResult {
  targetConditionError: string
  customMetricQueryErrors: Record<string, string>
}

export interface ConfigurationService {
  /** PUT /configurations/{id}: create (no If-Match) or update (If-Match etag or '*'). */
  put(id: string, body: unknown, ifMatch?: string): Promise<{ configuration: Configuration; created: boolean }>
  get(id: string): Configuration | undefined
  /** Throws ConfigurationNotFound (404301). */
  mustGet(id: string): Configuration
  /** Oldest first; `top` caps the count. */
  list(top?: number): Configuration[]
  /** DELETE /configurations/{id}; its settings fall back to the next configuration or are removed. */
  remove(id: string, ifMatch?: string): Promise<void>
  /** POST /configurations/testQueries. */
  testQueries(body: unknown): ConfigurationTestResult
  /** Re-evaluate every twin and every metric now; resolves when done. */
  evaluate(): Promise<void>
  /** Resolves once no evaluation is scheduled or running (tests, UI refresh). */
  idle(): Promise<void>
  close(): Promise<void>
}

export interface ConfigurationOptions {
  /** Full re-evaluation period (F: the cloud runs every five minutes). Default 300,000 ms; 0 disables. */
  intervalMs?: number
  /** Changes are batched for this long before a run. Default 200 ms. */
  debounceMs?: number
  /** Most configurations a hub holds (413101). Default 100. */
  maxConfigurations?: number
}
