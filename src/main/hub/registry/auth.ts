// Device and service authentication (protocol A.2, A.3).
import type { AuthResult, DeviceCredentials } from '../services.js'
import type { DeviceRecord, Permission, SharedAccessPolicy } from '../types.js'
import { covers, parseResource, parseSasToken, verifySignature } from './sas.js'

/** Tokens a little past their expiry are still refused; clocks a little behind are tolerated (A.3: ~5 min drift). */
const SKEW_S = 300

export interface AuthDeps {
  hostNames: () => string[]
  record: (deviceId: string, moduleId?: string) => DeviceRecord | undefined
  policy: (name: string) => SharedAccessPolicy | undefined
  nowMs: () => number
}

function hostMatches (host: string, names: string[]): boolean {
  // The device may have used `host:port` as its HostName; the port then appears in sr (section 0).
  const bare = host.replace(/:\d+$/, '')
  return names.some((n) => n.toLowerCase() === bare)
}

export function authenticateDevice (deps: AuthDeps, creds: DeviceCredentials): AuthResult {
  const rec = deps.record(creds.deviceId, creds.moduleId)
  const who = creds.moduleId === undefined ? `device '${creds.deviceId}'` : `module '${creds.deviceId}/${creds.moduleId}'`
  if (!rec) return { ok: false, reason: `${who} is not registered` }
  if (rec.status !== 'enabled') return { ok: false, reason: `${who} is disabled` }
  if (creds.sasToken !== undefined && creds.sasToken !== '') return checkDeviceToken(deps, rec, creds, who)
  if (creds.certThumbprints) return checkThumbprint(rec, creds.certThumbprints, who)
  return { ok: false, reason: `${who} presented neither a SAS token nor a client certificate` }
}

function checkDeviceToken (deps: AuthDeps, rec: DeviceRecord, creds: DeviceCredentials, who: string): AuthResult {
  const token = parseSasToken(creds.sasToken ?? '')
  if (token instanceof Error) return { ok: false, reason: `bad SAS token: ${token.message}` }
  const now = Math.floor(deps.nowMs() / 1000)
  if (token.se <= now - SKEW_S) return { ok: false, reason: `SAS token expired at ${new Date(token.se * 1000).toISOString()}` }
  const res = parseResource(token.sr)
  if (res instanceof Error) return { ok: false, reason: res.message }
  if (!hostMatches(res.host, deps.hostNames())) return { ok: false, reason: `SAS token is for host '${res.host}', not this hub` }
  const target = creds.moduleId === undefined ? ['devices', creds.deviceId] : ['devices', creds.deviceId, 'modules', creds.moduleId]
  if (!covers(res.segments, target)) return { ok: false, reason: `SAS token resource '${decodeURIComponent(token.sr)}' does not cover ${who}` }
  if (token.skn === undefined) {
    const { primaryKey, secondaryKey } = rec.authentication.symmetricKey
    if (rec.authentication.type !== 'sas') return { ok: false, reason: `${who} does not use SAS authentication` }
    // Device keys sign only the device's own resource (or deeper), never a hub-wide one.
    if (res.segments.length < 2) return { ok: false, reason: 'a device key cannot sign a hub-wide token' }
    if (verifySignature(token, primaryKey) || verifySignature(token, secondaryKey)) return { ok: true }
    return { ok: false, reason: `SAS token signature does not match ${who}'s keys` }
  }
  const policy = deps.policy(token.skn)
  if (!policy) return { ok: false, reason: `unknown policy '${token.skn}'` }
  if (!policy.rights.includes('DeviceConnect')) return { ok: false, reason: `policy '${token.skn}' lacks DeviceConnect` }
  if (verifySignature(token, policy.primaryKey) || verifySignature(token, policy.secondaryKey)) return { ok: true }
  return { ok: false, reason: `SAS token signature does not match policy '${token.skn}'` }
}

function checkThumbprint (rec: DeviceRecord, tp: { sha1: string; sha256: string }, who: string): AuthResult {
  const auth = rec.authentication
  if (auth.type === 'selfSigned') {
    const known = [auth.x509Thumbprint.primaryThumbprint, auth.x509Thumbprint.secondaryThumbprint]
      .filter((t): t is string => typeof t === 'string' && t !== '')
      .map((t) => t.replace(/[:\s]/g, '').toUpperCase())
    if (known.includes(tp.sha1.toUpperCase()) || known.includes(tp.sha256.toUpperCase())) return { ok: true }
    return { ok: false, reason: `client certificate thumbprint does not match ${who}` }
  }
  if (auth.type === 'certificateAuthority') {
    return { ok: false, reason: `${who} uses CA-signed certificates, which this hub does not verify yet` }
  }
  return { ok: false, reason: `${who} does not use X.509 authentication` }
}

export function authenticateService (deps: AuthDeps, raw: string, need: Permission):
{ ok: true; policy: SharedAccessPolicy } | { ok: false; reason: string } {
  const token = parseSasToken(raw)
  if (token instanceof Error) return { ok: false, reason: token.message }
  if (token.skn === undefined) return { ok: false, reason: 'service tokens need a policy name (skn)' }
  if (token.se <= Math.floor(deps.nowMs() / 1000) - SKEW_S) return { ok: false, reason: 'token expired' }
  const res = parseResource(token.sr)
  if (res instanceof Error) return { ok: false, reason: res.message }
  if (!hostMatches(res.host, deps.hostNames())) return { ok: false, reason: `token is for host '${res.host}', not this hub` }
  const policy = deps.policy(token.skn)
  if (!policy) return { ok: false, reason: `unknown policy '${token.skn}'` }
  if (!verifySignature(token, policy.primaryKey) && !verifySignature(token, policy.secondaryKey)) {
    return { ok: false, reason: `signature does not match policy '${token.skn}'` }
  }
  if (!policy.rights.includes(need)) return { ok: false, reason: `policy '${token.skn}' lacks ${need}` }
  return { ok: true, policy }
}
