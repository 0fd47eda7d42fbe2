// Rendering stored twins for clients: the full document (B.1) and the device GET body (A.7).
// Everything returned is a fresh copy: callers may mutate it without touching the store.
import type { DeviceRecord, JsonObject, MetaNode, TwinDocument, TwinRecord } from '../types.js'
import { deviceEtag, twinEtag } from './etag.js'
import { cloneJson } from './json.js'

/**
 * The twin document of `GET /twins/{id}` and `SELECT * FROM devices` (B.1). Identity fields
 * are read-only copies of the registry entry. `tags` is omitted when empty, as the cloud
 * does (B.1: clients accept either); we do it the same way everywhere.
 */
export function renderTwin (rec: TwinRecord, device: DeviceRecord, connected: boolean): TwinDocument {
  const doc: TwinDocument = {
    deviceId: rec.deviceId,
    ...(rec.moduleId === undefined ? {} : { moduleId: rec.moduleId }),
    etag: twinEtag(rec.etagCounter),
    deviceEtag: deviceEtag(device.etagCounter),
    status: device.status,
    statusReason: device.statusReason,
    statusUpdateTime: device.statusUpdatedTime,
    connectionState: connected ? 'Connected' : 'Disconnected',
    lastActivityTime: device.lastActivityTime,
    cloudToDeviceMessageCount: device.cloudToDeviceMessageCount,
    authenticationType: device.authentication.type,
    x509Thumbprint: { ...device.authentication.x509Thumbprint },
    modelId: device.modelId,
    version: rec.version,
    ...(Object.keys(rec.tags).length === 0 ? {} : { tags: cloneJson(rec.tags) }),
    properties: {
      desired: withSystem(rec.desired, rec.desiredMeta, rec.desiredVersion),
      reported: withSystem(rec.reported, rec.reportedMeta, rec.reportedVersion)
    },
    capabilities: { ...device.capabilities },
    deviceScope: device.deviceScope,
    parentScopes: [...device.parentScopes]
  }
  if (rec.configurations !== undefined && Object.keys(rec.configurations).length > 0) {
    doc.configurations = cloneJson(rec.configurations)
  }
  return doc
}

/** The MQTT twin GET body (A.7): no tags, no $metadata. */
export function renderForDevice (rec: TwinRecord): { desired: JsonObject; reported: JsonObject } {
  return {
    desired: { ...cloneJson(rec.desired), $version: rec.desiredVersion },
    reported: { ...cloneJson(rec.reported), $version: rec.reportedVersion }
  }
}

type RenderedSection = TwinDocument['properties']['desired']

function withSystem (section: JsonObject, meta: MetaNode, version: number): RenderedSection {
  // MetaNode is not a JsonValue in the type system (optional fields), hence the cast.
  return { ...cloneJson(section), $metadata: cloneJson(meta), $version: version } as RenderedSection
}
