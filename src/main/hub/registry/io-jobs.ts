// Registry import/export jobs (C.2): POST /jobs/create. The hub has no blob storage, so the
// container URI is a local folder (file:///...) holding devices.txt in JSON lines; other URIs are
// refused with a clear 400. One import/export job at a time (429004 otherwise).
import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { HubError, argumentInvalid } from '../errors.js'
import type { Registry, TwinService } from '../services.js'
import type { HubStore } from '../store/types.js'
import type { Clock, JsonObject, Logger } from '../types.js'
import { applyImportItem, exportItem } from './import-item.js'
import { parseIdentityKey } from './ids.js'

export type IoJobStatus = 'enqueued' | 'running' | 'completed' | 'failed' | 'cancelled'

export interface IoJob {
  jobId: string
  type: 'export' | 'import'
  status: IoJobStatus
  progress: number
  startTimeUtc: string
  endTimeUtc: string | null
  inputBlobContainerUri: string | null
  outputBlobContainerUri: string
  excludeKeysInExport: boolean
  failureReason: string | null
  /** Beyond IoT Hub: counts of what the job did. */
  processed: number
  failed: number
}

export interface IoJobService {
  create(req: unknown): Promise<IoJob>
  get(jobId: string): IoJob
  list(): IoJob[]
  cancel(jobId: string): Promise<IoJob>
  /** Resolves when the job reaches a terminal status (tests, CLI). */
  wait(jobId: string): Promise<IoJob>
}

function folderOf (uri: unknown, what: string): string {
  if (typeof uri !== 'string' || uri === '') throw argumentInvalid(`${what} is required.`)
  if (!uri.startsWith('file://')) {
    throw argumentInvalid(`${what} '${uri}' is not supported: this hub has no blob storage; give a local folder as a file:/// URI.`)
  }
  try {
    return fileURLToPath(uri)
  } catch {
    throw argumentInvalid(`${what} '${uri}' is not a valid file URI.`)
  }
}

const TERMINAL: IoJobStatus[] = ['completed', 'failed', 'cancelled']

