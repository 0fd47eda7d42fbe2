// Public API of the query language engine (protocol D, C.4). See docs/query.md.
export type { Collection, Condition, Expr, Query, SelectItem } from './ast.js'
export { createIndexedCollection, defaultAutoIndex, type IndexedCollection, type IndexedCollectionOptions, type RowRef } from './collection.js'
export {
  compileCondition, createQueryEngine,
  type DeviceJobRecord, type QueryEngine, type QueryEngineDeps, type QueryItemType, type QueryOptions, type QueryPage, type RowSource
} from './engine.js'
export { MAX_NESTING, MAX_QUERY_LENGTH, QueryError, type QueryPosition } from './errors.js'
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './page.js'
export { parseCondition, parseQuery } from './parse.js'
