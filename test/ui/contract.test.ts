// The contract's validators: what crosses the boundary is checked, typed and explained.
import { describe, expect, it } from 'vitest'
import { isMethodName, METHOD_NAMES, methodInputs, type MethodOutputs } from '../../src/shared/contract/index.js'

const check = (m: keyof typeof methodInputs, input: unknown) => methodInputs[m](input)

describe('contract method inputs', () => {
  it('knows every method by name, and nothing else', () => {
    expect(METHOD_NAMES).toContain('devices.list')
    expect(isMethodName('twins.patchDesired')).toBe(true)
    expect(isMethodName('toString')).toBe(false)
    expect(isMethodName('__proto__')).toBe(false)
    // output map and input map cover the same methods (also a compile-time check)
    const outputs: Record<keyof MethodOutputs, true> = Object.fromEntries(METHOD_NAMES.map(n => [n, true])) as Record<keyof MethodOutputs, true>
    expect(Object.keys(outputs).sort()).toEqual([...METHOD_NAMES].sort())
  })

  it('accepts good input and returns it typed', () => {
    expect(check('devices.get', { deviceId: 'press-12' })).toEqual({ ok: true, value: { deviceId: 'press-12' } })
    expect(check('hub.status', undefined)).toEqual({ ok: true, value: undefined })
    expect(check('fleet.summary', undefined)).toEqual({ ok: true, value: undefined })
    expect(check('twins.patchDesired', { deviceId: 'd', patch: { a: { b: [1, 'x', null] } }, etag: 'AAAA' }).ok).toBe(true)
    expect(check('methods.invoke', { deviceId: 'd', methodName: 'reboot', payload: null, responseTimeoutInSeconds: 30 }).ok).toBe(true)
  })

  it('refuses bad input with the field and the reason in plain words', () => {
    expect(check('devices.get', {})).toEqual({ ok: false, message: 'deviceId is required' })
    expect(check('devices.get', { deviceId: 'has space' })).toMatchObject({ ok: false, message: expect.stringMatching(/^deviceId must be 1-128 letters/) })
    expect(check('devices.get', { deviceId: 'x'.repeat(129) }).ok).toBe(false)
    expect(check('devices.get', { deviceId: 'd', extra: 1 })).toEqual({ ok: false, message: 'extra is not a known field' })
    expect(check('devices.get', 'd')).toEqual({ ok: false, message: 'input must be an object' })
    expect(check('devices.list', { limit: 0 })).toEqual({ ok: false, message: 'limit must be at least 1' })
    expect(check('devices.list', { limit: 1.5 })).toEqual({ ok: false, message: 'limit must be a whole number' })
    expect(check('devices.setStatus', { deviceId: 'd', status: 'off' })).toEqual({ ok: false, message: 'status must be one of enabled, disabled' })
    expect(check('twins.patchDesired', { deviceId: 'd', patch: [1] })).toEqual({ ok: false, message: 'patch must be a JSON object' })
    expect(check('methods.invoke', { deviceId: 'd', methodName: 'a/b' }).ok).toBe(false)
    expect(check('methods.invoke', { deviceId: 'd', methodName: 'm', responseTimeoutInSeconds: 1 })).toEqual({ ok: false, message: 'responseTimeoutInSeconds must be at least 5' })
    expect(check('hub.status', { x: 1 })).toEqual({ ok: false, message: 'input must be empty' })
  })

  it('refuses values JSON cannot carry (functions, NaN, class instances, deep nesting)', () => {
    expect(check('methods.invoke', { deviceId: 'd', methodName: 'm', payload: Number.NaN }).ok).toBe(false)
    expect(check('twins.patchTags', { deviceId: 'd', patch: { when: new Date() } }).ok).toBe(false)
    expect(check('twins.patchTags', { deviceId: 'd', patch: { f: () => 1 } }).ok).toBe(false)
    let deep: Record<string, unknown> = {}
    const root = deep
    for (let i = 0; i < 30; i++) { const n = {}; deep['x'] = n; deep = n }
    expect(check('twins.patchTags', { deviceId: 'd', patch: root }).ok).toBe(false)
  })
})
