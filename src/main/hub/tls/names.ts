// Which names and addresses the server certificate must cover.
import { isIP } from 'node:net'
import { hostname } from 'node:os'

export interface CertNames {
  dns: string[]
  ips: string[]
}

const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', ''])

// A DNS SAN is an IA5String holding a host name; skip anything else (e.g. odd machine names).
const DNS_NAME = /^[A-Za-z0-9*]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/

function stripBrackets (value: string): string {
  return value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value
}

/**
 * Host name (DNS, or IP when it is an IP literal), bind IP, extra names; a wildcard bind adds
 * the loopback addresses, `localhost` and the machine's host name, where clients will reach it.
 */
export function certNames (opts: { hostName: string; bind: string; extraNames?: string[] | undefined }): CertNames {
  const dns = new Set<string>()
  const ips = new Set<string>()
  const add = (raw: string): void => {
    const value = stripBrackets(raw.trim())
    if (value === '' || WILDCARD_BINDS.has(value)) return
    if (isIP(value) !== 0) ips.add(value)
    else if (DNS_NAME.test(value)) dns.add(value.toLowerCase())
  }
  add(opts.hostName)
  add(opts.bind)
  for (const name of opts.extraNames ?? []) add(name)
  if (WILDCARD_BINDS.has(stripBrackets(opts.bind.trim()))) {
    add('127.0.0.1')
    add('localhost')
    if (stripBrackets(opts.bind.trim()) === '::') add('::1')
    add(hostname())
  }
  return { dns: [...dns], ips: [...ips] }
}
