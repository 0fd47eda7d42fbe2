// Automatic device configurations (protocol C.7, F; docs/configurations.md). Configurations
// live in the `configurations` collection; per twin, `configurationTwins` records which
// configuration owns which desired path, so that a twin leaving a target (or a deleted
// configuration) falls back to the next configuration or loses the setting.
//
// Re-evaluation is debounced and idempotent: changes mark twins dirty (or everything, for a
// configuration change or the periodic run), a run evaluates them and recomputes metrics.
// Writing desired emits twin events that mark the twin dirty again; the next pass finds no
// ownership change and writes nothing, so there is no feedback loop.
import { HubError, argumentInvalid } from '../errors.js'
import type { HubEventBus } from '../events.js'
import { compileCondition, parseCondition } from '../query/index.js'
import type { QueryService } from '../query/twin-query.js'
import { identityKey, parseIdentityKey } from '../registry/ids.js'
import type { HubStore, StoreOp } from '../store/types.js'
import { isJsonObject, jsonEqual } from '../twins/json.js'
import type { TwinServiceInternal } from '../twins/twin-service.js'
import type { Clock, Logger, TwinDocument } from '../types.js'
import {
  byPrecedence, contentKind, contentPaths, desiredPatchFor, metricProblem, normalizeContent, resolveOwners,
  validateConfigurationId, validateContent, validateMetrics, validateTargetCondition, type ContentPath
} from './content.js'
import type {
  Configuration, ConfigurationOptions, ConfigurationService, ConfigurationTestResult, StoredConfiguration
} from './types.js'

export interface ConfigurationServiceDeps {
  store: HubStore
  events: HubEventBus
  clock: Clock
  logger: Logger
  twins: TwinServiceInternal
  query: QueryService
  options?: ConfigurationOptions
}

interface Compiled {
  cfg: StoredConfiguration
  modules: boolean
  /** False for IoT Edge (modulesContent) configurations: stored, not applied. */
  applies: boolean
  paths: ContentPath[]
  test: (twin: TwinDocument) => boolean
}

