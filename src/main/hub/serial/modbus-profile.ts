// Modbus device profiles: JSON files a technician adds to a profile folder (docs/modbus.md).
// validateProfile returns every problem with its JSON path instead of throwing (aedes style).

export type RegisterArea = 'holding' | 'input' | 'coil' | 'discrete'
export type RegisterType = 'bool' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32'

export interface RegisterSpec {
  /** Property name in telemetry and the twin. */
  name: string
  area: RegisterArea
  /** 0-based register or coil address. */
  address: number
  type: RegisterType
  /** value = raw * scale (and raw = value / scale when written). */
  scale: number
  unit?: string
  /** Poll interval in milliseconds. */
  interval: number
  telemetry: boolean
  reported: boolean
  /** A desired property of this name is written here (holding registers and coils only). */
  desired: boolean
  min?: number
  max?: number
}

/** A direct method mapped to a write: a coil (reboot, factory reset) or a holding register. */
export interface MethodSpec {
  area: 'coil' | 'holding'
  address: number
  value: number | boolean
}

export interface ModbusProfile {
  name: string
  description?: string
  /** 32-bit values: 'big' = high word first (the Modbus convention), 'little' = low word first. */
  wordOrder: 'big' | 'little'
  registers: RegisterSpec[]
  methods: Record<string, MethodSpec>
}

const AREAS: readonly RegisterArea[] = ['holding', 'input', 'coil', 'discrete']
const WORD_TYPES: readonly RegisterType[] = ['uint16', 'int16', 'uint32', 'int32', 'float32']
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const MIN_INTERVAL_MS = 50

export const wordsOf = (type: RegisterType): number => (type === 'uint32' || type === 'int32' || type === 'float32' ? 2 : 1)

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi

function checkRegister (r: unknown, path: string, errors: string[]): RegisterSpec | null {
  if (!isObj(r)) { errors.push(`${path}: must be an object`); return null }
  const n0 = errors.length
  const known = ['name', 'area', 'address', 'type', 'scale', 'unit', 'interval', 'telemetry', 'reported', 'desired', 'min', 'max', 'description']
  for (const k of Object.keys(r)) if (!known.includes(k)) errors.push(`${path}.${k}: unknown field (allowed: ${known.join(', ')})`)
  if (typeof r['name'] !== 'string' || !NAME.test(r['name'])) errors.push(`${path}.name: must be a property name (letters, digits, _; not starting with a digit)`)
  const area = r['area'] ?? 'holding'
  if (!AREAS.includes(area as RegisterArea)) errors.push(`${path}.area: must be one of ${AREAS.join(', ')}`)
  if (!isInt(r['address'], 0, 65535)) errors.push(`${path}.address: must be an integer from 0 to 65535`)
  const bits = area === 'coil' || area === 'discrete'
  const type = r['type'] ?? (bits ? 'bool' : 'uint16')
  if (bits && type !== 'bool') errors.push(`${path}.type: a ${String(area)} is always 'bool'`)
  if (!bits && !WORD_TYPES.includes(type as RegisterType)) errors.push(`${path}.type: must be one of ${WORD_TYPES.join(', ')}`)
  const scale = r['scale'] ?? 1
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale === 0) errors.push(`${path}.scale: must be a non-zero number`)
  if (r['unit'] !== undefined && typeof r['unit'] !== 'string') errors.push(`${path}.unit: must be a string`)
  const interval = r['interval'] ?? 1000
  if (!isInt(interval, MIN_INTERVAL_MS, 86_400_000)) errors.push(`${path}.interval: must be milliseconds, an integer from ${MIN_INTERVAL_MS} to 86400000`)
  for (const f of ['telemetry', 'reported', 'desired']) {
    if (r[f] !== undefined && typeof r[f] !== 'boolean') errors.push(`${path}.${f}: must be true or false`)
  }
  for (const f of ['min', 'max']) {
    if (r[f] !== undefined && (typeof r[f] !== 'number' || !Number.isFinite(r[f]))) errors.push(`${path}.${f}: must be a number`)
  }
  const desired = r['desired'] === true
  if (desired && (area === 'input' || area === 'discrete')) errors.push(`${path}.desired: ${String(area)} registers are read-only; only holding registers and coils can be written`)
  const telemetry = r['telemetry'] ?? !desired
  const reported = r['reported'] ?? desired
  if (telemetry === false && reported === false && !desired) errors.push(`${path}: set at least one of telemetry, reported, desired`)
  if (errors.length > n0) return null
  const spec: RegisterSpec = {
    name: r['name'] as string,
    area: area as RegisterArea,
    address: r['address'] as number,
    type: type as RegisterType,
    scale: scale as number,
    interval: interval as number,
    telemetry: telemetry as boolean,
    reported: reported as boolean,
    desired
  }
  if (typeof r['unit'] === 'string') spec.unit = r['unit']
  if (typeof r['min'] === 'number') spec.min = r['min']
  if (typeof r['max'] === 'number') spec.max = r['max']
  return spec
}

