// Service connection strings: `HostName=h[:port];SharedAccessKeyName=p;SharedAccessKey=k`.
import { X509Certificate } from 'node:crypto'
import { argumentInvalid } from '../errors.js'
import { validateId } from '../registry/ids.js'

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

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/**
 * Checks a whole upstream before anything is stored (CLI, REST, UI and the API share it): the
 * connection string, the CA (one or more PEM certificates, each readable) and the edge's id.
 */
export function validateUpstreamSettings (s: { connectionString: string; ca?: string; edgeDeviceId?: string }): void {
  parseServiceConnectionString(s.connectionString)
  if (s.ca !== undefined) {
    const blocks = s.ca.match(PEM_CERT) ?? []
    if (blocks.length === 0) throw argumentInvalid('the upstream CA is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)')
    for (const [i, pem] of blocks.entries()) {
      try { new X509Certificate(pem) } catch (err) {
        throw argumentInvalid(`the upstream CA's certificate ${i + 1} is not readable: ${(err as Error).message}`)
      }
    }
  }
  if (s.edgeDeviceId !== undefined) {
    const bad = validateId(s.edgeDeviceId, 'edge device id')
    if (bad !== null) throw bad
  }
}
