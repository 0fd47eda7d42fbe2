// Reported properties up, exactly once (docs/sync.md "Reported properties, up"), for devices
// (`dev:{id}`) and modules (`mod:{d}/{m}`) alike.
//
// The patch is the diff between the last reported state the cloud acknowledged (the shadow)
// and the local reported document. Before a patch goes out, a marker `sent:{stateKey}` is made
// durable; it is removed, atomically with the new shadow, once the cloud's 204 has arrived.
// A marker still present when the twin is pushed next (the edge died, the link dropped, the
// answer timed out) means the cloud may or may not have applied that patch: the edge then asks
// the cloud for the twin as the device sees it (`$iothub/twin/GET` on the device's own link,
// answered after any patch sent before it on that connection) and takes the cloud's reported
// section as the shadow. A patch the cloud applied is therefore not sent again; one it never
// got is part of the new diff; what changed locally since is sent after it, in order.
import type { HubStore, StoreOp } from '../store/types.js'
import { jsonEqual } from '../twins/json.js'
import { diffPatch, isEmpty } from '../twins/merge-patch.js'
import type { JsonObject } from '../types.js'
import type { DeviceLink } from './device-link.js'
import { stripMeta, type DeviceState } from './state.js'

const C = 'sync' as const

export interface ReportedCounters {
  /** Patches sent and acknowledged. */
  patchesSent: number
  /** Patches whose answer was lost and that the cloud had already applied (not sent again). */
  alreadyApplied: number
  /** Patches whose answer was lost and that the cloud had not applied (their content is part of the next diff). */
  notApplied: number
}

export interface ReportedPushTarget {
  /** Store key of the twin's sync state: `dev:{id}` or `mod:{d}/{m}`. */
  stateKey: string
  /** The local twin's reported section (with `$version`). */
  local(): JsonObject & { $version: number }
  link(): Promise<DeviceLink>
}

export const sentKey = (stateKey: string): string => `sent:${stateKey}`

/** A patch to this twin went out and its answer was never recorded. */
export const unconfirmed = (store: HubStore, stateKey: string): boolean => store.has(C, sentKey(stateKey))

/**
 * Brings the cloud's reported section of one twin to the local one. One call at a time per
 * twin (the caller's loop guarantees it). Throws when the link fails; the caller retries.
 */
export async function pushReported (store: HubStore, t: ReportedPushTarget, counters: ReportedCounters): Promise<void> {
  const read = (): DeviceState => ({ ...((store.get(C, t.stateKey) as DeviceState | undefined) ?? {}) })
  const local = t.local()
  const version = local.$version
  const st = read()
  const lost = unconfirmed(store, t.stateKey)
  if (st.reportedVersion === version && !lost) return
  const reported = stripMeta(local)
  let shadow = st.reportedShadow
  let rebased = false
  if (shadow === undefined || lost) {
    // No shadow yet, or the answer to the last patch was lost: what the cloud holds is the base.
    const cloud = stripMeta((await (await t.link()).getTwin()).reported)
    if (lost && shadow !== undefined) {
      // The edge is the only writer of these reported properties upstream and sends one patch
      // at a time: the cloud still holding the shadow means that patch never got applied.
      if (jsonEqual(cloud, shadow)) counters.notApplied++; else counters.alreadyApplied++
    }
    rebased = shadow === undefined || !jsonEqual(cloud, shadow)
    shadow = cloud
  }
  const patch = diffPatch(shadow, reported)
  if (!isEmpty(patch)) {
    const marker: StoreOp = { op: 'put', c: C, id: sentKey(t.stateKey), doc: { version } }
    if (rebased) {
      const s = read()
      s.reportedShadow = shadow
      await store.batch([{ op: 'put', c: C, id: t.stateKey, doc: s as unknown as JsonObject }, marker])
    } else await store.batch([marker])
    await (await t.link()).patchReported(patch)
    counters.patchesSent++
  }
  const now = read() // fresh: other writers may have changed the rest of the state meanwhile
  now.reportedShadow = reported
  now.reportedVersion = version
  await store.batch([
    { op: 'put', c: C, id: t.stateKey, doc: now as unknown as JsonObject },
    ...(unconfirmed(store, t.stateKey) ? [{ op: 'del' as const, c: C, id: sentKey(t.stateKey) }] : [])
  ])
}
