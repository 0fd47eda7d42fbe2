// Jobs in plain words (pure, unit-tested): the review sentence before a job starts ("runs
// reboot on 12 devices, 5 per minute, 22:00-04:00 Europe/Berlin, stops if 10% or more fail"),
// the phase labels of the list, and local <-> UTC start times for the schedule picker.
import type { JobPhase, JobPlan, WindowSpec } from '../../../shared/contract/index'

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

function daysText (days: WindowSpec['days']): string {
  if (days === undefined || days.length === 7) return ''
  const order = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
  const sorted = [...days].sort((a, b) => order.indexOf(a) - order.indexOf(b))
  const idx = sorted.map(d => order.indexOf(d))
  const run = idx.every((v, i) => i === 0 || v === (idx[i - 1] ?? 0) + 1)
  return run && sorted.length > 2 ? `${sorted[0] ?? ''}-${sorted[sorted.length - 1] ?? ''} ` : `${sorted.join(', ')} `
}

/** "Mon-Fri 22:00-04:00 Europe/Berlin". */
export function windowText (w: WindowSpec, jobZone: string | null): string {
  const zone = w.timeZone ?? jobZone
  return `${daysText(w.days)}${w.start}-${w.end}${zone === null || zone === undefined ? '' : ` ${zone}`}`
}

export function durationText (seconds: number): string {
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day')
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour')
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute')
  return plural(seconds, 'second')
}

export interface SummaryInput {
  type: 'scheduleDeviceMethod' | 'scheduleUpdateTwin'
  methodName: string | null
  deviceCount: number
  /** ISO; in the future = scheduled. */
  startTime: string | null
  plan: JobPlan
}

/** One sentence saying what the job will do, to read before confirming. */
export function jobSummary (j: SummaryInput, nowMs: number): string {
  const what = j.type === 'scheduleDeviceMethod' ? `runs ${j.methodName ?? 'a method'}` : 'changes desired properties'
  const parts = [`${what} on ${plural(j.deviceCount, 'device')}`]
  const p = j.plan
  if (j.startTime !== null && Date.parse(j.startTime) > nowMs + 1000) parts.push(`from ${utcText(j.startTime)}`)
  if (p.devicesPerMinute !== null) parts.push(`${p.devicesPerMinute} per minute`)
  if (p.maxConcurrency !== null) parts.push(`at most ${p.maxConcurrency} at once`)
  if (p.maintenanceWindow !== null) parts.push(`only ${p.maintenanceWindow.map(w => windowText(w, p.timeZone)).join(' or ')}`)
  if (p.deviceWindowTag === null) parts.push("ignores devices' own windows")
  if (p.inUseGuard !== null) parts.push(`skips devices whose ${p.inUseGuard.path.replace(/^properties\./, '')} is ${p.inUseGuard.values.map(v => JSON.stringify(v)).join(' or ')}`)
  if (p.abortThreshold !== null) {
    parts.push(`stops if ${p.abortThreshold.failurePercent}% or more fail (counted once ${plural(p.abortThreshold.minDevices, 'device')} finished)`)
  }
  parts.push(`gives up after ${durationText(p.maxExecutionTimeInSeconds)}`)
  return parts.join(', ')
}

export const PHASE_LABEL: Record<JobPhase, string> = {
  queued: 'queued',
  scheduled: 'scheduled',
  waiting: 'waiting for window',
  running: 'running',
  completed: 'completed',
  aborted: 'aborted',
  failed: 'failed',
  cancelled: 'cancelled'
}

/** "2026-11-26 21:00 UTC". */
export function utcText (iso: string): string {
  const d = new Date(iso)
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** A `datetime-local` value ("2026-11-26T22:00", the browser's zone) as an ISO instant, or undefined. */
export function localInputToIso (value: string): string | undefined {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value)) return undefined
  const ms = new Date(value).getTime() // no zone in the string: local time, by the spec
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined
}

/** An ISO instant as a `datetime-local` value in the browser's zone. */
export function isoToLocalInput (iso: string): string {
  const d = new Date(iso)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}
