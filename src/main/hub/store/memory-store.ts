// In-memory HubStore for unit tests. Same contract, no durability.
import { COLLECTIONS } from './migrations.js'
import type { CollectionName, Collections, HubStore, StoreOp, StoreStats } from './types.js'

const NAMES = COLLECTIONS

export function createMemoryStore (): HubStore {
  const maps = new Map<CollectionName, Map<string, unknown>>(NAMES.map((n) => [n, new Map()]))
  const map = (c: CollectionName): Map<string, unknown> => maps.get(c) as Map<string, unknown>
  let commits = 0
  const apply = (op: StoreOp): void => {
    if (op.op === 'put') map(op.c).set(op.id, op.doc)
    else map(op.c).delete(op.id)
  }
  return {
    get: <C extends CollectionName>(c: C, id: string) => map(c).get(id) as Collections[C] | undefined,
    has: (c, id) => map(c).has(id),
    entries: <C extends CollectionName>(c: C) => map(c).entries() as IterableIterator<[string, Collections[C]]>,
    size: (c) => map(c).size,
    put: async (c, id, doc) => { map(c).set(id, doc); commits++ },
    del: async (c, id) => { map(c).delete(id); commits++ },
    batch: async (ops) => { ops.forEach(apply); commits++ },
    flush: async () => {},
    recovery: { fromSchemaVersion: 0, schemaVersion: 1, replayed: 0, droppedBytes: 0, problems: [] },
    stats: (): StoreStats => ({
      journalBytes: 0,
      snapshotBytes: 0,
      commits,
      compactions: 0,
      docs: Object.fromEntries(NAMES.map((n) => [n, map(n).size])) as Record<CollectionName, number>
    }),
    close: async () => {}
  }
}
