// Result envelopes: errors cross IPC and the WebSocket as data (Electron keeps only an
// Error's message), with the IoT Hub code and name for the small print.

export interface QueryErrorDetail {
  /** 1-based offset, line and column of the problem in the query text. */
  position?: { offset: number; line: number; column: number }
  expected?: string
  found?: string
}

export interface HubErrorInfo {
  /** IoT Hub error code, e.g. 404001; 0 for errors of the UI layer itself (transport, unknown method). */
  code: number
  /** Symbolic name, e.g. 'DeviceNotFound', 'PreconditionFailed'. */
  name: string
  /** Plain words for the technician. */
  message: string
  /** Query errors: where the text goes wrong. */
  query?: QueryErrorDetail
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: HubErrorInfo }

export const ok = <T>(value: T): Result<T> => ({ ok: true, value })
export const fail = (code: number, name: string, message: string, query?: QueryErrorDetail): { ok: false; error: HubErrorInfo } =>
  ({ ok: false, error: query === undefined ? { code, name, message } : { code, name, message, query } })

/** The renderer's typed error, rebuilt from an error result. */
export class HubCallError extends Error {
  readonly info: HubErrorInfo
  constructor (info: HubErrorInfo) {
    super(info.message)
    this.name = 'HubCallError'
    this.info = info
  }
}
