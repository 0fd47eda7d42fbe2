// hub.serial: serial port configuration (store collection 'serialPorts'), Modbus profiles,
// the machine's port list, and the runtime status the serial transport registers.
import { readdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { argumentInvalid } from '../errors.js'
import type { HubStore } from '../store/types.js'
import type { Clock, Logger } from '../types.js'
import { parseProfileText, type ModbusProfile } from './modbus-profile.js'
import { emptyCounters, type MachinePort, type SerialPortConfig, type SerialPortInput, type SerialPortStatus, type SerialProtocol, type Parity } from './types.js'
import { builtinProfileDir } from './paths.js'

export interface SerialRuntime {
  status(name: string): SerialPortStatus | undefined
}

export interface ProfileInfo {
  name: string
  file: string
  /** null when the file is valid. */
  errors: string[] | null
}

export interface SerialService {
  list(): SerialPortConfig[]
  get(name: string): SerialPortConfig | undefined
  /** Validates and stores a port (durable on resolve); the transport opens it. Throws ArgumentInvalid. */
  add(input: SerialPortInput): Promise<SerialPortConfig>
  /** Changes fields of a port (path, baud rate, devices, enabled...). */
  update(name: string, changes: Partial<SerialPortInput>): Promise<SerialPortConfig>
  remove(name: string): Promise<void>
  /** Config changes, for the transport: cfg null = removed. Returns an unsubscribe function. */
  onChange(fn: (name: string, cfg: SerialPortConfig | null) => void): () => void
  /** Ports the OS lists. Never rejects: without udev the list fails and `error` says so. */
  machinePorts(): Promise<{ ports: MachinePort[]; error?: string }>
  /** Config plus runtime state of every port (state 'closed' when no transport runs). */
  status(): SerialPortStatus[]
  /** The transport registers itself here (null when it stops). */
  setRuntime(rt: SerialRuntime | null): void
  /** Modbus profiles: the data dir's folder first, then the built-in ones. */
  profiles: {
    dirs: readonly string[]
    list(): Promise<ProfileInfo[]>
    /** Throws ArgumentInvalid naming the file and every problem. */
    load(name: string): Promise<ModbusProfile>
  }
}

export interface SerialServiceDeps {
  store: HubStore
  clock: Clock
  logger: Logger
  dataDir: string
  /** Defaults to [DIR/modbus-profiles, resources/modbus-profiles]. */
  profileDirs?: string[]
}

const PARITIES: readonly Parity[] = ['none', 'even', 'odd', 'mark', 'space']
const PROTOCOLS: readonly SerialProtocol[] = ['line', 'modbus']
const PORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const DEVICE_ID = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi

export function createSerialService (deps: SerialServiceDeps): SerialService {
  const { store, clock } = deps
  const listeners = new Set<(name: string, cfg: SerialPortConfig | null) => void>()
  let runtime: SerialRuntime | null = null
  const profileDirs = deps.profileDirs ?? [join(deps.dataDir, 'modbus-profiles'), builtinProfileDir()]

  const notify = (name: string, cfg: SerialPortConfig | null): void => {
    for (const l of [...listeners]) {
      try { l(name, cfg) } catch (err) { deps.logger.error('serial config listener failed', { error: (err as Error).message }) }
    }
  }

  async function loadProfile (name: string): Promise<ModbusProfile> {
    if (!PORT_NAME.test(name)) throw argumentInvalid(`profile name '${name}' is not valid (letters, digits, ., _ or -)`)
    for (const dir of profileDirs) {
      const file = join(dir, `${name}.json`)
      let text: string
      try { text = await readFile(file, 'utf8') } catch { continue }
      const res = parseProfileText(text, name)
      if ('errors' in res) throw argumentInvalid(`Modbus profile ${file} is not valid: ${res.errors.join('; ')}`)
      return res.profile
    }
    throw argumentInvalid(`no Modbus profile '${name}' (looked for ${name}.json in ${profileDirs.join(', ')})`)
  }

  /** Full validation of a port: fields, devices, profiles, uniqueness of name, path and devices. */
  async function validate (input: SerialPortInput, prev: SerialPortConfig | undefined): Promise<SerialPortConfig> {
    const now = new Date(clock.now()).toISOString()
    if (typeof input.path !== 'string' || input.path.trim() === '') throw argumentInvalid('path is required (e.g. /dev/ttyUSB0, COM3 or a pty link)')
    const path = input.path.trim()
    const name = input.name ?? prev?.name ?? basename(path).replace(/[^A-Za-z0-9._-]/g, '_')
    if (!PORT_NAME.test(name)) throw argumentInvalid(`port name '${name}' must be letters, digits, ., _ or - (at most 64)`)
    const cfg: SerialPortConfig = {
      name,
      path,
      baudRate: input.baudRate ?? prev?.baudRate ?? 115200,
      dataBits: (input.dataBits ?? prev?.dataBits ?? 8) as SerialPortConfig['dataBits'],
      stopBits: (input.stopBits ?? prev?.stopBits ?? 1) as SerialPortConfig['stopBits'],
      parity: (input.parity ?? prev?.parity ?? 'none') as Parity,
      protocol: (input.protocol ?? prev?.protocol ?? 'line') as SerialProtocol,
      enabled: input.enabled ?? prev?.enabled ?? true,
      keepAliveSec: input.keepAliveSec ?? prev?.keepAliveSec ?? 30,
      maxLineBytes: input.maxLineBytes ?? prev?.maxLineBytes ?? 8192,
      timeoutMs: input.timeoutMs ?? prev?.timeoutMs ?? 1000,
      devices: (input.devices ?? prev?.devices ?? []).map((d) => ({ ...d })),
      createdTime: prev?.createdTime ?? now,
      updatedTime: now
    }
    if (!isInt(cfg.baudRate, 50, 4_000_000)) throw argumentInvalid('baudRate must be an integer from 50 to 4000000')
    if (!isInt(cfg.dataBits, 5, 8)) throw argumentInvalid('dataBits must be 5, 6, 7 or 8')
    if (cfg.stopBits !== 1 && cfg.stopBits !== 2) throw argumentInvalid('stopBits must be 1 or 2')
    if (!PARITIES.includes(cfg.parity)) throw argumentInvalid(`parity must be one of ${PARITIES.join(', ')}`)
    if (!PROTOCOLS.includes(cfg.protocol)) throw argumentInvalid(`protocol must be 'line' (Sitehub line protocol v1) or 'modbus' (Modbus RTU)`)
    if (typeof cfg.enabled !== 'boolean') throw argumentInvalid('enabled must be true or false')
    if (!isInt(cfg.keepAliveSec, 1, 3600)) throw argumentInvalid('keepAliveSec must be an integer from 1 to 3600')
    if (!isInt(cfg.maxLineBytes, 256, 1_048_576)) throw argumentInvalid('maxLineBytes must be an integer from 256 to 1048576')
    if (!isInt(cfg.timeoutMs, 20, 60_000)) throw argumentInvalid('timeoutMs must be an integer from 20 to 60000')
    if (!Array.isArray(cfg.devices)) throw argumentInvalid('devices must be a list')
    const ids = new Set<string>()
    const addresses = new Set<number>()
    for (const [i, d] of cfg.devices.entries()) {
      if (typeof d !== 'object' || d === null || typeof d.deviceId !== 'string' || !DEVICE_ID.test(d.deviceId)) throw argumentInvalid(`devices[${i}].deviceId is not a valid device id`)
      if (ids.has(d.deviceId)) throw argumentInvalid(`device '${d.deviceId}' is listed twice on port ${name}`)
      ids.add(d.deviceId)
      if (d.address !== undefined) {
        if (!isInt(d.address, 1, 247)) throw argumentInvalid(`devices[${i}].address must be an integer from 1 to 247`)
        if (addresses.has(d.address)) throw argumentInvalid(`address ${d.address} is used twice on port ${name}`)
        addresses.add(d.address)
      }
      if (cfg.protocol === 'modbus') {
        if (d.address === undefined) throw argumentInvalid(`device '${d.deviceId}': a Modbus device needs its unit id as address (1..247)`)
        if (d.profile === undefined) throw argumentInvalid(`device '${d.deviceId}': a Modbus device needs a profile`)
        await loadProfile(d.profile)
      } else if (d.profile !== undefined) {
        throw argumentInvalid(`device '${d.deviceId}': profiles are for Modbus ports only`)
      }
    }
    if (cfg.protocol === 'line' && cfg.devices.length > 1 && addresses.size !== cfg.devices.length) {
      throw argumentInvalid('a multidrop line-protocol port needs an address for every device')
    }
    for (const [other, o] of store.entries('serialPorts')) {
      if (other === name) continue
      if (o.path === cfg.path) throw argumentInvalid(`port ${other} already uses ${cfg.path}`)
      for (const d of o.devices) if (ids.has(d.deviceId)) throw argumentInvalid(`device '${d.deviceId}' is already configured on port ${other}`)
    }
    return cfg
  }

  const closedStatus = (c: SerialPortConfig): SerialPortStatus => ({
    name: c.name,
    path: c.path,
    protocol: c.protocol,
    state: c.enabled ? 'closed' : 'disabled',
    since: c.updatedTime,
    lastError: null,
    retryAt: null,
    counters: emptyCounters(),
    devices: c.devices.map((d) => ({ deviceId: d.deviceId, ...(d.address === undefined ? {} : { address: d.address }), connected: false, lastActivity: null, errors: 0, lastError: null }))
  })

  return {
    list: () => [...store.entries('serialPorts')].map(([, c]) => c),
    get: (name) => store.get('serialPorts', name),
    async add (input) {
      if (typeof input !== 'object' || input === null) throw argumentInvalid('a serial port needs at least a path')
      if (input.name !== undefined && store.has('serialPorts', input.name)) throw argumentInvalid(`a serial port named ${input.name} already exists`)
      const cfg = await validate(input, undefined)
      if (store.has('serialPorts', cfg.name)) throw argumentInvalid(`a serial port named ${cfg.name} already exists; pass another name`)
      await store.put('serialPorts', cfg.name, cfg)
      notify(cfg.name, cfg)
      return cfg
    },
    async update (name, changes) {
      const prev = store.get('serialPorts', name)
      if (prev === undefined) throw argumentInvalid(`there is no serial port named ${name}`)
      const cfg = await validate({ ...prev, ...changes, name }, prev)
      await store.put('serialPorts', name, cfg)
      notify(name, cfg)
      return cfg
    },
    async remove (name) {
      if (!store.has('serialPorts', name)) throw argumentInvalid(`there is no serial port named ${name}`)
      await store.del('serialPorts', name)
      notify(name, null)
    },
    onChange (fn) {
      listeners.add(fn)
      return () => { listeners.delete(fn) }
    },
    async machinePorts () {
      try {
        const { SerialPort } = await import('serialport')
        const list = await SerialPort.list()
        return {
          ports: list.map((p) => {
            const m: MachinePort = { path: p.path }
            if (p.manufacturer !== undefined) m.manufacturer = p.manufacturer
            if (p.serialNumber !== undefined) m.serialNumber = p.serialNumber
            if (p.vendorId !== undefined) m.vendorId = p.vendorId
            if (p.productId !== undefined) m.productId = p.productId
            return m
          })
        }
      } catch (err) {
        // Without udev, list() rejects with `spawn udevadm ENOENT`; ptys are never listed anyway.
        return { ports: [], error: `the OS port list is unavailable (${(err as Error).message}); enter the port path by hand` }
      }
    },
    status () {
      return [...store.entries('serialPorts')].map(([name, c]) => runtime?.status(name) ?? closedStatus(c))
    },
    setRuntime (rt) { runtime = rt },
    profiles: {
      dirs: profileDirs,
      async list () {
        const out: ProfileInfo[] = []
        const seen = new Set<string>()
        for (const dir of profileDirs) {
          let files: string[]
          try { files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort() } catch { continue }
          for (const f of files) {
            const name = f.slice(0, -5)
            if (seen.has(name)) continue
            seen.add(name)
            const file = join(dir, f)
            const res = parseProfileText(await readFile(file, 'utf8'), name)
            out.push({ name, file, errors: 'errors' in res ? res.errors : null })
          }
        }
        return out
      },
      load: loadProfile
    }
  }
}
