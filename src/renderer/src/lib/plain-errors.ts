// Errors in plain words for the floor; the IoT Hub code stays in the small print.
import type { HubErrorInfo } from '../../../shared/contract/index'

const PLAIN: Record<string, string> = {
  DeviceNotFound: 'This device does not exist (it may have been deleted).',
  DeviceAlreadyExists: 'A device with this id already exists. Pick another id, or open the existing device.',
  DeviceNotOnline: 'The device is offline, so it cannot do this now. Check its power and network, then try again.',
  GatewayTimeout: 'The device did not answer in time. It may be busy or its connection may be poor.',
  PreconditionFailed: 'Someone else changed this twin after you opened it. Reload to see their change, then save again.',
  DeviceDisabled: 'This device is disabled. Enable it first.',
  ServiceUnavailable: 'The hub is not reachable right now.',
  IotHubUnauthorized: 'You are not allowed to do this.',
  ThrottlingException: 'The hub is busy. Wait a moment and try again.',
  JobNotFound: 'This job does not exist.',
  DeviceMaximumQueueDepthExceeded: 'Too many messages are waiting for this device.'
  // Sign-in and account errors: the hub's own messages are already plain words.
}

export function plainMessage (e: HubErrorInfo): string {
  return PLAIN[e.name] ?? e.message
}
