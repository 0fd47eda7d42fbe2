import { describe, expect, it } from 'vitest'
import { isHubError } from '../errors.js'
import { validatePolicy, validateResolution } from './conflicts.js'

const desired = { id: 'd1|desired', kind: 'desired' as const, fields: ['cfg.max', 'mode'] }
const registry = { id: 'd1|registry', kind: 'registry' as const, fields: ['authentication.symmetricKey.primaryKey', 'status'] }
const refused = (fn: () => unknown): string => {
  try { fn() } catch (err) { if (isHubError(err) && err.errorName === 'ArgumentInvalid') return err.message; throw err }
  throw new Error('accepted')
}

describe('validateResolution', () => {
  it('accepts a whole side and a complete field-by-field decision, hand-written values included', () => {
    expect(validateResolution(desired, 'cloud')).toBe('cloud')
    expect(validateResolution(desired, { fields: { 'cfg.max': { value: 15 }, mode: 'local' } })).toEqual({ fields: { 'cfg.max': { value: 15 }, mode: 'local' } })
    expect(validateResolution(desired, { fields: { 'cfg.max': { value: null }, mode: { value: { a: [1, 2] } } } })).toEqual({ fields: { 'cfg.max': { value: null }, mode: { value: { a: [1, 2] } } } })
    expect(validateResolution(registry, { fields: { 'authentication.symmetricKey.primaryKey': 'cloud', status: 'cloud' } })).toEqual({ fields: { 'authentication.symmetricKey.primaryKey': 'cloud', status: 'cloud' } })
  })

  it('refuses what is not exactly the conflicting fields, bad shapes, values against the twin rules, split identities', () => {
    expect(refused(() => validateResolution(desired, 'both'))).toMatch(/'cloud', 'local' or/)
    expect(refused(() => validateResolution(desired, { fields: { mode: 'local' } }))).toMatch(/does not say what to keep for 'cfg.max'/)
    expect(refused(() => validateResolution(desired, { fields: { mode: 'local', 'cfg.max': 'cloud', other: 'cloud' } }))).toMatch(/'other' is not a conflicting field/)
    expect(refused(() => validateResolution(desired, { fields: { mode: 'local', 'cfg.max': 15 } }))).toMatch(/'cfg.max'/)
    expect(refused(() => validateResolution(desired, { fields: { mode: 'local', 'cfg.max': { value: { $bad: 1 } } } }))).toMatch(/\$bad/)
    expect(refused(() => validateResolution(desired, { fields: { mode: 'local', 'cfg.max': { value: 'x'.repeat(5000) } } }))).toMatch(/maximum/)
    expect(refused(() => validateResolution(registry, { fields: { 'authentication.symmetricKey.primaryKey': 'cloud', status: 'local' } }))).toMatch(/one side for the whole identity/)
    expect(refused(() => validateResolution(registry, { fields: { 'authentication.symmetricKey.primaryKey': { value: 'k' }, status: 'cloud' } }))).toMatch(/cannot be written by hand/)
  })
})

describe('validatePolicy', () => {
  it('accepts the three modes with minutes (fractions too), manual without minutes', () => {
    expect(validatePolicy({ mode: 'cloud-wins', afterMinutes: 1440 })).toEqual({ mode: 'cloud-wins', afterMinutes: 1440 })
    expect(validatePolicy({ mode: 'local-wins', afterMinutes: 0.05 })).toEqual({ mode: 'local-wins', afterMinutes: 0.05 })
    expect(validatePolicy({ mode: 'manual' })).toEqual({ mode: 'manual', afterMinutes: 0 })
  })
  it('refuses unknown modes and bad minutes', () => {
    expect(refused(() => validatePolicy({ mode: 'sometimes', afterMinutes: 1 }))).toMatch(/mode/)
    expect(refused(() => validatePolicy({ mode: 'cloud-wins' }))).toMatch(/afterMinutes/)
    expect(refused(() => validatePolicy({ mode: 'cloud-wins', afterMinutes: -1 }))).toMatch(/afterMinutes/)
    expect(refused(() => validatePolicy({ mode: 'cloud-wins', afterMinutes: '5' }))).toMatch(/afterMinutes/)
    expect(refused(() => validatePolicy(null))).toMatch(/object/)
  })
})
