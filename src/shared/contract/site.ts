// The contract of the site screens: serial ports, the firmware library (upload from the UI)
// and the hub's settings. Model types, input validators and outputs; methods.ts spreads
// `siteMethodInputs` into the method table and extends MethodOutputs with `SiteMethodOutputs`.
import type { FirmwareImageView } from './model.js'
import { bool, int, none, object, oneOf, optional, str, type Check, type Validator } from './validate.js'

// ---- serial ports -------------------------------------------------------------------------

export type SerialProtocolName = 'line' | 'modbus'
export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space'
export type SerialPortState = 'opening' | 'open' | 'closed' | 'backoff' | 'disabled'

export interface SerialDeviceBindingView {
  deviceId: string
  /** Line protocol multidrop address or the Modbus unit id (1..247); null = a single line-protocol device. */
  address: number | null
  /** Modbus profile name; null on line-protocol ports. */
  profile: string | null
}

export interface SerialPortConfigView {
  name: string
  path: string
  baudRate: number
  dataBits: number
  stopBits: number
  parity: SerialParity
  protocol: SerialProtocolName
  enabled: boolean
  keepAliveSec: number
  maxLineBytes: number
  timeoutMs: number
  devices: SerialDeviceBindingView[]
  createdTime: string
  updatedTime: string
}

export interface SerialCountersView {
  bytesIn: number
  bytesOut: number
  framesIn: number
  framesOut: number
  /** Lines that are no frame (not JSON, unknown type, bad address). */
  garbage: number
  /** CRC errors. */
  badChecksum: number
  /** Requests the device sent again because our ack was lost. */
  retransmits: number
  oversize: number
  /** Modbus requests that timed out or failed. */
  timeouts: number
  portErrors: number
  opens: number
  authFailures: number
}

export interface SerialDeviceStatusView {
  deviceId: string
  address: number | null
  connected: boolean
  lastActivity: string | null
  errors: number
  lastError: string | null
  /** The device id exists in the registry (an unregistered device is refused when it identifies). */
  registered: boolean
}

export interface SerialPortStatusView {
  name: string
  path: string
  protocol: SerialProtocolName
  state: SerialPortState
  since: string
  lastError: string | null
  /** Next reopen attempt while in backoff. */
  retryAt: string | null
  counters: SerialCountersView
  devices: SerialDeviceStatusView[]
}

export interface SerialPortView { config: SerialPortConfigView; status: SerialPortStatusView }

export interface MachinePortView {
  path: string
  manufacturer: string | null
  serialNumber: string | null
  vendorId: string | null
  productId: string | null
  /** The configured port using this path, if any. */
  configuredAs: string | null
}

export interface ModbusProfileView {
  name: string
  file: string
  /** Problems of an invalid profile file; null when valid. */
  errors: string[] | null
}

// ---- firmware upload ----------------------------------------------------------------------

/** Bytes per upload chunk: base64 makes 4/3 of it, well inside the WebSocket's 1 MB frame limit. */
export const FIRMWARE_CHUNK_BYTES = 512 * 1024
const CHUNK_BASE64 = Math.ceil(FIRMWARE_CHUNK_BYTES / 3) * 4

export interface FirmwareUploadStarted {
  uploadId: string
  /** Send chunks of at most this many bytes (before base64). */
  chunkBytes: number
}

export interface FirmwareUploadDone {
  image: FirmwareImageView
  /** False when the same name, version and bytes were already in the library. */
  created: boolean
}

// ---- settings -----------------------------------------------------------------------------

export type ThemeName = 'system' | 'light' | 'dark'

export interface HubSettingsView {
  offlineMinutes: number
  storeWarnPercent: number
  /** null = the whole disk. */
  storeQuotaBytes: number | null
  theme: ThemeName
  updatedAt: string | null
}

export interface StoreUsageView {
  /** Every file of the data dir. */
  usedBytes: number
  parts: { store: number; telemetry: number; firmware: number; other: number }
  /** The quota, or what the data dir uses plus the disk's free space. */
  limitBytes: number
  quotaBytes: number | null
  percent: number
  warnPercent: number
  diskFreeBytes: number | null
  diskTotalBytes: number | null
  measuredAt: string
}

export interface SettingsView {
  settings: HubSettingsView
  store: StoreUsageView
  /** The telemetry log's retention as the hub runs with it (set when it starts). */
  retention: { maxBytes: number; maxAgeMs: number }
  /** Who this hub is (read-only; set on the command line). */
  identity: { hostName: string; role: 'edge' | 'cloud'; bind: string; dataDir: string; mqttsPort: number; httpsPort: number; mqttPort: number | null }
}

// ---- validators ---------------------------------------------------------------------------

