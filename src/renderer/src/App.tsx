import { useCallback, useEffect, useMemo, useRef, useState, type ReactElement } from 'react'
import { useStore } from 'zustand'
import { ROLE_LABELS, type HubApi, type HubEndpoint, type MethodName } from '../../shared/contract/index'
import { IfCan, NotAllowed, RoleProvider, useCan } from './components/Access'
import { ErrorNote } from './components/ErrorNote'
import { Accounts, MyAccount } from './screens/Accounts'
import { Audit } from './screens/Audit'
import { DeviceDetail } from './screens/DeviceDetail'
import { Devices } from './screens/Devices'
import { Configurations } from './screens/Configurations'
import { Fleet } from './screens/Fleet'
import { Jobs } from './screens/Jobs'
import { Provision } from './screens/Provision'
import { Sync } from './screens/Sync'
import { SyncConflicts } from './screens/SyncConflicts'
import { Setup, SignIn } from './screens/SignIn'
import { Firmware } from './screens/Firmware'
import { Serial } from './screens/Serial'
import { Settings } from './screens/Settings'
import { createConfigurationsStore } from './state/configurations'
import { createDevicesStore } from './state/devices'
import { createFleetStore } from './state/fleet'
import { createJobsStore } from './state/jobs'
import { createSyncStore } from './state/sync'
import { createFirmwareStore } from './state/firmware'
import { createSerialStore } from './state/serial'
import { createSettingsStore } from './state/settings'
import type { HubStatusStore } from './state/hub-status'
import type { SessionStore } from './state/session'

export type Route =
  | { screen: 'fleet' }
  | { screen: 'devices'; query: string }
  | { screen: 'device'; deviceId: string }
  | { screen: 'provision' }
  | { screen: 'jobs'; query: string }
  | { screen: 'configurations' }
  | { screen: 'sync' }
  | { screen: 'syncConflicts'; id: string | undefined; deviceId: string | undefined }
  | { screen: 'accounts' }
  | { screen: 'audit'; deviceId: string; user: string }
  | { screen: 'account' }
  | { screen: 'serial' }
  | { screen: 'firmware' }
  | { screen: 'settings' }

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
  if (parts[0] === 'serial') return { screen: 'serial' }
  if (parts[0] === 'firmware') return { screen: 'firmware' }
  if (parts[0] === 'settings') return { screen: 'settings' }
  if (parts[0] === 'jobs') return { screen: 'jobs', query: new URLSearchParams(search).get('q') ?? '' }
  if (parts[0] === 'accounts') return { screen: 'accounts' }
  if (parts[0] === 'account') return { screen: 'account' }
  if (parts[0] === 'audit') {
    const q = new URLSearchParams(search)
    return { screen: 'audit', deviceId: q.get('device') ?? '', user: q.get('user') ?? '' }
  }
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
/** This screen's own choice (the header button), until the hub's theme setting changes. */
function savedTheme (): Theme | undefined {
  const saved = window.localStorage.getItem('sitehub.theme')
  return saved === 'light' || saved === 'dark' ? saved : undefined
}
const systemTheme = (): Theme => (window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')
/** The hub's theme setting, reported by the signed-in shell (the setting needs a session to read). */
type HubTheme = (theme: 'system' | Theme) => void

/** One entry of the sidebar. `needs`: hidden unless the role may call this method. */
interface NavItem { screen: Route['screen']; href: string; label: string; needs?: MethodName; also?: Array<Route['screen']> }
interface NavGroup { label: string; items: NavItem[] }

/**
 * The sidebar, in groups (fits ~12 entries at 1366x768; on narrow or touch screens it folds
 * behind a Menu button). Add a screen here and in `Route`/`parseRoute`/`Screen`.
 */
const NAV: NavGroup[] = [
  { label: 'Watch', items: [
    { screen: 'fleet', href: '#/', label: 'Fleet' },
    { screen: 'devices', href: '#/devices', label: 'Devices', also: ['device'] }
  ] },
  { label: 'Operate', items: [
    { screen: 'jobs', href: '#/jobs', label: 'Jobs' },
    { screen: 'configurations', href: '#/configurations', label: 'Configurations' },
    // Admins add devices; technicians come here to export them.
    { screen: 'provision', href: '#/provision', label: 'Add a device', needs: 'devices.export' },
    { screen: 'sync', href: '#/sync', label: 'Cloud sync', needs: 'sync.status', also: ['syncConflicts'] },
    { screen: 'serial', href: '#/serial', label: 'Serial ports' },
    { screen: 'firmware', href: '#/firmware', label: 'Firmware' }
  ] },
  { label: 'Administer', items: [
    { screen: 'accounts', href: '#/accounts', label: 'Accounts', needs: 'accounts.list' },
    { screen: 'audit', href: '#/audit', label: 'Audit log' },
    { screen: 'settings', href: '#/settings', label: 'Settings' }
  ] }
]

export function App ({ api, hubStatus, session }: { api: HubApi | undefined; hubStatus: HubStatusStore; session: SessionStore | undefined }) {
  const [override, setOverride] = useState<Theme | undefined>(savedTheme)
  const [hubTheme, setHubTheme] = useState<'system' | Theme>('system')
  const theme: Theme = override ?? (hubTheme === 'system' ? systemTheme() : hubTheme)
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme
    if (override === undefined) window.localStorage.removeItem('sitehub.theme')
    else window.localStorage.setItem('sitehub.theme', override)
  }, [theme, override])
  // A change of the hub's theme setting replaces this screen's own choice.
  const lastHubTheme = useRef<string | undefined>(undefined)
  const onHubTheme = useCallback<HubTheme>((t) => {
    if (lastHubTheme.current !== undefined && lastHubTheme.current !== t) setOverride(undefined)
    lastHubTheme.current = t
    setHubTheme(t)
  }, [])
  const themeButton = (
    <button className="button ghost" data-testid="theme-toggle" aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
      onClick={() => { setOverride(theme === 'dark' ? 'light' : 'dark') }}>{theme === 'dark' ? 'Light' : 'Dark'} theme</button>
  )
  if (session === undefined || api === undefined) {
    return (
      <div className="app">
        <header className="top"><a className="brand" href="#/">Sitehub</a><span className="grow" />{themeButton}</header>
        <main className="page"><p className="note">This page needs a Sitehub hub: open it from the hub's UI address, or in the desktop app.</p></main>
      </div>
    )
  }
  return <AuthGate api={api} hubStatus={hubStatus} session={session} themeButton={themeButton} onHubTheme={onHubTheme} />
}

