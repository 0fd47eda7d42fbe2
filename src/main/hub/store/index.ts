// The store module's public surface: the durable store for the hub, the memory store for tests.
export { openStore } from './durable-store.js'
export type { DurableHubStore, DurableStoreStats, OpenStoreOptions } from './durable-store.js'
export { createMemoryStore } from './memory-store.js'
export { SCHEMA_VERSION, migrateSnapshot } from './migrations.js'
export type * from './types.js'
