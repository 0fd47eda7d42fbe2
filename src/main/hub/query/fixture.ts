// Twin and job-record fixtures (B.1, E.3) for tests and benchmarks. Deterministic: the same
// n always gives the same documents, so timings and results are comparable between runs.
import type { DeviceJobRecord } from './engine.js'
import type { JsonObject, TwinDocument } from '../types.js'

const META = { $lastUpdated: '2019-12-29T00:58:49.9315265Z' }

export interface TwinSpec {
  deviceId: string
  moduleId?: string
  status?: 'enabled' | 'disabled'
  connectionState?: 'Connected' | 'Disconnected'
  lastActivityTime?: string
  tags?: JsonObject
  desired?: JsonObject
  reported?: JsonObject
  iotEdge?: boolean
  configurations?: Record<string, { status: 'targeted' | 'applied' }>
}

/** A twin document shaped like B.1 (tags omitted when empty, as rendered by the twin service). */
export function makeTwin (s: TwinSpec): TwinDocument {
  const doc: TwinDocument = {
    deviceId: s.deviceId,
    ...(s.moduleId === undefined ? {} : { moduleId: s.moduleId }),
    etag: 'AAAAAAAAAAE=',
    deviceEtag: 'MA==',
    status: s.status ?? 'enabled',
    statusReason: null,
    statusUpdateTime: '0001-01-01T00:00:00Z',
    connectionState: s.connectionState ?? 'Connected',
    lastActivityTime: s.lastActivityTime ?? '0001-01-01T00:00:00Z',
    cloudToDeviceMessageCount: 0,
    authenticationType: 'sas',
    x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    modelId: '',
    version: 2,
    ...(s.tags === undefined || Object.keys(s.tags).length === 0 ? {} : { tags: s.tags }),
    properties: {
      desired: { ...(s.desired ?? {}), $metadata: { ...META }, $version: 1 },
      reported: { ...(s.reported ?? {}), $metadata: { ...META }, $version: 1 }
    },
    capabilities: { iotEdge: s.iotEdge ?? false },
    deviceScope: '',
    parentScopes: []
  }
  if (s.configurations !== undefined) doc.configurations = s.configurations
  return doc
}

/** Small deterministic PRNG (mulberry32), so fixture attributes are not correlated with each other. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const FW = ['1.1.0', '1.2.0', '1.3.0', '2.0.0']
const REGIONS = ['US', 'EU', 'APAC']

/**
 * n device twins for benchmarks: `device-000000`…, tags.site `plant-0`…`plant-49`,
 * tags.location.region, properties.reported.fw one of four versions, reported tempC and
 * connectivity, desired telemetry interval. `tags.site = 'plant-7' AND
 * properties.reported.fw = '1.2.0'` selects about n/200 twins.
 */
export function buildFixtureTwins (n: number): TwinDocument[] {
  const rnd = prng(42)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const out: TwinDocument[] = []
  for (let i = 0; i < n; i++) {
    out.push(makeTwin({
      deviceId: `device-${String(i).padStart(6, '0')}`,
      connectionState: rnd() < 0.7 ? 'Connected' : 'Disconnected',
      status: rnd() < 0.95 ? 'enabled' : 'disabled',
      lastActivityTime: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      tags: { site: `plant-${Math.floor(rnd() * 50)}`, location: { region: pick(REGIONS) }, line: Math.floor(rnd() * 10) },
      desired: { telemetryInterval: pick([10, 30, 60]) },
      reported: { fw: pick(FW), tempC: Math.round(rnd() * 600) / 10, connectivity: pick(['wired', 'wifi', 'cellular']) },
      iotEdge: rnd() < 0.1
    }))
  }
  return out
}

/**
 * Twelve device twins covering every D.3 twin example (see query.test.ts for the expected
 * result of each): regions, telemetryConfig statuses (3 Success, 2 Pending, 1 Error), a null
 * `connectivity`, IoT Edge devices, the `group` tag, ADM configuration statuses.
 */
