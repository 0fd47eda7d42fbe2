// @peculiar/x509 depends on tsyringe, which refuses to load without a Reflect metadata API
// ("tsyringe requires a reflect polyfill"). The library only needs lookups that come back
// empty (it is built without emitted design types), so this small WeakMap store is enough
// and saves a dependency. It installs nothing when a real polyfill is already present.
type Store = WeakMap<object, Map<PropertyKey | undefined, Map<unknown, unknown>>>

interface ReflectMetadataApi {
  getMetadata?: unknown
}

function install (): void {
  const reflect = Reflect as unknown as ReflectMetadataApi & Record<string, unknown>
  if (typeof reflect.getMetadata === 'function') return
  const store: Store = new WeakMap()
  const own = (target: object, prop: PropertyKey | undefined, create: boolean): Map<unknown, unknown> | undefined => {
    let byProp = store.get(target)
    if (byProp === undefined) {
      if (!create) return undefined
      byProp = new Map()
      store.set(target, byProp)
    }
    let map = byProp.get(prop)
    if (map === undefined && create) {
      map = new Map()
      byProp.set(prop, map)
    }
    return map
  }
  const getOwnMetadata = (key: unknown, target: object, prop?: PropertyKey): unknown => own(target, prop, false)?.get(key)
  const getMetadata = (key: unknown, target: object, prop?: PropertyKey): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const map = own(t, prop, false)
      if (map?.has(key) === true) return map.get(key)
    }
    return undefined
  }
  const defineMetadata = (key: unknown, value: unknown, target: object, prop?: PropertyKey): void => {
    own(target, prop, true)?.set(key, value)
  }
  Object.assign(reflect, {
    getOwnMetadata,
    getMetadata,
    defineMetadata,
    hasOwnMetadata: (key: unknown, target: object, prop?: PropertyKey) => own(target, prop, false)?.has(key) === true,
    hasMetadata: (key: unknown, target: object, prop?: PropertyKey) => getMetadata(key, target, prop) !== undefined,
    metadata: (key: unknown, value: unknown) => (target: object, prop?: PropertyKey) => { defineMetadata(key, value, target, prop) }
  })
}

install()
