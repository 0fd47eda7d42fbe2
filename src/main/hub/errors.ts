// IoT Hub error codes (protocol C.1). A HubError carries the numeric code, its symbolic
// name and the HTTP status; transports map it to their wire format.

export const ErrorCodes = {
  ArgumentInvalid: 400004,
  ConnectionForcefullyClosedOnNewConnection: 400027,
  IotHubUnauthorizedAccess: 401002,
  IotHubUnauthorized: 401003,
  DeviceDisabled: 403012,
  DeviceMaximumQueueDepthExceeded: 403004,
  IotHubQuotaExceeded: 403002,
  DeviceNotFound: 404001,
  JobNotFound: 404002,
  ModuleNotFound: 404010,
  DeviceNotOnline: 404103,
  DeviceConnectionClosedRemotely: 404104,
  DeviceAlreadyExists: 409001,
  ModuleAlreadyExistsOnDevice: 409301,
  PreconditionFailed: 412001,
  MessageTooLarge: 413001,
  ThrottlingException: 429001,
  ThrottlingMaxActiveJobCountExceeded: 429004,
  JobQuotaExceeded: 403003,
  ServerError: 500001,
  ServiceUnavailable: 503001,
  GatewayTimeout: 504101,
  InvalidConfigurationTargetCondition: 400401,
  InvalidConfigurationContent: 400402,
  CannotModifyImmutableConfigurationContent: 400403,
  InvalidConfigurationCustomMetricsQuery: 400404,
  ConfigurationNotFound: 404301,
  ConfigurationCountLimitExceeded: 413101,
  // Accounts and sessions of the technician UI (Sitehub's own, in the IoT Hub numbering style).
  Unauthorized: 401201,
  SignInFailed: 401202,
  SetupRequired: 401203,
  Forbidden: 403201,
  AccountNotFound: 404201,
  AccountAlreadyExists: 409201,
  TooManySignInAttempts: 429201,
  /** Sitehub extension (docs/sync.md): no open sync conflict with that id. */
  SyncConflictNotFound: 404901
} as const

export type ErrorName = keyof typeof ErrorCodes

export class HubError extends Error {
  readonly code: number
  readonly errorName: ErrorName
  readonly httpStatus: number

  constructor (name: ErrorName, message: string) {
    super(message)
    this.name = 'HubError'
    this.errorName = name
    this.code = ErrorCodes[name]
    this.httpStatus = Math.floor(this.code / 1000)
  }
}

export function isHubError (err: unknown): err is HubError {
  return err instanceof HubError
}

export const argumentInvalid = (message: string): HubError => new HubError('ArgumentInvalid', message)