function checkMethod (m: unknown, path: string, errors: string[]): MethodSpec | null {
  if (!isObj(m)) { errors.push(`${path}: must be an object such as {"coil": 0} or {"holding": 40, "value": 1}`); return null }
  if (m['coil'] !== undefined) {
    if (!isInt(m['coil'], 0, 65535)) { errors.push(`${path}.coil: must be an integer from 0 to 65535`); return null }
    const value = m['value'] ?? true
    if (typeof value !== 'boolean') { errors.push(`${path}.value: a coil takes true or false`); return null }
    return { area: 'coil', address: m['coil'], value }
  }
  if (m['holding'] !== undefined) {
    if (!isInt(m['holding'], 0, 65535)) { errors.push(`${path}.holding: must be an integer from 0 to 65535`); return null }
    if (!isInt(m['value'], 0, 65535)) { errors.push(`${path}.value: a holding register takes an integer from 0 to 65535`); return null }
    return { area: 'holding', address: m['holding'], value: m['value'] }
  }
  errors.push(`${path}: needs "coil" (an address) or "holding" (an address) with "value"`)
  return null
}

/** Validates parsed JSON as a profile. `fallbackName` names a profile without a "name" (the file name). */
export function validateProfile (json: unknown, fallbackName?: string): { profile: ModbusProfile } | { errors: string[] } {
  const errors: string[] = []
  if (!isObj(json)) return { errors: ['the profile must be a JSON object with "registers"'] }
  const name = json['name'] ?? fallbackName
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) errors.push('name: must be letters, digits, ., _ or - (at most 64)')
  const wordOrder = json['wordOrder'] ?? 'big'
  if (wordOrder !== 'big' && wordOrder !== 'little') errors.push("wordOrder: must be 'big' or 'little'")
  if (json['description'] !== undefined && typeof json['description'] !== 'string') errors.push('description: must be a string')
  const regs = json['registers']
  const registers: RegisterSpec[] = []
  if (!Array.isArray(regs) || regs.length === 0) errors.push('registers: must be a non-empty list')
  else {
    const seen = new Set<string>()
    regs.forEach((r, i) => {
      const spec = checkRegister(r, `registers[${i}]`, errors)
      if (spec === null) return
      if (seen.has(spec.name)) errors.push(`registers[${i}].name: '${spec.name}' is used twice`)
      seen.add(spec.name)
      registers.push(spec)
    })
  }
  const methods: Record<string, MethodSpec> = {}
  const m = json['methods'] ?? {}
  if (!isObj(m)) errors.push('methods: must be an object {methodName: {"coil": address}}')
  else {
    for (const [k, v] of Object.entries(m)) {
      if (!NAME.test(k)) { errors.push(`methods.${k}: not a valid method name`); continue }
      const spec = checkMethod(v, `methods.${k}`, errors)
      if (spec !== null) methods[k] = spec
    }
  }
  if (errors.length > 0) return { errors }
  const profile: ModbusProfile = { name: name as string, wordOrder: wordOrder as 'big' | 'little', registers, methods }
  if (typeof json['description'] === 'string') profile.description = json['description']
  return { profile }
}

/** Parses file text; JSON syntax errors are reported like validation errors. */
export function parseProfileText (text: string, fallbackName?: string): { profile: ModbusProfile } | { errors: string[] } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return { errors: [`not valid JSON: ${(err as Error).message}`] }
  }
  return validateProfile(json, fallbackName)
}
