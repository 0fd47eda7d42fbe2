import { describe, expect, it } from 'vitest'
import { COLLECTIONS, SCHEMA_VERSION, migrateOp, migrateSnapshot, v0ToV1, versionOf } from './migrations.js'

describe('store migrations', () => {
  it('v0 -> v1 wraps top-level collections and adds the journal cursor', () => {
    const v0 = { devices: { d1: { deviceId: 'd1' } }, twins: {}, junk: 5 }
    expect(v0ToV1(v0)).toEqual({
      schemaVersion: 1,
      journalSeq: 0,
      journalGen: 0,
      // every collection the code knows, empty unless the v0 file had it
      collections: { ...Object.fromEntries(COLLECTIONS.map((c) => [c, {}])), devices: { d1: { deviceId: 'd1' } } }
    })
    expect(v0).toEqual({ devices: { d1: { deviceId: 'd1' } }, twins: {}, junk: 5 }) // pure
  })

  it('migrateSnapshot runs from any known version to the current one', () => {
    expect(versionOf({})).toBe(0)
    const out = migrateSnapshot({ devices: { a: {} } })
    expect(out.schemaVersion).toBe(SCHEMA_VERSION)
    expect(out.collections['devices']).toEqual({ a: {} })
    const cur = migrateSnapshot({ schemaVersion: 1, journalSeq: 9, journalGen: 3, collections: { meta: { k: {} } } })
    expect(cur).toMatchObject({ journalSeq: 9, journalGen: 3 })
    expect(cur.collections['twins']).toEqual({})
  })

  it('refuses a newer version with a plain message', () => {
    expect(() => migrateSnapshot({ schemaVersion: SCHEMA_VERSION + 1 }, 'db.json')).toThrow(/db\.json was written with store schema v2/)
  })

  it('journal ops pass through the op steps', () => {
    const op = { op: 'del' as const, c: 'meta' as const, id: 'x' }
    expect(migrateOp(op, 0)).toEqual(op)
  })
})
