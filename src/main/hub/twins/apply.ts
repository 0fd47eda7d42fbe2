// Pure twin writes: a stored record plus a client's input gives the next record and what
// changed. No I/O, no clock, no events: twin-service.ts does those around these functions.
import { argumentInvalid, type HubError } from '../errors.js'
import type { JsonObject, TwinRecord } from '../types.js'
import { isJsonObject, own } from './json.js'
import { checkSection, checkSize } from './limits.js'
import { clearPatch, diffPatch, isEmpty, mergePatch } from './merge-patch.js'
import { updateMeta } from './metadata.js'

/** Sections a service write touches: an object, null (clear it), or absent. */
export interface ServiceSections {
  tags?: JsonObject | null
  desired?: JsonObject | null
}

export type WriteMode = 'patch' | 'replace'

export interface ServiceWrite {
  record: TwinRecord
  /** Effective changes with explicit nulls (A.7): what the device and the event stream get. */
  tagsChange: JsonObject
  desiredChange: JsonObject
}

/**
 * Reads a service PATCH/PUT body (C.3, B.3). `etag` and other read-only twin fields are
 * ignored; so are top-level `$metadata`/`$version` in properties (echoes of a fetched twin).
 * A PATCH may carry an empty `properties.reported` (the jobs e2e test sends one); a
 * non-empty one is refused. A PUT leaves reported alone, so it is ignored there.
 */
export function parseServiceBody (body: unknown, mode: WriteMode): ServiceSections | HubError {
  if (!isJsonObject(body)) return argumentInvalid('The twin body must be a JSON object')
  const out: ServiceSections = {}
  const tags = own(body, 'tags')
  if (tags === null) out.tags = null
  else if (tags !== undefined) {
    const err = checkSection('tags', tags)
    if (err) return err
    out.tags = tags as JsonObject
  }
  const props = own(body, 'properties')
  if (props === undefined || props === null) return out
  if (!isJsonObject(props)) return argumentInvalid('properties must be a JSON object')
  const desired = own(props, 'desired')
  if (desired === null) out.desired = null
  else if (desired !== undefined) {
    const stripped = isJsonObject(desired) ? withoutSystemKeys(desired) : desired
    const err = checkSection('desired', stripped)
    if (err) return err
    out.desired = stripped as JsonObject
  }
  const reported = own(props, 'reported')
  if (mode === 'patch' && reported !== undefined && reported !== null) {
    if (!isJsonObject(reported) || !isEmpty(withoutSystemKeys(reported))) {
      return argumentInvalid('properties.reported cannot be written by a service: only devices report properties')
    }
  }
  return out
}

/**
 * Applies a parsed service write. PATCH merges (null clears a section); PUT replaces tags
 * and desired wholesale, an absent section counting as empty. Desired $version grows only
 * when desired changed, twin `version` and the etag when tags or desired changed (B.2).
 * Writing values equal to the current ones changes nothing [UNVERIFIED against the cloud]:
 * that keeps re-applied edits (sync, jobs) from bumping versions or notifying devices.
 * Returns the unchanged record (same object) when nothing changed.
 */
export function applyServiceWrite (rec: TwinRecord, input: ServiceSections, mode: WriteMode, at: string): ServiceWrite | HubError {
  const t = mergePatch(rec.tags, sectionPatch(rec.tags, input.tags, mode))
  const d = mergePatch(rec.desired, sectionPatch(rec.desired, input.desired, mode))
  const sizeErr = checkSize('tags', t.value) ?? checkSize('desired', d.value)
  if (sizeErr) return sizeErr
  const tagsChanged = !isEmpty(t.change)
  const desiredChanged = !isEmpty(d.change)
  if (!tagsChanged && !desiredChanged) return { record: rec, tagsChange: {}, desiredChange: {} }
  const desiredVersion = desiredChanged ? rec.desiredVersion + 1 : rec.desiredVersion
  const record: TwinRecord = {
    ...rec,
    tags: tagsChanged ? t.value : rec.tags,
    desired: desiredChanged ? d.value : rec.desired,
    desiredVersion,
    desiredMeta: desiredChanged ? updateMeta(rec.desiredMeta, d.value, d.change, at, desiredVersion) : rec.desiredMeta,
    version: rec.version + 1,
    etagCounter: rec.etagCounter + 1
  }
  return { record, tagsChange: t.change, desiredChange: d.change }
}

/**
 * Applies a device's reported patch (A.7, B.3). Every accepted patch bumps reported
 * $version (the device gets it back in the 204) and the etag, even one that changes no
 * value; $metadata is refreshed on every path the device wrote, so $lastUpdated says
 * when the device last reported it.
 */
export function applyReportedPatch (rec: TwinRecord, patch: unknown, at: string): { record: TwinRecord; change: JsonObject } | HubError {
  const err = checkSection('reported', patch)
  if (err) return err
  const r = mergePatch(rec.reported, patch as JsonObject)
  const sizeErr = checkSize('reported', r.value)
  if (sizeErr) return sizeErr
  const record: TwinRecord = {
    ...rec,
    reported: r.value,
    reportedVersion: rec.reportedVersion + 1,
    reportedMeta: updateMeta(rec.reportedMeta, r.value, r.applied, at),
    etagCounter: rec.etagCounter + 1
  }
  return { record, change: r.change }
}

function sectionPatch (current: JsonObject, given: JsonObject | null | undefined, mode: WriteMode): JsonObject {
  if (mode === 'replace') return diffPatch(current, given ?? {})
  if (given === null) return clearPatch(current)
  return given ?? {}
}

function withoutSystemKeys (o: JsonObject): JsonObject {
  const { $metadata: _m, $version: _v, ...rest } = o
  return rest
}
