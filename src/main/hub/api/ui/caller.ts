// Who is calling the UI API: the session token the call carried and where it came from.
import type { Session } from '../../accounts/index.js'

export interface UiCaller {
  /** The session token sent with the call, if any. */
  token?: string | undefined
  /** The peer's IP address, or 'desktop' for the Electron window. */
  address: string
  /** Loopback connection or the desktop app: may run the first-run setup. */
  local: boolean
}

export interface CallContext {
  caller: UiCaller
  /** The caller's live session (absent for public methods called without one). */
  session: Session | undefined
}

/** The desktop window's caller: always local. */
export const desktopCaller = (token?: string): UiCaller => ({ token, address: 'desktop', local: true })
