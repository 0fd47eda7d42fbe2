// Service connection strings: `HostName=h[:port];SharedAccessKeyName=p;SharedAccessKey=k`.
import { argumentInvalid } from '../errors.js'

export interface ServiceConnectionString {
  /** As written, used as the SAS resource and the MQTT username host (may carry :port). */
  hostName: string
  /** Where to connect (host part of HostName). */
  host: string
  /** HTTPS port (443 unless HostName carries one). */
  httpsPort: number
  keyName: string
  key: string
}

export function parseServiceConnectionString (cs: string): ServiceConnectionString {
  const fields: Record<string, string> = {}
  for (const part of cs.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  const hostName = fields['HostName']
  const keyName = fields['SharedAccessKeyName']
  const key = fields['SharedAccessKey']
  if (hostName === undefined || keyName === undefined || key === undefined || hostName === '' || key === '') {
    throw argumentInvalid('an upstream connection string needs HostName, SharedAccessKeyName and SharedAccessKey')
  }
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostName)
  if (m === null) throw argumentInvalid(`upstream HostName '${hostName}' is not a host name`)
  const host = (m[1] as string).replace(/^\[|\]$/g, '')
  return { hostName, host, httpsPort: m[2] === undefined ? 443 : Number(m[2]), keyName, key }
}
