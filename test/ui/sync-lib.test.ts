// Pure helpers of the sync screens: three-way field rows, resolutions from per-field choices,
// conflicts in words, the backlog drain.
import { describe, expect, it } from 'vitest'
import type { SyncConflictView } from '../../src/shared/contract/index.js'
import {
  conflictRows, conflictWords, fieldLabel, whoWords, drainView, duration, nextDrain, parseEdited, resolutionOf, sameChoice, showValue, valueAt, type Drain
} from '../../src/renderer/src/lib/sync.js'

const conflict = (over: Partial<SyncConflictView> = {}): SyncConflictView => ({
  id: 'dev1|desired', kind: 'desired', deviceId: 'dev1', detectedAt: '2026-11-26T10:00:00.000Z',
  base: { mode: 'normal' }, local: { mode: 'eco', extra: 1 }, cloud: { mode: 'turbo' }, fields: ['mode'],
  changes: { mode: { local: { at: '2026-11-26T09:58:00.000Z', by: 'tech1' }, cloud: { at: null, by: null } } }, perField: true,
  autoResolveAt: null, autoResolution: null, resolving: false,
  ...over
})

describe('three-way field rows', () => {
  it('gives path | base | site | cloud per conflicting field, with who/when per side', () => {
    expect(conflictRows(conflict())).toEqual([{
      path: 'mode', base: 'normal', local: 'eco', cloud: 'turbo',
      localChange: { at: '2026-11-26T09:58:00.000Z', by: 'tech1' }, cloudChange: { at: null, by: null }
    }])
  })

  it('reads nested paths and literal dotted keys; an absent side is undefined and shown as (not set)', () => {
    const c = conflict({
      fields: ['cfg.rate', 'authentication.symmetricKey.primaryKey', 'gone'],
      base: { cfg: { rate: 1 }, gone: 5 }, local: { cfg: { rate: 2 }, 'authentication.symmetricKey.primaryKey': 'aa' }, cloud: { cfg: { rate: 3 } }, changes: {}
    })
    const rows = conflictRows(c)
    expect(rows.map(r => [r.path, r.base, r.local, r.cloud])).toEqual([
      ['cfg.rate', 1, 2, 3],
      ['authentication.symmetricKey.primaryKey', undefined, 'aa', undefined],
      ['gone', 5, undefined, undefined]
    ])
    expect(rows[2]?.localChange).toEqual({ at: null, by: null })
    expect(showValue(undefined)).toBe('(not set)')
    expect(showValue({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}')
    expect(showValue(null)).toBe('null')
    expect(valueAt(null, 'a')).toBeUndefined()
    expect(valueAt({ a: [1] }, 'a.0')).toBeUndefined()
  })
})

describe('resolution from per-field choices', () => {
  const c = conflict({ fields: ['mode', 'threshold'] })
  it('is undefined until every field has a choice', () => {
    expect(resolutionOf(c, {})).toBeUndefined()
    expect(resolutionOf(c, { mode: 'cloud' })).toBeUndefined()
  })
  it('collapses to one side when every field keeps it', () => {
    expect(resolutionOf(c, { mode: 'cloud', threshold: 'cloud' })).toBe('cloud')
    expect(resolutionOf(c, { mode: 'local', threshold: 'local' })).toBe('local')
  })
  it('keeps the per-field form for mixed choices and edited values', () => {
    expect(resolutionOf(c, { mode: 'cloud', threshold: 'local' })).toEqual({ fields: { mode: 'cloud', threshold: 'local' } })
    expect(resolutionOf(c, { mode: { value: 'eco' }, threshold: { value: 4 } })).toEqual({ fields: { mode: { value: 'eco' }, threshold: { value: 4 } } })
  })
  it('parses edited values as JSON, else text', () => {
    expect(parseEdited('4')).toBe(4)
    expect(parseEdited(' {"a": true} ')).toEqual({ a: true })
    expect(parseEdited('eco mode')).toBe('eco mode')
    expect(parseEdited('"quoted"')).toBe('quoted')
    expect(parseEdited('')).toBe('')
    expect(sameChoice({ value: { a: 1 } }, { value: { a: 1 } })).toBe(true)
    expect(sameChoice('cloud', { value: 'cloud' })).toBe(false)
  })
})

describe('conflicts in words', () => {
  it('says what each registry choice does', () => {
    const keys = conflictWords(conflict({ kind: 'registry', id: 'p|registry', deviceId: 'p', fields: ['authentication.symmetricKey.primaryKey', 'status'] }))
    expect(keys.title).toBe('p has a different primary key and status (enabled/disabled) in the cloud than here at the site')
    expect(keys.keepCloud).toMatch(/new connection string/)
    const up = conflictWords(conflict({ kind: 'registry', deviceId: 'p', fields: ['deleted upstream'] }))
    expect(up.title).toBe('p was deleted in the cloud, but still exists here at the site')
    expect(up.keepCloud).toMatch(/^Delete p here/)
    expect(up.keepLocal).toMatch(/^Create p again in the cloud/)
    const local = conflictWords(conflict({ kind: 'localDeleted', deviceId: 'p', fields: ['deleted locally'] }))
    expect(local.keepCloud).toMatch(/^Bring p back/)
    expect(local.keepLocal).toBe('Delete p in the cloud too')
    const scope = conflictWords(conflict({ kind: 'registry', deviceId: 'p', fields: ['deviceScope'], cloud: { deviceScope: 'ms-azure-iot-edge://other-1' } }))
    expect(scope.title).toBe('p belongs to another edge in the cloud')
    expect(scope.detail).toContain('ms-azure-iot-edge://other-1')
  })
  it('names identity fields in words, twin paths as they are', () => {
    expect(fieldLabel('registry', 'authentication.symmetricKey.primaryKey')).toBe('primary key (fingerprint)')
    expect(fieldLabel('registry', 'status')).toBe('status (enabled/disabled)')
    expect(fieldLabel('desired', 'status')).toBe('status')
  })
  it('counts the fields of a desired or tags conflict', () => {
    expect(conflictWords(conflict({ fields: ['a', 'b'] })).title).toBe('dev1: 2 desired properties changed on both sides')
    expect(conflictWords(conflict({ kind: 'tags', fields: ['line'] })).title).toBe('dev1: 1 tag changed on both sides')
  })
})

describe('who, in words', () => {
  it('names the UI user, the REST policy, jobs, configurations, the device, the cloud and the policy', () => {
    expect(['ui:sam', 'ui', 'rest:iothubowner', 'job:j1', 'configuration:c1', 'device', 'cloud', 'policy', 'hub', 'odd'].map(whoWords)).toEqual([
      'sam (in the UI)', 'someone in the UI', 'the REST API (policy iothubowner)', 'job j1', 'configuration c1', 'the device', 'the cloud', 'the default policy', 'the hub', 'odd'
    ])
    expect(whoWords(null)).toBeNull()
  })
})

describe('backlog drain', () => {
  it('follows the peak while the backlog grows, and ends when it is empty', () => {
    let d: Drain | undefined
    d = nextDrain(d, 0, 0)
    expect(d).toBeUndefined()
    d = nextDrain(d, 100, 1000)
    d = nextDrain(d, 300, 2000) // offline, growing
    expect(d).toMatchObject({ peak: 300, pending: 300 })
    expect(drainView(d as Drain, 'offline')).toEqual({ done: 0, rate: null, secondsLeft: null })
    d = nextDrain(d, 200, 3000)
    d = nextDrain(d, 100, 4000)
    const v = drainView(d as Drain, 'online')
    expect(v.done).toBeCloseTo(2 / 3)
    // samples 100@1s, 300@2s, 200@3s, 100@4s: the window's first and last give 0 msg/s, so no rate yet
    expect(v.rate).toBeNull()
    for (let t = 5; t <= 13; t++) d = nextDrain(d, 100 - (t - 4) * 10, t * 1000) // 90 ... 10
    const w = drainView(d as Drain, 'online')
    expect(w.rate).toBeCloseTo(10)
    expect(w.secondsLeft).toBe(1)
    expect(nextDrain(d, 0, 15_000)).toBeUndefined()
  })
  it('writes durations for people', () => {
    expect(duration(12_400)).toBe('12 s')
    expect(duration(245_000)).toBe('4 min 5 s')
    expect(duration(3 * 3600_000 + 12 * 60_000)).toBe('3 h 12 min')
    expect(duration(50 * 3600_000)).toBe('2 d 2 h')
  })
})
