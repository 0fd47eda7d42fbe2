import { useEffect, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import type { HubApi, HubEndpoint } from '../../shared/contract/index'
import { ErrorNote } from './components/ErrorNote'
import { DeviceDetail } from './screens/DeviceDetail'
import { Devices } from './screens/Devices'
import { Configurations } from './screens/Configurations'
import { Fleet } from './screens/Fleet'
import { Jobs } from './screens/Jobs'
import { Provision } from './screens/Provision'
import { Sync } from './screens/Sync'
import { SyncConflicts } from './screens/SyncConflicts'
import { createConfigurationsStore } from './state/configurations'
import { createDevicesStore } from './state/devices'
import { createFleetStore } from './state/fleet'
import { createJobsStore } from './state/jobs'
import { createSyncStore } from './state/sync'
import type { HubStatusStore } from './state/hub-status'

export type Route =
  | { screen: 'fleet' }
  | { screen: 'devices'; query: string }
  | { screen: 'device'; deviceId: string }
  | { screen: 'provision' }
  | { screen: 'jobs'; query: string }
  | { screen: 'configurations' }
  | { screen: 'sync' }
  | { screen: 'syncConflicts'; id: string | undefined; deviceId: string | undefined }

export function parseRoute (hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?')
  const parts = path.split('/').filter(Boolean)
  if (parts[0] === 'devices' && parts[1] !== undefined) return { screen: 'device', deviceId: decodeURIComponent(parts[1]) }
  if (parts[0] === 'devices') return { screen: 'devices', query: new URLSearchParams(search).get('q') ?? '' }
  if (parts[0] === 'provision') return { screen: 'provision' }
  if (parts[0] === 'configurations') return { screen: 'configurations' }
  if (parts[0] === 'sync' && parts[1] === 'conflicts') {
    const q = new URLSearchParams(search)
    return { screen: 'syncConflicts', id: q.get('id') ?? undefined, deviceId: q.get('device') ?? undefined }
  }
  if (parts[0] === 'sync') return { screen: 'sync' }
  if (parts[0] === 'jobs') return { screen: 'jobs', query: new URLSearchParams(search).get('q') ?? '' }
  return { screen: 'fleet' }
}

function useHash (): string {
  const [hash, setHash] = useState(window.location.hash)
  useEffect(() => {
    const on = (): void => { setHash(window.location.hash) }
    window.addEventListener('hashchange', on)
    return () => { window.removeEventListener('hashchange', on) }
  }, [])
  return hash
}

type Theme = 'light' | 'dark'
function initialTheme (): Theme {
  const saved = window.localStorage.getItem('sitehub.theme')
  if (saved === 'light' || saved === 'dark') return saved
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

export function App ({ api, hubStatus }: { api: HubApi | undefined; hubStatus: HubStatusStore }) {
  const { source, status, error } = useStore(hubStatus.store)
  const [theme, setTheme] = useState<Theme>(initialTheme)
  const route = parseRoute(useHash())
  useEffect(() => hubStatus.poll(), [hubStatus])
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme
    window.localStorage.setItem('sitehub.theme', theme)
  }, [theme])
  // Tests and the shell wait on this instead of sleeping.
  useEffect(() => { document.body.dataset['ready'] = status?.state === 'running' ? 'true' : 'false' }, [status?.state])
  const stores = useMemo(() => (api === undefined ? undefined : { fleet: createFleetStore(api), devices: createDevicesStore(api), jobs: createJobsStore(api), configs: createConfigurationsStore(api), sync: createSyncStore(api) }), [api])
  const navigate = (hash: string): void => { window.location.hash = hash }

  const nav: Array<[Route['screen'], string, string]> = [['fleet', '#/', 'Fleet'], ['devices', '#/devices', 'Devices'], ['jobs', '#/jobs', 'Jobs'], ['configurations', '#/configurations', 'Configurations'], ['sync', '#/sync', 'Sync'], ['provision', '#/provision', 'Add a device']]
  return (
    <div className="app">
      <header className="top">
        <a className="brand" href="#/">Sitehub</a>
        <nav aria-label="Screens">
          {nav.map(([screen, href, label]) => (
            <a key={screen} href={href} aria-current={route.screen === screen || (screen === 'devices' && route.screen === 'device') || (screen === 'sync' && route.screen === 'syncConflicts') ? 'page' : undefined}>{label}</a>
          ))}
        </nav>
        <span className="grow" />
        <HubBadge state={status?.state} connected={status?.connected} devices={status?.devices} />
        <button className="button ghost" data-testid="theme-toggle" aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => { setTheme(theme === 'dark' ? 'light' : 'dark') }}>{theme === 'dark' ? 'Light' : 'Dark'} theme</button>
      </header>
      <main className="page">
        {source === 'unavailable' || stores === undefined || api === undefined
          ? <p className="note">This page needs a Sitehub hub: open it from the hub's UI address, or in the desktop app.</p>
          : error !== undefined
            ? <ErrorNote error={error} />
            : status?.state === 'failed'
              ? <div className="note error"><p>The hub did not start: {status.error}</p></div>
              : <Screen route={route} api={api} stores={stores} navigate={navigate} endpoints={status?.endpoints ?? []} />}
      </main>
    </div>
  )
}

function Screen ({ route, api, stores, navigate, endpoints }: {
  route: Route; api: HubApi; stores: { fleet: ReturnType<typeof createFleetStore>; devices: ReturnType<typeof createDevicesStore>; jobs: ReturnType<typeof createJobsStore>; configs: ReturnType<typeof createConfigurationsStore>; sync: ReturnType<typeof createSyncStore> }; navigate: (h: string) => void; endpoints: HubEndpoint[]
}) {
  switch (route.screen) {
    case 'fleet': return <Fleet fleet={stores.fleet} endpoints={endpoints} />
    case 'devices': return <Devices devices={stores.devices} initialQuery={route.query} navigate={navigate} />
    case 'device': return <DeviceDetail key={route.deviceId} api={api} deviceId={route.deviceId} navigate={navigate} />
    case 'provision': return <Provision api={api} />
    case 'configurations': return <Configurations configs={stores.configs} />
    case 'jobs': return <Jobs jobs={stores.jobs} initialQuery={route.query} />
    case 'sync': return <Sync sync={stores.sync} navigate={navigate} />
    case 'syncConflicts': return <SyncConflicts sync={stores.sync} selectedId={route.id} deviceId={route.deviceId} navigate={navigate} />
  }
}

function HubBadge ({ state, connected, devices }: { state: string | undefined; connected: number | undefined; devices: number | undefined }) {
  if (state !== 'running') return <span className="pill warn" data-testid="hub-state">{state === undefined ? 'Connecting…' : `Hub ${state}`}</span>
  return <span className="pill good" data-testid="hub-state" title="Devices online / registered">Hub running · {connected ?? 0}/{devices ?? 0} online</span>
}
