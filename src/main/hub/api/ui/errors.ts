// Any failure of a UI call becomes an error Result: HubErrors keep their IoT Hub code and
// name, query errors their position, anything else is a ServerError in plain words.
import { fail, type HubErrorInfo } from '../../../../shared/contract/index.js'
import { isHubError } from '../../errors.js'
import { FirmwareError } from '../../firmware/types.js'
import { QueryError } from '../../query/errors.js'

export function toErrorResult (err: unknown, shift = 0): { ok: false; error: HubErrorInfo } {
  if (err instanceof QueryError) {
    const q: NonNullable<HubErrorInfo['query']> = {}
    if (err.position !== undefined) {
      // A condition is run inside a generated SELECT: move the position back into the user's text.
      const offset = Math.max(1, err.position.offset - shift)
      q.position = { offset, line: err.position.line, column: err.position.line === 1 ? Math.max(1, err.position.column - shift) : err.position.column }
    }
    if (err.expected !== undefined) q.expected = err.expected
    if (err.found !== undefined) q.found = err.found
    // the message names the position too: the user's, not the generated SELECT's
    let message = err.message
    if (shift > 0 && q.position !== undefined) {
      message = message.replace(/\bposition \d+/, `position ${q.position.offset}`)
      if (q.position.line === 1) message = message.replace(/\bline 1, column \d+/, `line 1, column ${q.position.column}`)
    }
    return fail(err.code, err.errorName, message, q)
  }
  if (isHubError(err)) return fail(err.code, err.errorName, err.message)
  // The firmware library speaks HTTP statuses; 400 is ArgumentInvalid's code, others status*1000+1.
  if (err instanceof FirmwareError) return fail(err.status === 400 ? 400004 : err.status * 1000 + 1, err.errorName, err.message)
  // Sitehub's own errors with no IoT Hub number (CommandNotFound, ViewAlreadyExists, ...): the HTTP status stands in.
  if (err instanceof Error && typeof (err as { httpStatus?: unknown }).httpStatus === 'number' && typeof (err as { errorName?: unknown }).errorName === 'string') {
    const named = err as Error & { httpStatus: number; errorName: string }
    return fail(named.httpStatus, named.errorName, named.message)
  }
  const message = err instanceof Error ? err.message : String(err)
  return fail(500001, 'ServerError', `The hub could not do this: ${message}`)
}