function AuthGate ({ api, hubStatus, session, themeButton, onHubTheme }: { api: HubApi; hubStatus: HubStatusStore; session: SessionStore; themeButton: ReactElement; onHubTheme: HubTheme }) {
  const { phase, session: who, error } = useStore(session.store)
  useEffect(() => { void session.check() }, [session])
  // Tests wait on this instead of sleeping.
  useEffect(() => { document.body.dataset['auth'] = phase }, [phase])
  if (phase === 'signedIn' && who !== null) {
    return <RoleProvider role={who.role}><Shell api={api} hubStatus={hubStatus} session={session} themeButton={themeButton} onHubTheme={onHubTheme} /></RoleProvider>
  }
  return (
    <div className="app">
      <header className="top"><a className="brand" href="#/">Sitehub</a><span className="grow" />{themeButton}</header>
      <main className="page">
        {phase === 'setup' && <Setup session={session} />}
        {phase === 'signIn' && <SignIn session={session} />}
        {(phase === 'checking' || phase === 'waiting') && (
          <div className="auth-page"><p className="note" data-testid="auth-waiting">{phase === 'waiting' ? 'Waiting for the hub…' : 'Connecting to the hub…'}</p>
            {phase === 'waiting' && error !== undefined && <ErrorNote error={error} />}</div>
        )}
      </main>
    </div>
  )
}