const etagOf = (n: number): string => Buffer.from(String(n)).toString('base64')
const unquote = (v: string | undefined): string | undefined => (v === undefined ? undefined : v.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'))

export function createConfigurationService (deps: ConfigurationServiceDeps): ConfigurationService {
  const { store, events, clock, logger, twins, query } = deps
  const intervalMs = deps.options?.intervalMs ?? 300_000
  const debounceMs = deps.options?.debounceMs ?? 200
  const maxConfigurations = deps.options?.maxConfigurations ?? 100

  const results = new Map<string, { metrics: Record<string, number>; targetedCount: number; appliedCount: number }>()
  const compiledCache = new Map<string, Compiled>()
  const dirty = new Set<string>()
  let allDirty = true
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false
  let closed = false
  /** Twins being written by a run: their own desired events must not re-mark them. */
  const writing = new Set<string>()

  const now = (): string => new Date(clock.now()).toISOString()

  function compiled (cfg: StoredConfiguration): Compiled {
    const hit = compiledCache.get(cfg.id)
    if (hit && hit.cfg === cfg) return hit
    const kind = contentKind(cfg.content)
    const section = kind === 'deviceContent' ? cfg.content.deviceContent : kind === 'moduleContent' ? cfg.content.moduleContent : undefined
    let test: (twin: TwinDocument) => boolean = () => false
    let modules = false
    try {
      modules = parseCondition(cfg.targetCondition).from === 'devices.modules'
      test = compileCondition(cfg.targetCondition)
    } catch (err) {
      logger.warn('configuration target condition no longer compiles', { id: cfg.id, error: (err as Error).message })
    }
    const c: Compiled = { cfg, modules, applies: kind !== 'modulesContent', paths: section === undefined ? [] : contentPaths(section), test }
    compiledCache.set(cfg.id, c)
    return c
  }

  const all = (): Compiled[] => [...store.entries('configurations')].map(([, c]) => compiled(c)).sort((a, b) => byPrecedence(a.cfg, b.cfg))

  function render (cfg: StoredConfiguration): Configuration {
    const r = results.get(cfg.id)
    const metrics: Record<string, number> = {}
    for (const name of Object.keys(cfg.metrics.queries)) metrics[name] = r?.metrics[name] ?? 0
    const from = compiledCache.get(cfg.id)?.modules === true ? 'devices.modules' : 'devices'
    const where = cfg.targetCondition.trim().replace(/^from\s+devices(\.modules)?\s*/i, '').replace(/^where\s+/i, '')
    return structuredClone({
      id: cfg.id,
      schemaVersion: cfg.schemaVersion,
      labels: cfg.labels,
      content: cfg.content,
      targetCondition: cfg.targetCondition,
      createdTimeUtc: cfg.createdTimeUtc,
      lastUpdatedTimeUtc: cfg.lastUpdatedTimeUtc,
      priority: cfg.priority,
      systemMetrics: {
        results: { targetedCount: r?.targetedCount ?? 0, appliedCount: r?.appliedCount ?? 0 },
        queries: {
          targetedCount: where === '' || where === '*' ? `select deviceId from ${from}` : `select deviceId from ${from} where ${where}`,
          appliedCount: `select deviceId from ${from} where configurations.[[${cfg.id}]].status = 'Applied'`
        }
      },
      metrics: { results: metrics, queries: cfg.metrics.queries },
      etag: etagOf(cfg.etagCounter)
    })
  }

  // ---- evaluation ---------------------------------------------------------------------------

  function schedule (): void {
    if (closed) return
    if (running) { again = true; return }
    if (timer) return
    timer = setTimeout(() => {
      timer = undefined
      running = run().catch((err: Error) => logger.warn('configuration run failed', { error: err.message })).finally(() => {
        running = undefined
        if (again) { again = false; schedule() }
      })
    }, debounceMs)
    timer.unref?.()
  }

  const markAll = (): void => { allDirty = true; schedule() }
  const mark = (e: { deviceId: string; moduleId?: string }): void => {
    if (store.size('configurations') === 0 && !store.size('configurationTwins')) return
    const key = identityKey(e)
    if (writing.has(key)) return
    dirty.add(key)
    schedule()
  }

  async function run (): Promise<void> {
    const full = allDirty
    const keys = [...dirty]
    allDirty = false
    dirty.clear()
    const configs = all()
    if (full) {
      const matches = new Map<string, Compiled[]>()
      for (const c of configs) {
        if (!c.applies) continue
        let rows: TwinDocument[] = []
        try { rows = query.select(c.cfg.targetCondition) } catch { rows = [] }
        for (const row of rows) {
          const k = identityKey(row)
          let list = matches.get(k)
          if (!list) matches.set(k, list = [])
          list.push(c) // configs are iterated in precedence order, so each list is too
        }
      }
      const seen = new Set<string>()
      for (const { twin } of twins.records()) {
        const k = identityKey(twin)
        seen.add(k)
        if (closed) return
        await applyTwin(k, matches.get(k) ?? [])
      }
      // State left by twins that no longer exist.
      for (const [k] of [...store.entries('configurationTwins')]) if (!seen.has(k)) await store.del('configurationTwins', k)
    } else {
      for (const k of keys) {
        if (closed) return
        const identity = parseIdentityKey(k)
        if (!twins.record(identity)) {
          if (store.has('configurationTwins', k)) await store.del('configurationTwins', k)
          continue
        }
        const doc = twins.get(identity)
        const isModule = identity.moduleId !== undefined
        await applyTwin(k, configs.filter((c) => c.applies && c.modules === isModule && safeTest(c, doc)))
      }
    }
    if (!closed) computeMetrics(configs)
  }

  function safeTest (c: Compiled, doc: TwinDocument): boolean {
    try { return c.test(doc) } catch { return false }
  }

  async function applyTwin (key: string, matching: Compiled[]): Promise<void> {
    const identity = parseIdentityKey(key)
    const twin = twins.record(identity)
    if (!twin) return
    const owners = resolveOwners(matching.map((c) => ({ id: c.cfg.id, paths: c.paths })))
    const oldOwners = store.get('configurationTwins', key)?.owners ?? {}
    const patch = desiredPatchFor(twin.desired, oldOwners, owners)
    const map: Record<string, { status: 'targeted' | 'applied' }> = {}
    const applied = new Set([...owners.values()].map((o) => o.configId))
    for (const c of matching) map[c.cfg.id] = { status: applied.has(c.cfg.id) ? 'applied' : 'targeted' }
    const nextOwners: Record<string, string> = {}
    for (const [p, o] of owners) nextOwners[p] = o.configId
    const ownersChanged = !jsonEqual(oldOwners, nextOwners)
    if (!ownersChanged && Object.keys(patch).length === 0 && jsonEqual(twin.configurations ?? {}, map)) return
    const ops: StoreOp[] = ownersChanged
      ? [Object.keys(nextOwners).length === 0
          ? { op: 'del', c: 'configurationTwins', id: key }
          : { op: 'put', c: 'configurationTwins', id: key, doc: { owners: nextOwners } }]
      : []
    writing.add(key)
    try {
      await twins.applyConfigurations(identity, patch, map, ops)
    } catch (err) {
      logger.warn('configuration could not be applied', { key, error: (err as Error).message })
    } finally {
      writing.delete(key)
    }
  }

  function computeMetrics (configs: Compiled[]): void {
    const counts = new Map<string, { targetedCount: number; appliedCount: number }>()
    for (const c of configs) counts.set(c.cfg.id, { targetedCount: 0, appliedCount: 0 })
    for (const { twin } of twins.records()) {
      for (const [id, s] of Object.entries(twin.configurations ?? {})) {
        const n = counts.get(id)
        if (!n) continue
        n.targetedCount++
        if (s.status === 'applied') n.appliedCount++
      }
    }
    for (const c of configs) {
      const metrics: Record<string, number> = {}
      for (const [name, q] of Object.entries(c.cfg.metrics.queries)) {
        try { metrics[name] = query.count(q) } catch (err) {
          logger.warn('configuration metric failed', { id: c.cfg.id, metric: name, error: (err as Error).message })
          metrics[name] = results.get(c.cfg.id)?.metrics[name] ?? 0
        }
      }
      const n = counts.get(c.cfg.id) ?? { targetedCount: 0, appliedCount: 0 }
      // Edge configurations are not applied: targetedCount is their target query's count.
      if (!c.applies) {
        try { n.targetedCount = query.select(c.cfg.targetCondition).length } catch { n.targetedCount = 0 }
      }
      const before = results.get(c.cfg.id)
      results.set(c.cfg.id, { metrics, ...n })
      if (before === undefined || before.targetedCount !== n.targetedCount || before.appliedCount !== n.appliedCount || !jsonEqual(before.metrics, metrics)) {
        events.emit('configuration.metricsChanged', { id: c.cfg.id, targetedCount: n.targetedCount, appliedCount: n.appliedCount, metrics: { ...metrics } })
      }
    }
    for (const id of [...results.keys()]) if (!store.has('configurations', id)) results.delete(id)
  }

  for (const ev of ['device.created', 'device.updated', 'device.deleted', 'device.connected', 'device.disconnected',
    'twin.reportedChanged', 'twin.desiredChanged', 'twin.tagsChanged'] as const) {
    events.on(ev, mark)
  }
  const interval = intervalMs > 0 ? setInterval(markAll, intervalMs) : undefined
  interval?.unref()
  schedule()

  // ---- CRUD ---------------------------------------------------------------------------------

  const notFound = (id: string): HubError => new HubError('ConfigurationNotFound', `Configuration ${id} not found.`)

  function checkEtag (cfg: StoredConfiguration, ifMatch: string | undefined): void {
    const v = unquote(ifMatch)
    if (v === undefined || v === '*' || v === etagOf(cfg.etagCounter)) return
    throw new HubError('PreconditionFailed', `The etag ${v} does not match configuration ${cfg.id} (current ${etagOf(cfg.etagCounter)}).`)
  }

  function labelsOf (v: unknown): Record<string, string> {
    if (v === undefined || v === null) return {}
    if (!isJsonObject(v) || Object.values(v).some((x) => typeof x !== 'string')) throw argumentInvalid('labels must map names to strings.')
    return v as Record<string, string>
  }

  function priorityOf (v: unknown): number {
    if (v === undefined || v === null) return 0
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw argumentInvalid('priority must be a non-negative integer.')
    return v
  }

  return {
    async put (id, body, ifMatch) {
      const idErr = validateConfigurationId(id)
      if (idErr) throw idErr
      if (!isJsonObject(body)) throw argumentInvalid('The configuration body must be a JSON object.')
      if (body['id'] !== undefined && body['id'] !== id) throw argumentInvalid(`The body id '${String(body['id'])}' does not match the URL id '${id}'.`)
      const existing = store.get('configurations', id)
      const at = now()
      let next: StoredConfiguration
      if (!existing) {
        if (unquote(ifMatch) !== undefined && unquote(ifMatch) !== '*') throw notFound(id)
        if (store.size('configurations') >= maxConfigurations) {
          throw new HubError('ConfigurationCountLimitExceeded', `This hub holds at most ${maxConfigurations} configurations.`)
        }
        const content = validateContent(body['content'] ?? {})
        next = {
          id,
          schemaVersion: typeof body['schemaVersion'] === 'string' ? body['schemaVersion'] : '1.0',
          labels: labelsOf(body['labels']),
          content,
          targetCondition: validateTargetCondition(body['targetCondition'], contentKind(content)),
          createdTimeUtc: at,
          lastUpdatedTimeUtc: at,
          priority: priorityOf(body['priority']),
          metrics: { queries: validateMetrics(body['metrics']) },
          etagCounter: 1
        }
      } else {
        if (unquote(ifMatch) === undefined) {
          throw new HubError('PreconditionFailed', `Configuration ${id} already exists; send If-Match with its etag (or "*") to update it.`)
        }
        checkEtag(existing, ifMatch)
        const content = body['content']
        if (content !== undefined && content !== null) {
          if (!isJsonObject(content) || !jsonEqual(normalizeContent(content as never) as never, normalizeContent(existing.content) as never)) {
            throw new HubError('CannotModifyImmutableConfigurationContent', `The content of configuration ${id} cannot be changed after creation; create a new configuration instead.`)
          }
        }
        next = {
          ...existing,
          labels: body['labels'] === undefined ? existing.labels : labelsOf(body['labels']),
          targetCondition: body['targetCondition'] === undefined ? existing.targetCondition : validateTargetCondition(body['targetCondition'], contentKind(existing.content)),
          priority: body['priority'] === undefined ? existing.priority : priorityOf(body['priority']),
          metrics: body['metrics'] === undefined ? existing.metrics : { queries: validateMetrics(body['metrics']) },
          lastUpdatedTimeUtc: at,
          etagCounter: existing.etagCounter + 1
        }
      }
      await store.put('configurations', id, next)
      compiled(next)
      events.emit('configuration.changed', { id, change: existing ? 'updated' : 'created' })
      markAll()
      return { configuration: render(next), created: !existing }
    },

    get (id) {
      const c = store.get('configurations', id)
      return c === undefined ? undefined : render(c)
    },

    mustGet (id) {
      const c = store.get('configurations', id)
      if (!c) throw notFound(id)
      return render(c)
    },

    list (top) {
      const list = [...store.entries('configurations')].map(([, c]) => c).sort((a, b) => a.createdTimeUtc.localeCompare(b.createdTimeUtc) || a.id.localeCompare(b.id))
      return (top === undefined ? list : list.slice(0, top)).map(render)
    },

    async remove (id, ifMatch) {
      const c = store.get('configurations', id)
      if (!c) throw notFound(id)
      checkEtag(c, ifMatch)
      await store.del('configurations', id)
      compiledCache.delete(id)
      results.delete(id)
      events.emit('configuration.changed', { id, change: 'deleted' })
      markAll()
    },

    testQueries (body) {
      const out: ConfigurationTestResult = { targetConditionError: '', customMetricQueryErrors: {} }
      if (!isJsonObject(body)) throw argumentInvalid('The body must be a JSON object with targetCondition and customMetricQueries.')
      const tc = body['targetCondition']
      if (tc !== undefined && tc !== null) {
        try { validateTargetCondition(tc, undefined) } catch (err) { out.targetConditionError = (err as Error).message }
      }
      const q = body['customMetricQueries']
      if (isJsonObject(q)) {
        for (const [name, text] of Object.entries(q)) {
          const problem = metricProblem(text)
          if (problem !== undefined) out.customMetricQueryErrors[name] = problem
        }
      }
      return out
    },

    async evaluate () {
      allDirty = true
      if (timer) { clearTimeout(timer); timer = undefined }
      while (running) await running
      if (closed) return
      const p = run()
      running = p.finally(() => { running = undefined; if (again) { again = false; schedule() } })
      await running
    },

    async idle () {
      while (timer || running) {
        if (running) await running
        else await new Promise((r) => setTimeout(r, debounceMs))
      }
    },

    async close () {
      closed = true
      if (timer) clearTimeout(timer)
      timer = undefined
      if (interval) clearInterval(interval)
      while (running) await running.catch(() => {})
    }
  }
}

