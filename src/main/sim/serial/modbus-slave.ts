// A Modbus RTU slave for tests and `sitehub simulate --serial PATH --modbus`: modbus-serial's
// ServerSerial over a serial port or pty, answering for one or more unit ids from plain arrays.
import { ServerSerial } from 'modbus-serial'

export interface SlaveMemory {
  holding: Uint16Array
  input: Uint16Array
  coils: Uint8Array
  discrete: Uint8Array
}

export interface ModbusSlave {
  /** Memory of one unit (created on first use). */
  unit(id: number): SlaveMemory
  /** Writes seen from the master: [unit, area, address, value]. */
  readonly writes: Array<[number, 'holding' | 'coil', number, number | boolean]>
  /** Stop answering (a hung device) or answer again. */
  mute(on: boolean): void
  close(): Promise<void>
}

const newMemory = (): SlaveMemory => ({ holding: new Uint16Array(65536), input: new Uint16Array(65536), coils: new Uint8Array(65536), discrete: new Uint8Array(65536) })

export async function startModbusSlave (opts: { path: string; baudRate?: number; units: number[] }): Promise<ModbusSlave> {
  const units = new Map<number, SlaveMemory>()
  for (const u of opts.units) units.set(u, newMemory())
  const writes: ModbusSlave['writes'] = []
  let muted = false
  const mem = (unit: number): SlaveMemory => {
    const m = units.get(unit)
    // an unknown unit id never answers (the master times out), as on a real bus
    if (m === undefined || muted) throw Object.assign(new Error('no such unit'), { modbusErrorCode: 0x0b })
    return m
  }
  const never = (): Promise<never> => new Promise(() => {})
  const vector = {
    getHoldingRegister: (addr: number, unit: number) => (units.has(unit) && !muted ? mem(unit).holding[addr] ?? 0 : never()),
    getInputRegister: (addr: number, unit: number) => (units.has(unit) && !muted ? mem(unit).input[addr] ?? 0 : never()),
    getCoil: (addr: number, unit: number) => (units.has(unit) && !muted ? mem(unit).coils[addr] === 1 : never()),
    getDiscreteInput: (addr: number, unit: number) => (units.has(unit) && !muted ? mem(unit).discrete[addr] === 1 : never()),
    setRegister: (addr: number, value: number, unit: number) => {
      if (!units.has(unit) || muted) return never()
      mem(unit).holding[addr] = value
      writes.push([unit, 'holding', addr, value])
      return undefined
    },
    setCoil: (addr: number, value: boolean, unit: number) => {
      if (!units.has(unit) || muted) return never()
      mem(unit).coils[addr] = value ? 1 : 0
      writes.push([unit, 'coil', addr, value])
      return undefined
    }
  }
  const server = await new Promise<ServerSerial>((resolve, reject) => {
    const s: ServerSerial = new ServerSerial(vector as never, {
      path: opts.path, baudRate: opts.baudRate ?? 115200, unitID: 255,
      openCallback: (err: Error | null | undefined) => { if (err) reject(err); else resolve(s) }
    } as never)
    s.on('error', () => {})
  })
  return {
    unit (id) {
      let m = units.get(id)
      if (m === undefined) units.set(id, m = newMemory())
      return m
    },
    writes,
    mute (on) { muted = on },
    close: () => new Promise<void>((resolve) => {
      try { server.close(() => { resolve() }) } catch { resolve() }
      setTimeout(resolve, 1000).unref()
    })
  }
}
