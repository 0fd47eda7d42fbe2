// Serial ports store: configured ports (config + live status), the machine's port list and the
// Modbus profiles. Live line statistics come from 'serial.status' events (at most one a second,
// only when something changed); a port added or removed elsewhere triggers a reload.
import { createStore } from 'zustand/vanilla'
import type {
  HubApi, HubErrorInfo, MachinePortView, MethodInput, ModbusProfileView, SerialPortStatusView, SerialPortView, UiEvent
} from '../../../shared/contract/index'

export interface SerialState {
  ports: SerialPortView[]
  machine: { ports: MachinePortView[]; error: string | null } | undefined
  profiles: ModbusProfileView[]
  loaded: boolean
  error: HubErrorInfo | undefined
  /** When the last live status arrived. */
  liveAt: number | undefined
}

export type SerialPortDraft = MethodInput<'serial.add'>

export function createSerialStore (api: HubApi, opts: { now?: () => number } = {}) {
  const now = opts.now ?? Date.now
  const store = createStore<SerialState>()(() => ({ ports: [], machine: undefined, profiles: [], loaded: false, error: undefined, liveAt: undefined }))

  async function refresh (): Promise<void> {
    const r = await api.call('serial.list', undefined)
    store.setState(r.ok ? { ports: r.value, loaded: true, error: undefined } : { error: r.error })
  }
  async function refreshMachine (): Promise<void> {
    const [m, p] = await Promise.all([api.call('serial.machinePorts', undefined), api.call('serial.profiles', undefined)])
    if (m.ok) store.setState({ machine: m.value })
    if (p.ok) store.setState({ profiles: p.value })
  }

  function applyStatus (statuses: SerialPortStatusView[]): void {
    const { ports } = store.getState()
    const byName = new Map(statuses.map(s => [s.name, s]))
    // a port configured or removed elsewhere: the configs changed too
    if (statuses.length !== ports.length || ports.some(p => !byName.has(p.config.name))) { void refresh(); return }
    store.setState({ ports: ports.map(p => ({ config: p.config, status: byName.get(p.config.name) ?? p.status })), liveAt: now() })
  }

  function onEvents (events: UiEvent[]): void {
    for (const e of events) {
      if (e.type === 'serial.status') applyStatus(e.ports)
      else if (e.type === 'resync') void refresh()
    }
  }

  function start (): () => void {
    void refresh()
    void refreshMachine()
    return api.subscribe(onEvents)
  }

  async function add (draft: SerialPortDraft): Promise<HubErrorInfo | undefined> {
    const r = await api.call('serial.add', draft)
    if (!r.ok) return r.error
    await refresh()
    void refreshMachine()
    return undefined
  }
  async function update (input: MethodInput<'serial.update'>): Promise<HubErrorInfo | undefined> {
    const r = await api.call('serial.update', input)
    if (!r.ok) return r.error
    await refresh()
    return undefined
  }
  async function remove (name: string): Promise<HubErrorInfo | undefined> {
    const r = await api.call('serial.remove', { name })
    await refresh()
    void refreshMachine()
    return r.ok ? undefined : r.error
  }

  return { store, refresh, refreshMachine, start, onEvents, add, update, remove }
}

export type SerialStore = ReturnType<typeof createSerialStore>

/** Checks a port form before it is sent: the hub checks again, these are the mistakes worth catching while typing. */
export function checkPortDraft (d: { path: string; protocol: 'line' | 'modbus'; devices: Array<{ deviceId: string; address: string; profile: string }> }): string[] {
  const problems: string[] = []
  if (d.path.trim() === '') problems.push('Enter the port path, e.g. /dev/ttyUSB0 or COM3.')
  const ids = new Set<string>()
  const addresses = new Set<number>()
  d.devices.forEach((dev, i) => {
    const n = i + 1
    if (!/^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/.test(dev.deviceId)) problems.push(`Device ${n}: the device id must be 1-128 letters, digits or - . + % _ # * ? ! ( ) , : = @ $ ' (no spaces).`)
    else if (ids.has(dev.deviceId)) problems.push(`Device ${n}: ${dev.deviceId} is listed twice.`)
    ids.add(dev.deviceId)
    if (dev.address.trim() !== '') {
      const a = Number(dev.address)
      if (!Number.isInteger(a) || a < 1 || a > 247) problems.push(`Device ${n}: the address must be a whole number from 1 to 247.`)
      else if (addresses.has(a)) problems.push(`Device ${n}: address ${a} is used twice.`)
      else addresses.add(a)
    } else if (d.protocol === 'modbus') {
      problems.push(`Device ${n}: a Modbus device needs its unit id (1-247) as the address.`)
    }
    if (d.protocol === 'modbus' && dev.profile.trim() === '') problems.push(`Device ${n}: pick the Modbus profile that describes its registers.`)
  })
  if (d.protocol === 'line' && d.devices.length > 1 && d.devices.some(x => x.address.trim() === '')) {
    problems.push('Several devices on one line-protocol port share the wire (multidrop): give each an address.')
  }
  return problems
}
