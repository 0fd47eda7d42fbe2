// Builds the 'hub.status' answer from a running hub. Plain Node (no electron import).
import type { HubStatus } from '../../shared/contract/index.js'
import { describeEndpoints } from '../hub/api/ui/status.js'
import type { RunningHub } from '../hub/server.js'

export { describeEndpoints }

/** The part of startServer()'s result the status needs (tests pass fakes). */
export interface StatusSource {
  hub: { registry: Pick<RunningHub['hub']['registry'], 'count'>; connections: Pick<RunningHub['hub']['connections'], 'count'> }
  endpoints: RunningHub['endpoints']
}

export type HubSlot =
  | { state: 'starting' }
  | { state: 'running'; server: StatusSource }
  | { state: 'failed'; error: string }

export function hubStatus (slot: HubSlot): HubStatus {
  switch (slot.state) {
    case 'starting':
      return { state: 'starting', endpoints: [], devices: 0, connected: 0 }
    case 'failed':
      return { state: 'failed', endpoints: [], devices: 0, connected: 0, error: slot.error }
    case 'running': {
      const { hub, endpoints } = slot.server
      return {
        state: 'running',
        endpoints: describeEndpoints(endpoints),
        devices: hub.registry.count().total,
        connected: hub.connections.count()
      }
    }
  }
}
