// Local admin channel: lets the CLI manage a running hub over a user-only socket.
export { startAdminServer, type AdminServer } from './server.js'
export { createAdminClient, HubNotRunningError, type AdminClient } from './client.js'
export { createAdminDispatcher, type AdminDispatcher } from './handlers.js'
export {
  adminSocketPath, ADMIN_METHODS, type AdminMethods, type AdminMethodName, type AdminParams, type AdminResult, type HubStatus, type IdentityParams
} from './protocol.js'
