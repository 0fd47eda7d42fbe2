// Shared access policies (A.3): iothubowner, service, device, registryRead, registryReadWrite.
import { HubError, argumentInvalid } from '../errors.js'
import type { PolicyService } from '../services.js'
import type { HubStore } from '../store/types.js'
import type { Permission, SharedAccessPolicy } from '../types.js'
import { generateKey } from './keys.js'

export const DEFAULT_POLICIES: Record<string, Permission[]> = {
  iothubowner: ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect'],
  service: ['ServiceConnect'],
  device: ['DeviceConnect'],
  registryRead: ['RegistryRead'],
  registryReadWrite: ['RegistryRead', 'RegistryWrite']
}

const PERMISSIONS: Permission[] = ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect']
const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/

export function createPolicyService (deps: { store: HubStore; hostName: () => string }): PolicyService & { ensureDefaults(): Promise<void> } {
  const { store } = deps
  const copy = (p: SharedAccessPolicy): SharedAccessPolicy => ({ ...p, rights: [...p.rights] })
  const mustGet = (name: string): SharedAccessPolicy => {
    const p = store.get('policies', name)
    if (!p) throw new HubError('ArgumentInvalid', `There is no shared access policy named '${name}'.`)
    return p
  }
  return {
    async ensureDefaults () {
      const missing = Object.entries(DEFAULT_POLICIES).filter(([name]) => !store.has('policies', name))
      if (missing.length === 0) return
      await store.batch(missing.map(([keyName, rights]) => ({
        op: 'put' as const, c: 'policies' as const, id: keyName, doc: { keyName, rights, primaryKey: generateKey(), secondaryKey: generateKey() }
      })))
    },
    list: () => [...store.entries('policies')].map(([, p]) => copy(p)),
    get: (name) => {
      const p = store.get('policies', name)
      return p ? copy(p) : undefined
    },
    async add (name, rights) {
      if (!NAME_RE.test(name)) throw argumentInvalid(`Policy name '${name}' must be 1-64 letters, digits, '_', '.' or '-'.`)
      if (store.has('policies', name)) throw argumentInvalid(`A policy named '${name}' already exists.`)
      const bad = rights.filter((r) => !PERMISSIONS.includes(r))
      if (bad.length > 0 || rights.length === 0) throw argumentInvalid(`Rights must be some of ${PERMISSIONS.join(', ')}.`)
      const p: SharedAccessPolicy = { keyName: name, rights: [...new Set(rights)], primaryKey: generateKey(), secondaryKey: generateKey() }
      await store.put('policies', name, p)
      return copy(p)
    },
    async remove (name) {
      mustGet(name)
      if (name === 'iothubowner') throw argumentInvalid('The iothubowner policy cannot be removed.')
      await store.del('policies', name)
    },
    async regenerate (name, which) {
      const p = { ...mustGet(name) }
      if (which !== 'secondary') p.primaryKey = generateKey()
      if (which !== 'primary') p.secondaryKey = generateKey()
      await store.put('policies', name, p)
      return copy(p)
    },
    connectionString (name) {
      const p = mustGet(name)
      return `HostName=${deps.hostName()};SharedAccessKeyName=${p.keyName};SharedAccessKey=${p.primaryKey}`
    }
  }
}