export function exampleTwins (): TwinDocument[] {
  const tc = (sendFrequencyInSecs: number, status: string): JsonObject => ({ telemetryConfig: { sendFrequencyInSecs, status } })
  return [
    makeTwin({
      deviceId: 'AZ3166Device', connectionState: 'Disconnected', lastActivityTime: '2021-05-07T00:50:38.0543092Z',
      tags: { location: { region: 'US' }, site: 'A' },
      reported: { ...tc(60, 'Success'), connectivity: 'wired', fw: '1.2.0', tempC: 40 },
      configurations: { chillersettings: { status: 'applied' } }
    }),
    makeTwin({ deviceId: 'sensor-01', tags: { location: { region: 'US' }, site: 'A' }, reported: { ...tc(30, 'Success'), connectivity: 'wifi', fw: '1.2.0', tempC: 20 } }),
    makeTwin({
      deviceId: 'sensor-02', tags: { location: { region: 'US' }, site: 'A' },
      reported: { ...tc(120, 'Pending'), connectivity: null, fw: '1.3.0' },
      configurations: { chillersettings: { status: 'targeted' } }
    }),
    makeTwin({
      deviceId: 'sensor-03', status: 'disabled', connectionState: 'Disconnected',
      tags: { location: { region: 'EU' }, site: 'B' }, reported: { ...tc(90, 'Success'), connectivity: 'cellular', fw: '1.2.0' }
    }),
    makeTwin({ deviceId: 'sensor-04', tags: { site: 'A' }, reported: { fw: '1.2.0', tempC: '40' } }),
    makeTwin({ deviceId: 'a', iotEdge: true, tags: { location: { region: 'EU' }, site: 'A' }, reported: { ...tc(60, 'Pending'), fw: '1.2.0' } }),
    makeTwin({ deviceId: 'b', iotEdge: true, tags: { location: { region: 'APAC' }, site: 'A' }, reported: { ...tc(10, 'Error'), fw: '1.3.0' } }),
    makeTwin({
      deviceId: 'edge-01', iotEdge: true, tags: { group: { name: 'line-1' }, site: 'A' }, reported: { fw: '1.2.0' },
      configurations: { chillersettings: { status: 'applied' } }
    }),
    makeTwin({ deviceId: 'edge-02', iotEdge: true, tags: { group: { name: 'line-2' }, site: 'B' } }),
    makeTwin({ deviceId: 'gateway-9' }),
    makeTwin({ deviceId: 'device1', tags: { site: 'A' }, reported: { fw: '1.2.0', tempC: 38 } }),
    makeTwin({ deviceId: 'device2', tags: { site: 'A' }, reported: { fw: '1.2.0' } })
  ]
}

/** Module twins (D.3 #11, #12): five `$edgeAgent` modules, three `scanner` modules reporting 'scanning'. */
export function exampleModuleTwins (): TwinDocument[] {
  return [
    makeTwin({ deviceId: 'device1', moduleId: '$edgeAgent' }),
    makeTwin({ deviceId: 'device1', moduleId: 'scanner', reported: { status: 'scanning' } }),
    makeTwin({ deviceId: 'device2', moduleId: 'scanner', reported: { status: 'scanning' } }),
    makeTwin({ deviceId: 'device2', moduleId: '$edgeAgent' }),
    makeTwin({ deviceId: 'device3', moduleId: 'scanner', reported: { status: 'scanning' } }),
    makeTwin({ deviceId: 'edge-01', moduleId: '$edgeAgent' }),
    makeTwin({ deviceId: 'edge-02', moduleId: '$edgeAgent' }),
    makeTwin({ deviceId: 'a', moduleId: '$edgeAgent', reported: { status: 'idle' } })
  ]
}

/** Per-device job records (E.3, D.3 #13–#15). */
export function exampleJobRecords (): DeviceJobRecord[] {
  const rec = (deviceId: string, jobId: string, jobType: string, status: string, created: string): DeviceJobRecord => ({
    deviceId, jobId, jobType, status,
    startTimeUtc: '2016-09-29T18:18:52.7418462',
    endTimeUtc: '2016-09-29T18:20:52.7418462',
    createdDateTimeUtc: created,
    lastUpdatedDateTimeUtc: '2016-09-29T18:18:56.8894408Z',
    outcome: { deviceMethodResponse: null }
  })
  return [
    rec('myDeviceId', 'myJobId', 'scheduleUpdateTwin', 'completed', '2016-09-29T18:18:56.7787107Z'),
    rec('d1', 'job01', 'scheduleDeviceMethod', 'failed', '2016-09-29T18:18:56.7787107Z'),
    rec('d2', 'job01', 'scheduleDeviceMethod', 'completed', '2016-09-29T18:18:56.7787107Z'),
    rec('d3', 'job01', 'scheduleDeviceMethod', 'failed', '2016-09-29T18:18:56.7787107Z'),
    rec('d1', 'job02', 'scheduleUpdateTwin', 'completed', '2016-09-30T10:00:00.0000000Z'),
    rec('d1', 'job00', 'scheduleUpdateTwin', 'completed', '2016-08-01T10:00:00.0000000Z')
  ]
}
