// The reported-property layout of the device management patterns (reboot, factory reset,
// configuration, firmware update). The simulator writes it, the ready-made reports and the UI
// read it: it is a contract, documented in docs/simulator.md. Add fields; never rename them.
//
// properties.reported:
//   deviceInfo     {manufacturer, model, serialNumber, simulated}
//   capabilities   {methods: string[], writable: string[], firmwareUpdate: true}
//   state          'running' | 'rebooting' | 'resetting' | 'updating'   (busy unless 'running')
//   rebootStatus   'rebooting' | 'completed'
//   lastReboot     ISO time the device last came back from a reboot
//   factoryReset   {status: 'resetting' | 'completed', progress: 0-100, lastReset: ISO}
//   firmware       {current, pending, status, progress, error, lastUpdate}
//   config         {value, ac, av, ad}   (IoT Plug and Play writable-property ack)
//   telemetry      {rateSeconds}

export const FIRMWARE_STATUSES = ['current', 'downloading', 'verifying', 'applying', 'rebooting', 'rollingBack', 'failed'] as const
export type FirmwareStatus = typeof FIRMWARE_STATUSES[number]
/** An update is under way: the device must not be touched by another update or a reboot job. */
export const FIRMWARE_IN_PROGRESS: readonly FirmwareStatus[] = ['downloading', 'verifying', 'applying', 'rebooting', 'rollingBack']

export interface ReportedFirmware {
  /** Version running now. */
  current: string
  /** Image name of the running version (null for the factory image). */
  currentName?: string | null
  /** Version being installed (or whose install failed, with status 'failed'); null when none. */
  pending: string | null
  pendingName?: string | null
  status: FirmwareStatus
  /** 0-100 within the current status (download percent while downloading). */
  progress: number
  /** Why the last update failed; absent (deleted with null) after a success. */
  error?: { code: string; message: string } | null
  /** ISO time of the last status change. */
  lastUpdate: string
}

export const DEVICE_STATES = ['running', 'rebooting', 'resetting', 'updating'] as const
export type DeviceState = typeof DEVICE_STATES[number]

export type RebootStatus = 'rebooting' | 'completed'

/** IoT Plug and Play writable-property acknowledgement codes (ac). */
export const ACK = { applied: 200, pending: 202, invalid: 400, failed: 500 } as const

export interface WritableAck<T = unknown> {
  value: T
  ac: number
  av: number
  ad?: string
}

/** Direct methods the patterns define. */
export const METHODS = { reboot: 'reboot', factoryReset: 'factoryReset', firmwareUpdate: 'firmwareUpdate' } as const