/** A list whose items each pass `item`. */
export function listOf<T> (item: Validator<T>, opts: { max?: number } = {}): Validator<T[]> {
  return (v, p = '') => {
    if (!Array.isArray(v)) return { ok: false, message: `${p || 'input'} must be a list` }
    if (opts.max !== undefined && v.length > opts.max) return { ok: false, message: `${p || 'input'} must have at most ${opts.max} entries` }
    const out: T[] = []
    for (const [i, x] of v.entries()) {
      const r: Check<T> = item(x, `${p || 'input'}[${i}]`)
      if (!r.ok) return r
      out.push(r.value)
    }
    return { ok: true, value: out }
  }
}

/** null, or a value passing `v`. */
export function nullable<T> (v: Validator<T>): Validator<T | null> {
  return (x, p) => (x === null ? { ok: true, value: null } : v(x, p))
}

const DEVICE_ID_RE = /^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/
const PORT_NAME = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, patternHint: 'must be letters, digits, . _ or - (starting with a letter or digit)' })
const IMAGE_ID = (what: string): Validator<string> => str({ min: 1, max: 128, pattern: /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/, patternHint: `must be the ${what}: letters, digits, . _ + - (starting with a letter or digit)` })
const UPLOAD_ID = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9-]+$/, patternHint: 'is not an upload id' })

const serialDevice = object({
  deviceId: str({ pattern: DEVICE_ID_RE, patternHint: "must be 1-128 letters, digits or - . + % _ # * ? ! ( ) , : = @ $ '" }),
  address: optional(nullable(int({ min: 1, max: 247 }))),
  profile: optional(nullable(str({ min: 1, max: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, patternHint: 'must be a profile name (letters, digits, . _ -)' })))
})

const portFields = {
  path: str({ min: 1, max: 256 }),
  baudRate: optional(int({ min: 50, max: 4_000_000 })),
  dataBits: optional(int({ min: 5, max: 8 })),
  stopBits: optional(int({ min: 1, max: 2 })),
  parity: optional(oneOf(['none', 'even', 'odd', 'mark', 'space'] as const)),
  protocol: optional(oneOf(['line', 'modbus'] as const)),
  enabled: optional(bool),
  keepAliveSec: optional(int({ min: 1, max: 3600 })),
  maxLineBytes: optional(int({ min: 256, max: 1_048_576 })),
  timeoutMs: optional(int({ min: 20, max: 60_000 })),
  devices: optional(listOf(serialDevice, { max: 247 }))
}

export const siteMethodInputs = {
  'serial.list': none,
  'serial.machinePorts': none,
  'serial.profiles': none,
  /** A new port; everything but the path has a default (115200 8N1, line protocol). */
  'serial.add': object({ name: optional(PORT_NAME), ...portFields }),
  /** Changes a port (by name): any field, including its devices (the whole list). */
  'serial.update': object({ name: PORT_NAME, ...portFields, path: optional(str({ min: 1, max: 256 })) }),
  'serial.remove': object({ name: PORT_NAME }),

  'firmware.uploadBegin': object({
    name: IMAGE_ID('image name'),
    version: IMAGE_ID('version'),
    size: int({ min: 1, max: 1024 * 1024 * 1024 }),
    sha256: str({ pattern: /^[0-9a-fA-F]{64}$/, patternHint: 'must be 64 hex digits (the SHA-256 of the file)' }),
    description: optional(str({ max: 1024 }))
  }),
  /** `data` is base64 of at most FIRMWARE_CHUNK_BYTES; `offset` must be the bytes sent so far. */
  'firmware.uploadChunk': object({
    uploadId: UPLOAD_ID,
    offset: int({ min: 0 }),
    data: str({ min: 1, max: CHUNK_BASE64, pattern: /^[A-Za-z0-9+/]*={0,2}$/, patternHint: 'must be base64' })
  }),
  'firmware.uploadFinish': object({ uploadId: UPLOAD_ID }),
  'firmware.uploadAbort': object({ uploadId: UPLOAD_ID }),
  /** Refused (409 FirmwareInUse) while a device installs it or a job or queued command would. */
  'firmware.remove': object({ name: IMAGE_ID('image name'), version: IMAGE_ID('version') }),

  'settings.get': none,
  'settings.update': object({
    offlineMinutes: optional(int({ min: 1, max: 10_080 })),
    storeWarnPercent: optional(int({ min: 1, max: 100 })),
    storeQuotaBytes: optional(nullable(int({ min: 16 * 1024 * 1024, max: Number.MAX_SAFE_INTEGER }))),
    theme: optional(oneOf(['system', 'light', 'dark'] as const))
  })
} as const satisfies Record<string, Validator<unknown>>

export interface SiteMethodOutputs {
  'serial.list': SerialPortView[]
  'serial.machinePorts': { ports: MachinePortView[]; error: string | null }
  'serial.profiles': ModbusProfileView[]
  'serial.add': SerialPortView
  'serial.update': SerialPortView
  'serial.remove': { name: string }
  'firmware.uploadBegin': FirmwareUploadStarted
  'firmware.uploadChunk': { received: number }
  'firmware.uploadFinish': FirmwareUploadDone
  'firmware.uploadAbort': { uploadId: string }
  'firmware.remove': { name: string; version: string }
  'settings.get': SettingsView
  'settings.update': SettingsView
}
