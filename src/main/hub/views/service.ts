// Saved views of the devices table: a named search + query (+ column sort), kept in the hub
// store so every technician on the site sees the same list. Names are unique without regard
// to case ("Offline presses" and "offline presses" are one view); the store key is the
// lower-case name. Each change is durable before it is answered and before its event.
import { argumentInvalid } from '../errors.js'
import type { HubEventBus } from '../events.js'
import type { HubStore } from '../store/types.js'
import type { Clock } from '../types.js'

export interface SavedViewRecord {
  name: string
  search: string
  query: string
  sort: { column: string; direction: 'asc' | 'desc' } | null
  createdTime: string
  updatedTime: string
}

export interface SaveViewInput {
  name: string
  search?: string
  query?: string
  sort?: SavedViewRecord['sort'] | undefined
  /** Replace a view of the same name instead of refusing with ViewAlreadyExists. */
  overwrite?: boolean
}

export interface SavedViews {
  /** By name, case-insensitive. */
  list(): SavedViewRecord[]
  get(name: string): SavedViewRecord | undefined
  save(input: SaveViewInput): Promise<SavedViewRecord>
  rename(name: string, newName: string): Promise<SavedViewRecord>
  remove(name: string): Promise<void>
}

/** The most views a site keeps (a list a technician can still scan). */
export const MAX_VIEWS = 200
export const MAX_VIEW_NAME = 64

/** Sitehub's own errors with no IoT Hub number: the HTTP status stands in for the code. */
export class ViewError extends Error {
  constructor (readonly httpStatus: number, readonly errorName: 'ViewNotFound' | 'ViewAlreadyExists' | 'ViewLimitExceeded', message: string) {
    super(message)
    this.name = 'ViewError'
  }
}

const keyOf = (name: string): string => name.toLowerCase()

/** Trims a name and checks it: 1..64 characters, no control characters. */
export function cleanViewName (raw: string): string {
  const name = raw.trim().replace(/\s+/g, ' ')
  if (name === '') throw argumentInvalid('A view needs a name.')
  if (name.length > MAX_VIEW_NAME) throw argumentInvalid(`A view name may have at most ${MAX_VIEW_NAME} characters.`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw argumentInvalid('A view name may not contain control characters.')
  return name
}

export function createSavedViews (deps: { store: HubStore; events: HubEventBus; clock: Clock }): SavedViews {
  const { store, events, clock } = deps
  const now = (): string => new Date(clock.now()).toISOString()

  function mustGet (name: string): SavedViewRecord {
    const v = store.get('uiViews', keyOf(name.trim()))
    if (v === undefined) throw new ViewError(404, 'ViewNotFound', `There is no saved view named '${name.trim()}'.`)
    return v
  }

  return {
    list: () => [...store.entries('uiViews')].map(([, v]) => v)
      .sort((a, b) => keyOf(a.name).localeCompare(keyOf(b.name)) || a.name.localeCompare(b.name)),
    get: (name) => store.get('uiViews', keyOf(name.trim())),

    async save (input) {
      const name = cleanViewName(input.name)
      const prev = store.get('uiViews', keyOf(name))
      if (prev !== undefined && input.overwrite !== true) {
        throw new ViewError(409, 'ViewAlreadyExists', `A view named '${prev.name}' already exists. Pick another name, or replace it.`)
      }
      if (prev === undefined && store.size('uiViews') >= MAX_VIEWS) {
        throw new ViewError(403, 'ViewLimitExceeded', `The hub keeps at most ${MAX_VIEWS} saved views. Delete some first.`)
      }
      const at = now()
      const view: SavedViewRecord = {
        name,
        search: input.search?.trim() ?? '',
        query: input.query?.trim() ?? '',
        sort: input.sort ?? null,
        createdTime: prev?.createdTime ?? at,
        updatedTime: at
      }
      await store.put('uiViews', keyOf(name), view)
      events.emit('view.changed', { name, change: 'saved' })
      return view
    },

    async rename (name, newNameRaw) {
      const view = mustGet(name)
      const newName = cleanViewName(newNameRaw)
      if (newName === view.name) return view
      const taken = store.get('uiViews', keyOf(newName))
      // a change of case only is the same view
      if (taken !== undefined && keyOf(newName) !== keyOf(view.name)) {
        throw new ViewError(409, 'ViewAlreadyExists', `A view named '${taken.name}' already exists. Pick another name.`)
      }
      const renamed: SavedViewRecord = { ...view, name: newName, updatedTime: now() }
      const ops = keyOf(newName) === keyOf(view.name)
        ? [{ op: 'put' as const, c: 'uiViews' as const, id: keyOf(newName), doc: renamed }]
        : [{ op: 'del' as const, c: 'uiViews' as const, id: keyOf(view.name) }, { op: 'put' as const, c: 'uiViews' as const, id: keyOf(newName), doc: renamed }]
      await store.batch(ops)
      events.emit('view.changed', { name: newName, change: 'renamed' })
      return renamed
    },

    async remove (name) {
      const view = mustGet(name)
      await store.del('uiViews', keyOf(view.name))
      events.emit('view.changed', { name: view.name, change: 'removed' })
    }
  }
}
