// Serial port configuration, as stored (collection 'serialPorts', keyed by port name), and the
// runtime status the serial transport reports for each port.

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space'
export type SerialProtocol = 'line' | 'modbus'

/** A device on a port. Line protocol: an allow-list entry (address on a multidrop line). Modbus: the slave. */
export interface SerialDeviceBinding {
  deviceId: string
  /** Line protocol multidrop address (1..247), or the Modbus unit id (1..247). */
  address?: number
  /** Modbus only: the profile name (a file NAME.json in a profile folder). */
  profile?: string
}

export interface SerialPortConfig {
  /** Unique name of the port in this hub (the key). */
  name: string
  /** OS path: /dev/ttyUSB0, COM3, or a pty link such as /tmp/x/ttyA. */
  path: string
  baudRate: number
  dataBits: 5 | 6 | 7 | 8
  stopBits: 1 | 2
  parity: Parity
  protocol: SerialProtocol
  enabled: boolean
  /** Line protocol: a device silent this long is pinged; silent for 3x this long it is disconnected. */
  keepAliveSec: number
  /** Line protocol: longer lines are dropped and counted (bytes, before the newline). */
  maxLineBytes: number
  /** Modbus: per-request timeout; consecutive timeouts mark the device disconnected. */
  timeoutMs: number
  devices: SerialDeviceBinding[]
  createdTime: string
  updatedTime: string
}

/** What `hub.serial.add` accepts: everything but name and path has a default. */
export interface SerialPortInput {
  name?: string
  path: string
  baudRate?: number
  dataBits?: number
  stopBits?: number
  parity?: string
  protocol?: string
  enabled?: boolean
  keepAliveSec?: number
  maxLineBytes?: number
  timeoutMs?: number
  devices?: SerialDeviceBinding[]
}

export type PortState = 'opening' | 'open' | 'closed' | 'backoff' | 'disabled'

/** Error and traffic counters of one port (the transport's view). */
export interface PortCounters {
  bytesIn: number
  bytesOut: number
  framesIn: number
  framesOut: number
  /** Lines that are not a frame: no checksum, not JSON, not an object, unknown type. */
  garbage: number
  badChecksum: number
  /** Requests the device sent again because our ack did not reach it (line protocol). */
  retransmits: number
  oversize: number
  /** Modbus requests that timed out or failed. */
  timeouts: number
  /** Port open failures and losses (cable pulled). */
  portErrors: number
  opens: number
  authFailures: number
}

export interface SerialDeviceStatus {
  deviceId: string
  address?: number
  connected: boolean
  lastActivity: string | null
  /** Frames or polls of this device that failed. */
  errors: number
  lastError: string | null
}

export interface SerialPortStatus {
  name: string
  path: string
  protocol: SerialProtocol
  state: PortState
  since: string
  lastError: string | null
  /** Next reopen attempt while in backoff. */
  retryAt: string | null
  counters: PortCounters
  devices: SerialDeviceStatus[]
}

/** A port the OS lists (SerialPort.list()). */
export interface MachinePort {
  path: string
  manufacturer?: string
  serialNumber?: string
  vendorId?: string
  productId?: string
}

export function emptyCounters (): PortCounters {
  return { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0, garbage: 0, badChecksum: 0, retransmits: 0, oversize: 0, timeouts: 0, portErrors: 0, opens: 0, authFailures: 0 }
}
