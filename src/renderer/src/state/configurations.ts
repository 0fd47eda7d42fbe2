// Automatic configurations: the list with applied/targeted and custom metric counts, refetched
// (throttled) when a configuration changes, its metrics move or twins' configuration status
// moves; create with labels and metrics; edit target/priority/labels/metrics against the etag
// the screen showed (content is immutable in IoT Hub: duplicate to change it).
import { createStore } from 'zustand/vanilla'
import type { ConfigurationView, HubApi, HubErrorInfo, JsonObject, MethodInput, UiEvent } from '../../../shared/contract/index'
import { throttle } from './throttle'

export interface ConfigurationsState { items: ConfigurationView[]; loaded: boolean; error: HubErrorInfo | undefined }

export type ConfigurationDraft = MethodInput<'configurations.create'>
export type ConfigurationChanges = Omit<MethodInput<'configurations.update'>, 'id' | 'etag' | 'content'>

/** Outcome of an edit: saved, someone else changed it first (reload and redo), or another error. */
export type UpdateOutcome = { ok: true; item: ConfigurationView } | { ok: false; conflict: boolean; error: HubErrorInfo }

/** Content 'properties.desired.<a>' keys as a desired patch ({a: ...}), for showing and duplicating. */
export function contentToDesired (content: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(content)) {
    if (k === 'properties.desired' && v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v)
    else if (k.startsWith('properties.desired.')) {
      const path = k.slice('properties.desired.'.length).split('.')
      let cur = out
      path.forEach((seg, i) => {
        if (i === path.length - 1) cur[seg] = v
        else { if (typeof cur[seg] !== 'object' || cur[seg] === null || Array.isArray(cur[seg])) cur[seg] = {}; cur = cur[seg] as JsonObject }
      })
    }
  }
  return out
}

/** A desired patch {a: {b: 1}} as content {"properties.desired.a": {b: 1}}: one path per top-level key. */
export function desiredToContent (desired: JsonObject): JsonObject {
  const content: JsonObject = {}
  for (const [k, v] of Object.entries(desired)) content[`properties.desired.${k}`] = v
  return content
}

/** "owner=maintenance, shift=night" <-> {owner: 'maintenance', shift: 'night'}. */
export function parseLabels (text: string): { ok: true; value: Record<string, string> } | { ok: false; message: string } {
  const value: Record<string, string> = {}
  for (const part of text.split(/[,\n]/).map(p => p.trim()).filter(p => p !== '')) {
    const eq = part.indexOf('=')
    if (eq <= 0) return { ok: false, message: `"${part}" is not name=value` }
    const name = part.slice(0, eq).trim()
    if (!/^[A-Za-z0-9\-_.:]{1,128}$/.test(name)) return { ok: false, message: `Label name "${name}": letters, digits, - _ . : only` }
    if (name in value) return { ok: false, message: `Label "${name}" appears twice` }
    value[name] = part.slice(eq + 1).trim()
  }
  return { ok: true, value }
}
export const labelsText = (labels: Record<string, string>): string => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')

export function createConfigurationsStore (api: HubApi, opts: { refetchMs?: number } = {}) {
  const store = createStore<ConfigurationsState>()(() => ({ items: [], loaded: false, error: undefined }))
  async function refresh (): Promise<void> {
    const r = await api.call('configurations.list', undefined)
    store.setState(r.ok ? { items: r.value, loaded: true, error: undefined } : { error: r.error })
  }
  const later = throttle(() => { void refresh() }, opts.refetchMs ?? 1000)
  function onEvents (events: UiEvent[]): void {
    if (events.some(e => e.type === 'configuration.changed' || e.type === 'resync' || (e.type === 'twin.changed' && e.parts.includes('configurations')))) later()
  }
  function start (): () => void {
    void refresh()
    const off = api.subscribe(onEvents)
    return () => { off(); later.cancel() }
  }
  async function create (input: ConfigurationDraft): Promise<HubErrorInfo | undefined> {
    const r = await api.call('configurations.create', input)
    if (!r.ok) return r.error
    await refresh()
    return undefined
  }
  /** Saves changes against `etag` (the version the person edited). */
  async function update (id: string, etag: string, changes: ConfigurationChanges): Promise<UpdateOutcome> {
    const r = await api.call('configurations.update', { id, etag, ...changes })
    if (!r.ok) return { ok: false, conflict: r.error.code === 412001, error: r.error }
    store.setState(s => ({ items: s.items.map(c => (c.id === id ? r.value : c)) }))
    return { ok: true, item: r.value }
  }
  async function remove (id: string): Promise<HubErrorInfo | undefined> {
    const r = await api.call('configurations.remove', { id })
    await refresh()
    return r.ok ? undefined : r.error
  }
  return { store, refresh, start, onEvents, create, update, remove }
}

export type ConfigurationsStore = ReturnType<typeof createConfigurationsStore>
