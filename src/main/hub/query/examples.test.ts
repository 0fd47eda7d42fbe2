// Every D.3 example against the example fixture (fixture.ts), with the documented result shapes.
import { describe, expect, it } from 'vitest'
import { createIndexedCollection } from './collection.js'
import { createQueryEngine, type QueryEngine } from './engine.js'
import { exampleJobRecords, exampleModuleTwins, exampleTwins } from './fixture.js'
import type { JsonValue, TwinDocument } from '../types.js'

const twins = [...exampleTwins(), ...exampleModuleTwins()]
const jobs = exampleJobRecords()

// Each example runs twice: over plain iterables (compiled scan) and over IndexedCollections
// (index plans); results must be identical.
const scanEngine = createQueryEngine({ twins: () => twins, jobs: () => jobs, maxPageSize: 1000 })
const indexedTwins = createIndexedCollection<TwinDocument>()
for (const t of twins) indexedTwins.upsert(t.moduleId === undefined ? t.deviceId : `${t.deviceId}/${t.moduleId}`, t)
const indexedJobs = createIndexedCollection<object>()
jobs.forEach((j, i) => indexedJobs.upsert(String(i), j))
const indexedEngine = createQueryEngine({ twins: indexedTwins, jobs: indexedJobs, maxPageSize: 1000 })

const ids = (rows: JsonValue[]): string[] => rows.map((r) => (r as { deviceId: string }).deviceId)

