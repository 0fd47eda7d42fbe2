// Maintenance windows: a recurring weekly window in a site's time zone ("Mon-Fri 22:00-05:00
// Europe/Berlin"). Local time comes from Intl.DateTimeFormat with a timeZone, so daylight saving
// is the platform's, not ours. A window whose end is at or before its start runs overnight and
// belongs to the day it starts on.
import { argumentInvalid } from '../errors.js'

export const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const
export type Day = typeof DAYS[number]

export interface MaintenanceWindow {
  /** IANA zone, e.g. 'Europe/Berlin'. Default: the job's timeZone, else the site's. */
  timeZone?: string
  /** Days the window opens on. Default: every day. */
  days?: Day[]
  /** 'HH:MM' local time, 24-hour. */
  start: string
  /** 'HH:MM' local time; at or before start means the window runs past midnight. */
  end: string
}

interface Compiled { zone: string; days: boolean[]; start: number; end: number }

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter (zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
    formatters.set(zone, f)
  }
  return f
}

export function isTimeZone (zone: string): boolean {
  try {
    formatter(zone)
    return true
  } catch {
    return false
  }
}

/** Day of week (0 = Sunday), minute of day and second of minute at `ms` in `zone`. */
export function localTime (ms: number, zone: string): { day: number; minute: number; second: number } {
  let day = 0
  let hour = 0
  let minute = 0
  let second = 0
  for (const p of formatter(zone).formatToParts(ms)) {
    if (p.type === 'weekday') day = DAYS.indexOf(p.value as Day)
    else if (p.type === 'hour') hour = Number(p.value) % 24
    else if (p.type === 'minute') minute = Number(p.value)
    else if (p.type === 'second') second = Number(p.value)
  }
  return { day, minute: hour * 60 + minute, second }
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/

/** Validates a window (from a job body or a device tag); `where` names it in the error. */
export function parseWindow (raw: unknown, where: string): MaintenanceWindow {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw argumentInvalid(`${where} must be an object like {"timeZone":"Europe/Berlin","days":["Mon"],"start":"22:00","end":"05:00"}.`)
  const r = raw as Record<string, unknown>
  for (const k of Object.keys(r)) if (!['timeZone', 'days', 'start', 'end'].includes(k)) throw argumentInvalid(`${where}: unknown field '${k}' (allowed: timeZone, days, start, end).`)
  const w: MaintenanceWindow = { start: '', end: '' }
  for (const k of ['start', 'end'] as const) {
    const v = r[k]
    if (typeof v !== 'string' || !HHMM.test(v)) throw argumentInvalid(`${where}.${k} must be a 24-hour 'HH:MM' time, not ${JSON.stringify(v)}.`)
    w[k] = v
  }
  if (r['timeZone'] !== undefined) {
    if (typeof r['timeZone'] !== 'string' || !isTimeZone(r['timeZone'])) throw argumentInvalid(`${where}.timeZone ${JSON.stringify(r['timeZone'])} is not a time zone this hub knows (use an IANA name such as 'Europe/Berlin').`)
    w.timeZone = r['timeZone']
  }
  if (r['days'] !== undefined) {
    const d = r['days']
    if (!Array.isArray(d) || d.length === 0 || !d.every((x) => DAYS.includes(x as Day))) throw argumentInvalid(`${where}.days must be a non-empty list of ${DAYS.join(', ')}.`)
    w.days = [...new Set(d as Day[])]
  }
  return w
}

/** A list of windows (one object or an array): the device may be touched inside any of them. */
export function parseWindows (raw: unknown, where: string): MaintenanceWindow[] {
  const list = Array.isArray(raw) ? raw : [raw]
  if (list.length === 0) throw argumentInvalid(`${where} must not be an empty list.`)
  return list.map((w, i) => parseWindow(w, Array.isArray(raw) ? `${where}[${i}]` : where))
}

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

function compile (w: MaintenanceWindow, defaultZone: string): Compiled {
  const days = DAYS.map((d) => w.days === undefined || w.days.includes(d))
  return { zone: w.timeZone ?? defaultZone, days, start: minutes(w.start), end: minutes(w.end) }
}

function inside (c: Compiled, ms: number): boolean {
  const { day, minute } = localTime(ms, c.zone)
  const prev = (day + 6) % 7
  if (c.start < c.end) return c.days[day] === true && minute >= c.start && minute < c.end
  // Overnight (or a full 24 h when start == end): the tail belongs to the previous day's window.
  return (c.days[day] === true && minute >= c.start) || (c.days[prev] === true && minute < c.end)
}

/** Is `ms` inside any of the windows? An empty list means "no restriction". */
export function inWindows (windows: readonly MaintenanceWindow[], ms: number, defaultZone: string): boolean {
  return windows.length === 0 || windows.some((w) => inside(compile(w, defaultZone), ms))
}

/**
 * The next time (epoch ms, > ms) one of the windows opens: computed in local minutes, then
 * corrected once for a daylight-saving change in between. Where the start falls in a skipped
 * hour the answer may be early; the caller re-checks inWindows at wake-up and asks again.
 */
export function nextOpening (windows: readonly MaintenanceWindow[], ms: number, defaultZone: string): number {
  let best = Infinity
  for (const w of windows) {
    const c = compile(w, defaultZone)
    const { day, minute, second } = localTime(ms, c.zone)
    const base = ms - second * 1000 - (ms % 1000)
    for (let k = 0; k <= 7; k++) {
      if (c.days[(day + k) % 7] !== true) continue
      const delta = k * 1440 + c.start - minute
      if (delta <= 0) continue
      let at = base + delta * 60_000
      // Local minutes assume today's UTC offset: correct once for a daylight-saving change in between.
      const got = localTime(at, c.zone).minute
      const drift = ((c.start - got + 720 + 1440) % 1440) - 720
      if (drift !== 0 && at + drift * 60_000 > ms) at += drift * 60_000
      best = Math.min(best, at)
      break
    }
  }
  return best === Infinity ? ms + 60_000 : best
}