export function createIoJobService (deps: { store: HubStore; registry: Registry; twins: TwinService; clock: Clock; logger: Logger }): IoJobService & { resume(): Promise<void> } {
  const { store } = deps
  const waiters = new Map<string, Array<(j: IoJob) => void>>()
  const cancelled = new Set<string>()
  const now = (): string => new Date(deps.clock.now()).toISOString()

  const read = (jobId: string): IoJob | undefined => {
    const j = store.get('jobs', jobId) as unknown as (IoJob & { kind?: string }) | undefined
    return j?.kind === 'io' ? { ...j } : undefined
  }
  const save = async (job: IoJob): Promise<void> => {
    await store.put('jobs', job.jobId, { ...job, kind: 'io' } as unknown as JsonObject)
    if (TERMINAL.includes(job.status)) {
      for (const w of waiters.get(job.jobId) ?? []) w({ ...job })
      waiters.delete(job.jobId)
    }
  }
  const strip = (j: IoJob): IoJob => { const c = { ...j } as IoJob & { kind?: string }; delete c.kind; return c }

  async function runExport (job: IoJob): Promise<void> {
    const dir = folderOf(job.outputBlobContainerUri, 'outputBlobContainerUri')
    await mkdir(dir, { recursive: true })
    const keys = [...store.entries('devices')].map(([k]) => k)
    const tmp = join(dir, `.devices.txt.${job.jobId}.tmp`)
    const fh = await open(tmp, 'w')
    try {
      let lines: string[] = []
      for (let i = 0; i < keys.length; i++) {
        if (cancelled.has(job.jobId)) return
        const identity = parseIdentityKey(keys[i] as string)
        if (!deps.registry.get(identity)) continue
        lines.push(JSON.stringify(exportItem(deps, identity, job.excludeKeysInExport)))
        job.processed++
        if (lines.length >= 1000 || i === keys.length - 1) {
          await fh.write(lines.join('\n') + '\n')
          lines = []
          job.progress = Math.floor(((i + 1) / keys.length) * 100)
          await save(job)
        }
      }
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, join(dir, 'devices.txt'))
  }

  async function runImport (job: IoJob): Promise<void> {
    const input = folderOf(job.inputBlobContainerUri, 'inputBlobContainerUri')
    const file = join(input, 'devices.txt')
    const size = (await stat(file).catch(() => { throw argumentInvalid(`There is no devices.txt in ${input}.`) })).size
    const out = folderOf(job.outputBlobContainerUri, 'outputBlobContainerUri')
    await mkdir(out, { recursive: true })
    const errors: string[] = []
    const stream = createReadStream(file)
    let line = 0
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      line++
      if (cancelled.has(job.jobId)) { stream.destroy(); return }
      if (text.trim() === '') continue
      try {
        let item: unknown
        try { item = JSON.parse(text) } catch { throw argumentInvalid(`line ${line} is not valid JSON`) }
        await applyImportItem(deps, item, 'createorupdate')
        job.processed++
      } catch (err) {
        if (!(err instanceof HubError)) throw err
        job.failed++
        errors.push(JSON.stringify({ line, errorCode: err.errorName, errorStatus: err.message }))
      }
      if (line % 500 === 0) {
        job.progress = Math.min(99, Math.floor((stream.bytesRead / Math.max(size, 1)) * 100))
        await save(job)
      }
    }
    if (errors.length > 0) await writeFile(join(out, 'importErrors.log'), errors.join('\n') + '\n')
  }

  async function run (job: IoJob): Promise<void> {
    job.status = 'running'
    await save(job)
    try {
      await (job.type === 'export' ? runExport(job) : runImport(job))
      job.status = cancelled.has(job.jobId) ? 'cancelled' : 'completed'
      if (job.status === 'completed') job.progress = 100
    } catch (err) {
      job.status = 'failed'
      job.failureReason = (err as Error).message
      deps.logger.warn('import/export job failed', { jobId: job.jobId, error: job.failureReason })
    }
    job.endTimeUtc = now()
    cancelled.delete(job.jobId)
    await save(job)
  }

  const active = (): IoJob | undefined => [...store.entries('jobs')].map(([id]) => read(id)).find((j) => j && !TERMINAL.includes(j.status))

  return {
    async create (req) {
      if (typeof req !== 'object' || req === null) throw argumentInvalid('The job request must be a JSON object.')
      const r = req as Record<string, unknown>
      const type = r['type']
      if (type !== 'export' && type !== 'import') throw argumentInvalid(`Job type must be 'export' or 'import', not '${String(type)}'.`)
      folderOf(r['outputBlobContainerUri'], 'outputBlobContainerUri')
      if (type === 'import') folderOf(r['inputBlobContainerUri'], 'inputBlobContainerUri')
      const busy = active()
      if (busy) throw new HubError('ThrottlingMaxActiveJobCountExceeded', `Import/export job ${busy.jobId} is still ${busy.status}; only one runs at a time.`)
      const job: IoJob = {
        jobId: randomUUID(),
        type,
        status: 'enqueued',
        progress: 0,
        startTimeUtc: now(),
        endTimeUtc: null,
        inputBlobContainerUri: type === 'import' ? r['inputBlobContainerUri'] as string : null,
        outputBlobContainerUri: r['outputBlobContainerUri'] as string,
        excludeKeysInExport: r['excludeKeysInExport'] === true,
        failureReason: null,
        processed: 0,
        failed: 0
      }
      await save(job)
      setImmediate(() => { void run(job) })
      return { ...job }
    },
    get (jobId) {
      const j = read(jobId)
      if (!j) throw new HubError('JobNotFound', `Job ${jobId} not found.`)
      return strip(j)
    },
    list: () => [...store.entries('jobs')].map(([id]) => read(id)).filter((j): j is IoJob => j !== undefined).map(strip),
    async cancel (jobId) {
      const j = read(jobId)
      if (!j) throw new HubError('JobNotFound', `Job ${jobId} not found.`)
      if (!TERMINAL.includes(j.status)) cancelled.add(jobId)
      return strip(j)
    },
    wait (jobId) {
      const j = read(jobId)
      if (!j) return Promise.reject(new HubError('JobNotFound', `Job ${jobId} not found.`))
      if (TERMINAL.includes(j.status)) return Promise.resolve(strip(j))
      return new Promise((resolve) => { waiters.set(jobId, [...(waiters.get(jobId) ?? []), (x) => resolve(strip(x))]) })
    },
    /** A job that was running when the hub stopped is marked failed: re-running it could double-apply. */
    async resume () {
      for (const [id] of store.entries('jobs')) {
        const j = read(id)
        if (j && !TERMINAL.includes(j.status)) {
          await save({ ...j, status: 'failed', failureReason: 'The hub stopped while this job was running; start it again.', endTimeUtc: now() })
        }
      }
    }
  }
}
