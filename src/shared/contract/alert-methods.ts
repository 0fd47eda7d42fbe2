// Approvals on the fleet's alerts (spread into methods.ts): a supervisor or admin acknowledges
// an alert; it stays listed, marked with who and when, until the condition changes.
import { object, str, type Validator } from './validate.js'

export const alertMethodInputs = {
  /** `id` is the alert's id from fleet.summary. */
  'alerts.acknowledge': object({ id: str({ min: 1, max: 64 }) })
} as const satisfies Record<string, Validator<unknown>>

export interface AlertMethodOutputs {
  'alerts.acknowledge': { id: string; acknowledged: { by: string; at: string } }
}