describe.each([['scan', scanEngine], ['indexed', indexedEngine]] as Array<[string, QueryEngine]>)('D.3 examples (%s)', (_name, engine) => {
  const run = (q: string): JsonValue[] => engine.run(q)

  it('1: SELECT * FROM devices -> whole device twins (no module twins)', () => {
    const rows = run('SELECT * FROM devices')
    expect(rows).toHaveLength(12)
    expect(rows[0]).toEqual(exampleTwins()[0])
    expect(rows.every((r) => !Object.hasOwn(r as object, 'moduleId'))).toBe(true)
  })

  it('2: tag equality', () => {
    expect(ids(run("SELECT * FROM devices WHERE tags.location.region = 'US'"))).toEqual(['AZ3166Device', 'sensor-01', 'sensor-02'])
  })

  it('3: AND with a numeric comparison', () => {
    expect(ids(run("SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60")))
      .toEqual(['AZ3166Device', 'sensor-02'])
  })

  it('4: IN', () => {
    expect(ids(run("SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']"))).toEqual(['AZ3166Device', 'sensor-01'])
  })

  it('5: NIN', () => {
    const rows = ids(run("SELECT * FROM devices WHERE deviceId NIN ['a', 'b']"))
    expect(rows).toHaveLength(10)
    expect(rows).not.toContain('a')
    expect(rows).not.toContain('b')
  })

  it('6: is_defined is true for a null value', () => {
    expect(ids(run('SELECT * FROM devices WHERE is_defined(properties.reported.connectivity)')))
      .toEqual(['AZ3166Device', 'sensor-01', 'sensor-02', 'sensor-03'])
  })

  it('7: COUNT() AS', () => {
    expect(run('SELECT COUNT() AS totalNumberOfDevices FROM devices')).toEqual([{ totalNumberOfDevices: 12 }])
  })

  it('8: GROUP BY with COUNT (groups in order of first appearance; the undefined group omits the key)', () => {
    const rows = run('SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices FROM devices GROUP BY properties.reported.telemetryConfig.status')
    // Twins without telemetryConfig.status form a group without that key (D.2 UNVERIFIED);
    // sensor-04 (the first of them) comes before 'b' (Error) in collection order.
    expect(rows).toEqual([{ numberOfDevices: 3, status: 'Success' }, { numberOfDevices: 2, status: 'Pending' }, { numberOfDevices: 6 }, { numberOfDevices: 1, status: 'Error' }])
    // With a WHERE excluding them, exactly the documented shape.
    expect(run('SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices FROM devices WHERE is_defined(properties.reported.telemetryConfig.status) GROUP BY properties.reported.telemetryConfig.status'))
      .toEqual([{ numberOfDevices: 3, status: 'Success' }, { numberOfDevices: 2, status: 'Pending' }, { numberOfDevices: 1, status: 'Error' }])
  })

  it('9: projection keys come back in the document casing', () => {
    expect(run("SELECT DeviceId, LastActivityTime FROM devices WHERE status = 'enabled' AND connectionState = 'Disconnected'"))
      .toEqual([{ deviceId: 'AZ3166Device', lastActivityTime: '2021-05-07T00:50:38.0543092Z' }])
  })

  it('10: TOP', () => {
    expect(ids(run('SELECT TOP 2 * FROM devices WHERE capabilities.iotEdge = true'))).toEqual(['a', 'b'])
  })

  it('11: devices.modules', () => {
    const rows = run("SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning' AND deviceId IN ['device1','device2']") as unknown as TwinDocument[]
    expect(rows.map((r) => `${r.deviceId}/${r.moduleId ?? ''}`)).toEqual(['device1/scanner', 'device2/scanner'])
    expect(rows[0]).toEqual(exampleModuleTwins()[1])
  })

  it('12: lower-case keywords, COUNT over modules', () => {
    expect(run("select count() as _count from devices.modules where moduleId = '$edgeAgent'")).toEqual([{ _count: 5 }])
  })

  it('13: devices.jobs with the devices.jobs. prefix', () => {
    expect(run("SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'myDeviceId'")).toEqual([{
      deviceId: 'myDeviceId',
      jobId: 'myJobId',
      jobType: 'scheduleUpdateTwin',
      status: 'completed',
      startTimeUtc: '2016-09-29T18:18:52.7418462',
      endTimeUtc: '2016-09-29T18:20:52.7418462',
      createdDateTimeUtc: '2016-09-29T18:18:56.7787107Z',
      lastUpdatedDateTimeUtc: '2016-09-29T18:18:56.8894408Z',
      outcome: { deviceMethodResponse: null }
    }])
  })

  it('14: records of one job with a status', () => {
    expect(ids(run("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'job01' AND devices.jobs.status = 'failed'"))).toEqual(['d1', 'd3'])
  })

  it('15: createdTimeUtc is accepted for createdDateTimeUtc (string comparison)', () => {
    const q = (field: string): JsonValue[] => run(`SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'd1' AND devices.jobs.jobType = 'scheduleUpdateTwin' AND devices.jobs.${field} > '2016-09-01'`)
    expect(q('createdTimeUtc').map((r) => (r as { jobId: string }).jobId)).toEqual(['job02'])
    expect(q('createdDateTimeUtc')).toEqual(q('createdTimeUtc'))
  })

  it("16: configurations.[[id]].status compares case-insensitively with 'Applied'", () => {
    expect(run("SELECT deviceId FROM devices WHERE configurations.[[chillersettings]].status = 'Applied'")).toEqual([{ deviceId: 'AZ3166Device' }, { deviceId: 'edge-01' }])
    expect(run("SELECT deviceId FROM devices WHERE configurations.[[chillersettings]].status IN ['APPLIED']")).toHaveLength(2)
    expect(run('SELECT configurations.[[chillersettings]].status AS s FROM devices WHERE deviceId = \'edge-01\'')).toEqual([{ s: 'applied' }])
  })

  it('17: escaped reserved word', () => {
    expect(ids(run("SELECT * FROM devices WHERE tags.[[group]].name = 'line-1'"))).toEqual(['edge-01'])
  })

  it('18: STARTSWITH', () => {
    expect(ids(run("SELECT * FROM devices WHERE STARTSWITH(deviceId, 'sensor-')"))).toEqual(['sensor-01', 'sensor-02', 'sensor-03', 'sensor-04'])
  })

  it('19: arithmetic in conditions (a string tempC is not a number)', () => {
    expect(ids(run('SELECT * FROM devices WHERE properties.reported.tempC * 1.8 + 32 > 100'))).toEqual(['AZ3166Device', 'device1'])
  })

  it('20: WHERE then GROUP BY', () => {
    expect(run("SELECT properties.reported.fw AS fw, COUNT() AS n FROM devices WHERE tags.site = 'A' GROUP BY properties.reported.fw"))
      .toEqual([{ fw: '1.2.0', n: 7 }, { fw: '1.3.0', n: 2 }])
  })

  it('21: job / ADM condition fragments', () => {
    const sel = (c: string): string[] => engine.select(c).map((t) => (t.moduleId === undefined ? t.deviceId : `${t.deviceId}/${t.moduleId}`))
    expect(sel("deviceId = 'MyDevice1'")).toEqual([])
    expect(sel("deviceId = 'device1'")).toEqual(['device1'])
    expect(sel("deviceId IN ['device1','device2']")).toEqual(['device1', 'device2'])
    expect(sel("tags.site='B'")).toEqual(['sensor-03', 'edge-02'])
    expect(sel('*')).toHaveLength(12)
    expect(sel("FROM devices.modules WHERE properties.reported.status='scanning'")).toEqual(['device1/scanner', 'device2/scanner', 'device3/scanner'])
    expect(sel('FROM devices.modules')).toHaveLength(8)
    expect(sel('')).toEqual([])
  })
})
