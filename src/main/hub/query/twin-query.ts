// The hub's query service: one QueryEngine over an IndexedCollection of rendered twins, kept
// current from the event stream. Changes only mark ids dirty (cheap on the telemetry and
// reported-patch hot paths); the collection is brought up to date before each query, and is
// built on first use so that start-up with 100,000 devices does not render every twin.
import type { HubEventBus } from '../events.js'
import type { TwinService } from '../services.js'
import type { TwinDocument } from '../types.js'
import { identityKey, parseIdentityKey } from '../registry/ids.js'
import { createIndexedCollection, type IndexedCollection } from './collection.js'
import { createQueryEngine, type QueryEngine, type RowSource } from './engine.js'

export interface QueryService extends QueryEngine {
  /** Row source for `devices.jobs`, set by the jobs service when it exists. */
  setJobSource(source: RowSource<object>): void
}

export function createQueryService (deps: { twins: TwinService; events: HubEventBus; exists: (key: string) => boolean }): QueryService {
  let rows: IndexedCollection<TwinDocument> | undefined
  const dirty = new Set<string>()
  let jobs: RowSource<object> = () => []

  const mark = (e: { deviceId: string; moduleId?: string }): void => { if (rows) dirty.add(identityKey(e)) }
  for (const ev of ['device.created', 'device.updated', 'device.deleted', 'device.connected', 'device.disconnected',
    'twin.reportedChanged', 'twin.desiredChanged', 'twin.tagsChanged', 'twin.configurationsChanged'] as const) {
    deps.events.on(ev, mark)
  }

  function sync (): IndexedCollection<TwinDocument> {
    if (!rows) {
      rows = createIndexedCollection<TwinDocument>()
      for (const twin of deps.twins.all()) rows.upsert(identityKey(twin), twin)
      dirty.clear()
      return rows
    }
    for (const key of dirty) {
      if (deps.exists(key)) rows.upsert(key, deps.twins.get(parseIdentityKey(key)))
      else rows.remove(key)
    }
    dirty.clear()
    return rows
  }

  // The engine takes its row sources once (and caches compiled queries): rebuild it only when
  // a source object changes, and sync the rows before every call.
  let cached: { engine: QueryEngine; rows: IndexedCollection<TwinDocument>; jobs: RowSource<object> } | undefined
  const current = (): QueryEngine => {
    const r = sync()
    if (!cached || cached.rows !== r || cached.jobs !== jobs) cached = { engine: createQueryEngine({ twins: r, jobs }), rows: r, jobs }
    return cached.engine
  }

  return {
    query: (text, options) => current().query(text, options),
    run: (text) => current().run(text),
    count: (text) => current().count(text),
    select: (condition) => current().select(condition),
    itemType: (text) => current().itemType(text),
    setJobSource (source) { jobs = source }
  }
}
