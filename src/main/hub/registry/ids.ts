// Identity rules (protocol C.2): case-sensitive, <= 128 chars, ASCII letters/digits plus - : . + % _ # * ? ! ( ) , = @ ; $ '
import { argumentInvalid, type HubError } from '../errors.js'
import type { Identity, IdentityKey } from '../types.js'

const ID_RE = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/

export function validateId (id: unknown, what = 'device id'): HubError | null {
  if (typeof id !== 'string' || id.length === 0) return argumentInvalid(`A ${what} is required.`)
  if (id.length > 128) return argumentInvalid(`The ${what} '${id.slice(0, 20)}...' is longer than 128 characters.`)
  if (!ID_RE.test(id)) {
    return argumentInvalid(`The ${what} '${id}' contains characters that are not allowed; use ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '.`)
  }
  return null
}

export function identityKey (identity: Identity): IdentityKey {
  return identity.moduleId === undefined ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`
}

export function parseIdentityKey (key: IdentityKey): Identity {
  const slash = key.indexOf('/')
  return slash < 0 ? { deviceId: key } : { deviceId: key.slice(0, slash), moduleId: key.slice(slash + 1) }
}
