// The endpoint list of 'hub.status', shared by the headless UI server and the Electron shell.
import type { HubEndpoint } from '../../../../shared/contract/index.js'
import type { Endpoints } from '../../server.js'

export function describeEndpoints (e: Endpoints): HubEndpoint[] {
  const list: HubEndpoint[] = [{ name: 'MQTT (TLS)', url: e.mqtts }]
  if (e.mqtt !== null) list.push({ name: 'MQTT (plain)', url: e.mqtt })
  list.push({ name: 'MQTT over WebSocket', url: e.websocket }, { name: 'Service API', url: e.https })
  if (e.ui !== undefined) list.push({ name: 'Technician UI', url: e.ui })
  return list
}
