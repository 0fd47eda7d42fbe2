// Desired vs reported on the device page: plain echo and IoT Plug and Play acknowledgements.
import { describe, expect, it } from 'vitest'
import { desiredState, isWritableAck } from '../../src/renderer/src/lib/desired-state.js'

describe('desired state', () => {
  it('compares the same path when the device reports values back', () => {
    expect(desiredState('interval', 7, { interval: 7 })).toEqual({ state: 'applied' })
    expect(desiredState('interval', 7, { interval: 6 })).toEqual({ state: 'pending' })
    expect(desiredState('a.b', { x: 1 }, { a: { b: { x: 1 } } })).toEqual({ state: 'applied' })
    expect(desiredState('a.b', 1, {})).toEqual({ state: 'pending' })
  })

  it('reads a writable-property ack inside its value, and its code', () => {
    const ack = (value: unknown, ac: number, ad?: string): Record<string, never> => ({ config: { value, ac, av: 3, ...(ad === undefined ? {} : { ad }) } }) as never
    expect(desiredState('config.telemetryRateSeconds', 5, ack({ telemetryRateSeconds: 5 }, 200))).toEqual({ state: 'applied' })
    expect(desiredState('config.telemetryRateSeconds', 5, ack({ telemetryRateSeconds: 5 }, 202))).toEqual({ state: 'pending' })
    expect(desiredState('config.telemetryRateSeconds', 5, ack({ telemetryRateSeconds: 4 }, 200))).toEqual({ state: 'pending' })
    expect(desiredState('config.telemetryRateSeconds', -1, ack({ telemetryRateSeconds: -1 }, 400, 'must be 0 or more')))
      .toEqual({ state: 'refused', reason: 'must be 0 or more' })
    expect(desiredState('config.x', 1, ack({ x: 1 }, 500))).toEqual({ state: 'refused', reason: 'refused by the device (code 500)' })
    // a whole-property value (no sub-path) compares the ack's value itself
    expect(desiredState('mode', 'eco', { mode: { value: 'eco', ac: 200, av: 1 } })).toEqual({ state: 'applied' })
  })

  it('tells an ack from an ordinary object', () => {
    expect(isWritableAck({ value: 1, ac: 200, av: 1 })).toBe(true)
    expect(isWritableAck({ value: 1, ac: '200', av: 1 })).toBe(false)
    expect(isWritableAck({ ac: 200, av: 1 })).toBe(false)
    expect(isWritableAck([1])).toBe(false)
  })
})
