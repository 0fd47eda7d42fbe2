// Automatic device configurations on one twin (protocol F): a desired merge patch computed by
// the configurations service plus the twin's `configurations` map, written as one record.
// Pure: no I/O, no clock, no events (twin-service.ts does those).
import type { HubError } from '../errors.js'
import type { JsonObject, TwinRecord } from '../types.js'
import { jsonEqual } from './json.js'
import { checkSize } from './limits.js'
import { isEmpty, mergePatch } from './merge-patch.js'
import { updateMeta } from './metadata.js'

export type ConfigurationsMap = Record<string, { status: 'targeted' | 'applied' }>

export interface ConfigurationWrite {
  record: TwinRecord
  desiredChange: JsonObject
  configurationsChanged: boolean
}

/**
 * Applies a configuration desired patch (normal desired rules: `$version`++, `$metadata`,
 * `version` and etag) and replaces the `configurations` map (an empty map removes the field;
 * a map-only change bumps the etag, not `version`). Returns the same record when nothing changed.
 */
export function applyConfigurationWrite (rec: TwinRecord, desiredPatch: JsonObject, configurations: ConfigurationsMap, at: string): ConfigurationWrite | HubError {
  const d = mergePatch(rec.desired, desiredPatch)
  const desiredChanged = !isEmpty(d.change)
  if (desiredChanged) {
    const sizeErr = checkSize('desired', d.value)
    if (sizeErr) return sizeErr
  }
  const configurationsChanged = !jsonEqual(rec.configurations ?? {}, configurations)
  if (!desiredChanged && !configurationsChanged) return { record: rec, desiredChange: {}, configurationsChanged: false }
  const desiredVersion = desiredChanged ? rec.desiredVersion + 1 : rec.desiredVersion
  const { configurations: _old, ...rest } = rec
  const record: TwinRecord = {
    ...rest,
    desired: desiredChanged ? d.value : rec.desired,
    desiredVersion,
    desiredMeta: desiredChanged ? updateMeta(rec.desiredMeta, d.value, d.change, at, desiredVersion) : rec.desiredMeta,
    version: desiredChanged ? rec.version + 1 : rec.version,
    etagCounter: rec.etagCounter + 1,
    ...(Object.keys(configurations).length > 0 ? { configurations: structuredClone(configurations) } : {})
  }
  return { record, desiredChange: d.change, configurationsChanged }
}