function Shell ({ api, hubStatus, session, themeButton, onHubTheme }: { api: HubApi; hubStatus: HubStatusStore; session: SessionStore; themeButton: ReactElement; onHubTheme: HubTheme }) {
  const { status, error } = useStore(hubStatus.store)
  const who = useStore(session.store, s => s.session)
  const [menuOpen, setMenuOpen] = useState(false)
  const route = parseRoute(useHash())
  useEffect(() => hubStatus.poll(), [hubStatus])
  // Tests and the shell wait on this instead of sleeping.
  useEffect(() => {
    document.body.dataset['ready'] = status?.state === 'running' ? 'true' : 'false'
    return () => { document.body.dataset['ready'] = 'false' }
  }, [status?.state])
  useEffect(() => { setMenuOpen(false) }, [route.screen])
  const stores = useMemo((): Stores => ({
    fleet: createFleetStore(api), devices: createDevicesStore(api), jobs: createJobsStore(api), configs: createConfigurationsStore(api),
    serial: createSerialStore(api), firmware: createFirmwareStore(api), settings: createSettingsStore(api),
    sync: createSyncStore(api)
  }), [api])
  // The hub's settings stay live while signed in: the theme setting applies to every window at once.
  useEffect(() => {
    const stop = stores.settings.start()
    const off = stores.settings.onSettings((s) => { onHubTheme(s.theme) })
    return () => { off(); stop() }
  }, [stores, onHubTheme])
  const navigate = (hash: string): void => { window.location.hash = hash }

  return (
    <div className="app">
      <header className="top">
        <button className="button ghost menu-toggle" aria-expanded={menuOpen} aria-controls="side-nav" onClick={() => { setMenuOpen(!menuOpen) }}>Menu</button>
        <a className="brand" href="#/">Sitehub</a>
        <span className="grow" />
        <HubBadge state={status?.state} connected={status?.connected} devices={status?.devices} />
        {who !== null && (
          <span className="who">
            <a href="#/account" data-testid="signed-in-user" title="Your account: change your password">{who.name}</a>
            <span className="pill" data-testid="signed-in-role">{ROLE_LABELS[who.role]}</span>
            <button className="button ghost" data-testid="sign-out" onClick={() => { void session.signOut() }}>Sign out</button>
          </span>
        )}
        {themeButton}
      </header>
      <div className="shell">
        <nav id="side-nav" className={`side${menuOpen ? ' open' : ''}`} aria-label="Screens">
          {NAV.map(g => <NavSection key={g.label} group={g} route={route} />)}
        </nav>
        <main className="page">
          {error !== undefined
            ? <ErrorNote error={error} />
            : status?.state === 'failed'
              ? <div className="note error"><p>The hub did not start: {status.error}</p></div>
              : <Screen route={route} api={api} stores={stores} navigate={navigate} endpoints={status?.endpoints ?? []} />}
        </main>
      </div>
    </div>
  )
}

function NavSection ({ group, route }: { group: NavGroup; route: Route }) {
  return (
    <section aria-label={group.label}>
      <h2>{group.label}</h2>
      <ul>{group.items.map(item => <NavEntry key={item.screen} item={item} route={route} />)}</ul>
    </section>
  )
}

function NavEntry ({ item, route }: { item: NavItem; route: Route }) {
  const allowed = useCan(item.needs ?? 'hub.status')
  if (!allowed.ok) return null
  const current = route.screen === item.screen || (item.also?.includes(route.screen) ?? false)
  return <li><a href={item.href} aria-current={current ? 'page' : undefined}>{item.label}</a></li>
}

interface Stores {
  fleet: ReturnType<typeof createFleetStore>; devices: ReturnType<typeof createDevicesStore>; jobs: ReturnType<typeof createJobsStore>
  configs: ReturnType<typeof createConfigurationsStore>; serial: ReturnType<typeof createSerialStore>; firmware: ReturnType<typeof createFirmwareStore>
  settings: ReturnType<typeof createSettingsStore>; sync: ReturnType<typeof createSyncStore>
}

function Screen ({ route, api, stores, navigate, endpoints }: {
  route: Route; api: HubApi; stores: Stores; navigate: (h: string) => void; endpoints: HubEndpoint[]
}) {
  switch (route.screen) {
    case 'fleet': return <Fleet fleet={stores.fleet} endpoints={endpoints} />
    case 'devices': return <Devices devices={stores.devices} initialQuery={route.query} navigate={navigate} />
    case 'device': return <DeviceDetail key={route.deviceId} api={api} deviceId={route.deviceId} navigate={navigate} />
    case 'provision': return <IfCan method="devices.export" fallback={<NotAllowed method="devices.create" what="Adding devices" />}><Provision api={api} /></IfCan>
    case 'configurations': return <Configurations configs={stores.configs} />
    case 'jobs': return <Jobs jobs={stores.jobs} initialQuery={route.query} />
    case 'sync': return <Sync sync={stores.sync} navigate={navigate} />
    case 'syncConflicts': return <SyncConflicts sync={stores.sync} selectedId={route.id} deviceId={route.deviceId} navigate={navigate} />
    case 'accounts': return <Accounts api={api} />
    case 'account': return <MyAccount api={api} />
    case 'serial': return <Serial serial={stores.serial} />
    case 'firmware': return <Firmware firmware={stores.firmware} />
    case 'settings': return <Settings settings={stores.settings} endpoints={endpoints} />
    case 'audit': return <Audit key={`${route.deviceId}|${route.user}`} api={api} initialDeviceId={route.deviceId} initialUser={route.user} />
  }
}

function HubBadge ({ state, connected, devices }: { state: string | undefined; connected: number | undefined; devices: number | undefined }) {
  if (state !== 'running') return <span className="pill warn" data-testid="hub-state">{state === undefined ? 'Connecting…' : `Hub ${state}`}</span>
  return <span className="pill good" data-testid="hub-state" title="Devices online / registered">Hub running · {connected ?? 0}/{devices ?? 0} online</span>
}
