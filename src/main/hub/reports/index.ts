// hub.reports: the ready-made queries (catalogue.ts), run through the hub's query service.
import type { QueryService } from '../query/twin-query.js'
import type { Clock, JsonValue } from '../types.js'
import { REPORTS, type ReportDefinition } from './catalogue.js'

export type { ReportDefinition } from './catalogue.js'

export interface ReportResult {
  name: string
  title: string
  kind: ReportDefinition['kind']
  query: string
  generatedAt: string
  rows: JsonValue[]
}

export interface ReportService {
  list(): ReportDefinition[]
  get(name: string): ReportDefinition | undefined
  /** Runs a report; throws ReportNotFoundError for an unknown name. */
  run(name: string): ReportResult
}

export class ReportNotFoundError extends Error {
  readonly status = 404
  readonly errorName = 'ReportNotFound'
}

export function createReportService (deps: { query: Pick<QueryService, 'run'>; clock: Clock }): ReportService {
  const byName = new Map(REPORTS.map((r) => [r.name, r]))
  return {
    list: () => [...REPORTS],
    get: (name) => byName.get(name),
    run (name) {
      const def = byName.get(name)
      if (def === undefined) throw new ReportNotFoundError(`There is no report '${name}' (one of ${REPORTS.map((r) => r.name).join(', ')}).`)
      const rows = deps.query.run(def.query)
      return { name: def.name, title: def.title, kind: def.kind, query: def.query, generatedAt: new Date(deps.clock.now()).toISOString(), rows }
    }
  }
}
