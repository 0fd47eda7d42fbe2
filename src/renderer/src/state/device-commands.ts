// One device's queued commands (the hub's offline command queue, docs/commands.md): the list,
// live as commands move queued -> in progress -> succeeded/failed/..., enqueue and cancel.
import { createStore } from 'zustand/vanilla'
import type { CommandView, HubApi, HubErrorInfo, JsonValue, UiEvent } from '../../../shared/contract/index'
import { throttle } from './throttle'

export interface DeviceCommandsState {
  commands: CommandView[]
  loaded: boolean
  error: HubErrorInfo | undefined
  /** The last failed enqueue or cancel. */
  actionError: HubErrorInfo | undefined
  busy: boolean
}

export const ACTIVE_STATES: ReadonlySet<CommandView['status']> = new Set(['queued', 'in_progress'])

/** Time-to-live choices for the enqueue form, in seconds. */
export const TTL_CHOICES: Array<[number, string]> = [
  [600, '10 minutes'], [3600, '1 hour'], [8 * 3600, '8 hours'], [86_400, '1 day'], [7 * 86_400, '7 days'], [30 * 86_400, '30 days']
]

export function createDeviceCommandsStore (api: HubApi, deviceId: string, opts: { refetchMs?: number } = {}) {
  const store = createStore<DeviceCommandsState>()(() => ({ commands: [], loaded: false, error: undefined, actionError: undefined, busy: false }))
  let latest = 0

  async function load (): Promise<void> {
    const mine = ++latest
    const r = await api.call('commands.list', { deviceId, top: 50 })
    if (mine !== latest) return // an older answer must not undo a newer one
    store.setState(r.ok ? { commands: r.value, loaded: true, error: undefined } : { error: r.error })
  }
  const reload = throttle(() => { void load() }, opts.refetchMs ?? 250)

  function onEvents (events: UiEvent[]): void {
    for (const e of events) {
      if (e.type === 'resync') { reload(); return }
      if (e.type === 'command.changed' && e.deviceId === deviceId) {
        // show the new state at once; the reload brings the response, times and errors
        store.setState(s => ({ commands: s.commands.map(c => (c.commandId === e.commandId ? { ...c, status: e.status } : c)) }))
        reload()
      }
    }
  }

  function start (): () => void {
    void load()
    const off = api.subscribe(onEvents)
    return () => { off(); reload.cancel() }
  }

  async function enqueue (input: { methodName: string; payload?: JsonValue; ttlInSeconds: number; responseTimeoutInSeconds: number }): Promise<CommandView | undefined> {
    store.setState({ busy: true, actionError: undefined })
    const r = await api.call('commands.enqueue', { deviceId, ...input })
    if (!r.ok) { store.setState({ busy: false, actionError: r.error }); return undefined }
    store.setState(s => ({ busy: false, commands: s.commands.some(c => c.commandId === r.value.commandId) ? s.commands : [r.value, ...s.commands] }))
    return r.value
  }

  async function cancel (commandId: string): Promise<boolean> {
    store.setState({ actionError: undefined })
    const r = await api.call('commands.cancel', { commandId })
    if (!r.ok) { store.setState({ actionError: r.error }); await load(); return false }
    store.setState(s => ({ commands: s.commands.map(c => (c.commandId === commandId ? r.value : c)) }))
    return true
  }

  return { store, load, start, onEvents, enqueue, cancel }
}

export type DeviceCommandsStore = ReturnType<typeof createDeviceCommandsStore>
