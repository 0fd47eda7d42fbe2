// Bulk "tag" on a selection of devices: sets or removes one tag on each, in chunks (a selection
// can be all 10,000 devices), with progress and one outcome per device.
import { createStore } from 'zustand/vanilla'
import type { DeviceOutcome, HubApi, JsonValue } from '../../../shared/contract/index'
import { TAG_PATH } from '../../../shared/contract/index'

export interface BulkTagState {
  running: boolean
  /** Devices handled so far and in all. */
  done: number
  total: number
  /** What ran: 'site = "hall-2"' or 'remove site'. */
  label: string
  outcomes: DeviceOutcome[]
  succeeded: number
  failed: number
}

/** Devices per call (the contract takes at most 1,000). */
export const TAG_CHUNK = 250

/** A tag name as typed: the problem in plain words, or undefined. */
export function tagNameProblem (raw: string): string | undefined {
  const t = raw.trim()
  if (t === '') return 'Type the tag name, e.g. site or location.hall.'
  if (!TAG_PATH.test(t)) return 'A tag name has no spaces or $; use dots only between the names of a nested tag (location.hall).'
  return undefined
}

/**
 * A tag value as typed: numbers, true/false and JSON objects/arrays keep their type ("3" is the
 * number 3), "quoted" text is text, anything else is text as typed. Empty means nothing yet.
 */
export function parseTagValue (raw: string): { ok: true; value: JsonValue; type: string } | { ok: false; message: string } {
  const t = raw.trim()
  if (t === '') return { ok: false, message: 'Type the value to set.' }
  if (/^[[{"]|^-?\d|^(true|false|null)$/.test(t)) {
    try {
      const v = JSON.parse(t) as JsonValue
      if (v === null) return { ok: false, message: 'null removes a tag: pick “Remove the tag” instead.' }
      const type = Array.isArray(v) ? 'list' : typeof v === 'object' ? 'object' : typeof v === 'string' ? 'text' : typeof v === 'number' ? 'number' : 'true/false'
      return { ok: true, value: v, type }
    } catch {
      if (/^[[{]/.test(t)) return { ok: false, message: 'This looks like JSON but is not valid JSON.' }
    }
  }
  return { ok: true, value: t, type: 'text' }
}

export function createBulkTagStore (api: HubApi) {
  const initial: BulkTagState = { running: false, done: 0, total: 0, label: '', outcomes: [], succeeded: 0, failed: 0 }
  const store = createStore<BulkTagState>()(() => initial)

  /** Sets (`value`) or removes (`value` undefined) `tag` on every device; resolves with the outcomes. */
  async function run (deviceIds: string[], tag: string, value: JsonValue | undefined): Promise<BulkTagState> {
    const ids = [...new Set(deviceIds)].sort()
    const label = value === undefined ? `remove ${tag}` : `${tag} = ${JSON.stringify(value)}`
    store.setState({ ...initial, running: true, total: ids.length, label })
    for (let i = 0; i < ids.length; i += TAG_CHUNK) {
      const chunk = ids.slice(i, i + TAG_CHUNK)
      const r = await api.call('devices.tag', value === undefined ? { deviceIds: chunk, tag, remove: true } : { deviceIds: chunk, tag, value })
      // a refused call (bad input, hub gone) is every device of the chunk failing with that error
      const outcomes: DeviceOutcome[] = r.ok ? r.value.results : chunk.map(deviceId => ({ deviceId, ok: false, error: r.error }))
      store.setState(s => {
        const all = [...s.outcomes, ...outcomes]
        const failed = all.filter(o => !o.ok).length
        return { outcomes: all, done: s.done + chunk.length, failed, succeeded: all.length - failed }
      })
    }
    store.setState({ running: false })
    return store.getState()
  }

  const reset = (): void => { store.setState(initial) }

  return { store, run, reset }
}

export type BulkTagStore = ReturnType<typeof createBulkTagStore>
