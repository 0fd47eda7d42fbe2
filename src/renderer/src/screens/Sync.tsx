// Cloud sync status (#/sync): the link (a small picture coloured by its state), when it last
// synced, what waits to go up and what went, the backlog draining, and every device's mirror
// state in a windowed table. All live from sync.link / sync.queue / sync.conflict events.
import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { SyncDeviceRow, SyncLinkState, SyncStatusView } from '../../../shared/contract/index'
import { ErrorNote } from '../components/ErrorNote'
import { VirtualTable, type Column } from '../components/VirtualTable'
import { drainView, duration, LINK_WORDS, STATE_WORDS, type Drain } from '../lib/sync'
import { ago } from '../lib/time'
import type { SyncFilter, SyncStore } from '../state/sync'
import { SyncSettings } from './SyncSettings'
import './sync.css'

const STATE_PILL: Record<SyncLinkState, string> = { online: 'good', degraded: 'warn', connecting: 'warn', offline: 'bad' }

/** Re-renders every few seconds, for "… ago" and the backlog's age. */
function useNow (ms = 2000): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => { const t = setInterval(() => { setNow(Date.now()) }, ms); return () => { clearInterval(t) } }, [ms])
  return now
}

export function Sync ({ sync, navigate }: { sync: SyncStore; navigate: (hash: string) => void }) {
  useEffect(() => sync.start(), [sync])
  const { status, error, settings, drain } = useStore(sync.store)
  const now = useNow()
  return (
    <section aria-labelledby="sync-h">
      <div className="toolbar">
        <h1 id="sync-h">Cloud sync</h1>
        {status !== undefined && status.queue.conflicts > 0 &&
          <a className="button primary" href="#/sync/conflicts" data-testid="open-conflicts">Review {status.queue.conflicts} conflict{status.queue.conflicts === 1 ? '' : 's'}</a>}
      </div>
      {error !== undefined && <ErrorNote error={error} />}
      {status === undefined
        ? <p className="muted">Loading…</p>
        : !status.configured
          ? <p className="note teach" data-testid="sync-off">This hub is not connected to a cloud. Enter the cloud hub's service connection string below to mirror the site's devices there; the site keeps running on its own whenever the link is down.</p>
          : <>
            <Link status={status} now={now} />
            <Queues status={status} drain={drain} now={now} />
            <Devices sync={sync} navigate={navigate} />
          </>}
      <SyncSettings sync={sync} settings={settings} status={status} />
    </section>
  )
}

function LinkPicture ({ state, host, edge }: { state: SyncLinkState; host: string; edge: string }) {
  return (
    <svg className="link-picture" viewBox="0 0 400 130" role="img" data-testid="link-picture" data-state={state}
      aria-label={`Link from this site to the cloud: ${LINK_WORDS[state]}`}>
      <rect className="node" x="6" y="30" width="120" height="64" rx="10" />
      <text className="label" x="66" y="60" textAnchor="middle">This site</text>
      <text className="sub" x="66" y="80" textAnchor="middle">{edge.length > 18 ? `${edge.slice(0, 17)}…` : edge}</text>
      <path className="node" d="M290 94 h80 a24 24 0 0 0 0-48 a34 34 0 0 0-62-12 a26 26 0 0 0-18 60 z" />
      <text className="label" x="330" y="74" textAnchor="middle">Cloud</text>
      <text className="sub" x="330" y="116" textAnchor="middle">{host.length > 28 ? `${host.slice(0, 27)}…` : host}</text>
      <line className="wire" x1="134" y1="62" x2="266" y2="62" />
      {state === 'offline' && <g><line className="cut" x1="188" y1="44" x2="212" y2="80" /><line className="cut" x1="212" y1="44" x2="188" y2="80" /></g>}
      {state === 'online' && <polygon className="flow" points="250,52 266,62 250,72" />}
      <text className="sub" x="200" y="30" textAnchor="middle">{LINK_WORDS[state]}</text>
    </svg>
  )
}

function Link ({ status, now }: { status: SyncStatusView; now: number }) {
  return (
    <div className="panel sync-top" data-testid="sync-link" data-state={status.state}>
      <LinkPicture state={status.state} host={status.upstreamHost ?? '?'} edge={status.edgeDeviceId ?? 'edge'} />
      <dl className="facts">
        <div><dt>Link</dt><dd><span className={`pill big ${STATE_PILL[status.state]}`} data-testid="link-state">{LINK_WORDS[status.state]}</span> <small className="muted">since {ago(status.since, now)}</small></dd></div>
        <div><dt>Cloud</dt><dd className="mono">{status.upstreamHost} <small className="muted">policy {status.policyName}</small></dd></div>
        <div><dt>This site upstream</dt><dd className="mono">{status.edgeDeviceId ?? '(registering…)'}</dd></div>
        <div><dt>Last successful sync</dt><dd data-testid="last-sync">{ago(status.lastSuccessfulSync, now)}</dd></div>
        {status.state !== 'online' && <div><dt>Reconnect attempts</dt><dd data-testid="reconnects">{status.reconnectAttempts}</dd></div>}
        {status.lastError !== null && status.state !== 'online' && <div><dt>Last error</dt><dd className="wrap" data-testid="last-error">{status.lastError}</dd></div>}
        <div><dt>Mirrored devices</dt><dd>{status.registry.mirrored}{status.modules.mirrored > 0 ? ` (+ ${status.modules.mirrored} modules)` : ''} <small className="muted">· reported patches sent: {status.reported.patchesSent} · cloud changes applied: {status.desired.applied} · site edits sent: {status.desired.localEditsSent}</small></dd></div>
      </dl>
    </div>
  )
}

function Queues ({ status, drain, now }: { status: SyncStatusView; drain: Drain | undefined; now: number }) {
  const q = status.queue
  const age = q.backlogOldest === null ? null : now - Date.parse(q.backlogOldest)
  const dv = drain === undefined ? undefined : drainView(drain, status.state)
  const tile = (id: string, label: string, value: string | number, tone = '', title?: string) => (
    <div className={`tile ${tone}`} data-testid={id} title={title}><span className="tile-value" data-testid={`${id}-value`}>{value}</span><span className="tile-label">{label}</span></div>
  )
  return (
    <>
      <h2>Waiting to go up</h2>
      <div className="tiles sync-tiles" data-testid="sync-queues">
        {tile('q-reported', 'devices with reported changes pending', q.reportedPendingDevices, q.reportedPendingDevices > 0 ? 'warn' : '')}
        {tile('q-telemetry', 'telemetry messages pending', q.telemetryPending, q.telemetryPending > 0 ? 'warn' : '')}
        {tile('q-age', 'oldest waiting message', age === null || q.telemetryPending === 0 ? '—' : duration(age))}
        {tile('q-sent', 'messages sent', q.sent, 'good')}
        {tile('q-expired', 'expired (older than the time-to-live)', q.expired, q.expired > 0 ? 'bad' : '')}
        {tile('q-dropped', 'dropped by the local store', q.dropped, q.dropped > 0 ? 'bad' : '')}
        {q.notForwarded > 0 && tile('q-not-forwarded', 'kept here only (modules, X.509 devices)', q.notForwarded)}
        <a className={`tile ${q.conflicts > 0 ? 'bad' : ''}`} href="#/sync/conflicts" data-testid="q-conflicts">
          <span className="tile-value" data-testid="q-conflicts-value">{q.conflicts}</span><span className="tile-label">conflicts to review</span>
        </a>
      </div>
      {status.modules.conflicts.length > 0 &&
        <div className="note warn" data-testid="module-conflicts"><p>Module conflicts: there is no resolution for these yet. Make both sides equal by hand (at the site and in the cloud); they clear at the next sync.</p>
          <ul>{status.modules.conflicts.map(c => <li key={c.id}><span className="mono">{c.deviceId}/{c.moduleId}</span>: {c.kind} · {c.fields.join(', ')} · detected {ago(c.detectedAt, now)}</li>)}</ul></div>}
      {drain !== undefined && dv !== undefined &&
        <div className="panel sync-drain" data-testid="drain" data-pending={drain.pending} data-peak={drain.peak}>
          <strong>{status.state === 'online' || status.state === 'degraded' ? 'Sending the backlog' : 'Backlog waiting for the link'}</strong>
          <div className="progress" role="progressbar" aria-label="Backlog sent" aria-valuemin={0} aria-valuemax={drain.peak} aria-valuenow={drain.peak - drain.pending}>
            <div className="progress-ok" style={{ width: `${Math.round(dv.done * 100)}%` }} />
          </div>
          <small>{drain.peak - drain.pending} of {drain.peak} sent · {drain.pending} left
            {dv.rate !== null ? ` · ${Math.round(dv.rate)} msg/s` : ''}{dv.secondsLeft !== null ? ` · about ${duration(dv.secondsLeft * 1000)} to go` : ''}</small>
        </div>}
    </>
  )
}

const TABS: Array<[SyncFilter, string]> = [['all', 'All'], ['inSync', STATE_WORDS.inSync], ['pending', STATE_WORDS.pending], ['conflict', STATE_WORDS.conflict], ['notMirrored', STATE_WORDS.notMirrored]]

function stateCell (r: SyncDeviceRow) {
  if (r.state === 'inSync') return <span className="pill good" data-testid="sync-state">In sync</span>
  if (r.state === 'pending') return <span className="pill warn" data-testid="sync-state">{r.pendingChanges} change{r.pendingChanges === 1 ? '' : 's'} pending</span>
  if (r.state === 'conflict') return <span className="pill bad" data-testid="sync-state">In conflict ({r.conflicts.join(', ')})</span>
  return <span className="pill" data-testid="sync-state">Not mirrored</span>
}
const stateCellWithIdentity = (r: SyncDeviceRow) => (r.identityOnly && r.state !== 'conflict'
  ? <>{stateCell(r)} <small className="muted" title="X.509 device: mirrored as an identity; its data stays at the site">identity only</small></>
  : stateCell(r))

const columns: Array<Column<SyncDeviceRow>> = [
  { key: 'id', title: 'Device', width: 'minmax(12rem, 2fr)', render: r => <span className="mono">{r.deviceId}</span> },
  { key: 'state', title: 'Sync', width: 'minmax(12rem, 1.4fr)', render: stateCellWithIdentity },
  { key: 'link', title: 'Upstream link', width: '9rem', render: r => (r.upstreamConnected ? 'Open' : <span className="muted">closed</span>) },
  { key: 'sent', title: 'Messages sent', width: '9rem', render: r => r.telemetrySent },
  { key: 'expired', title: 'Expired', width: '7rem', render: r => (r.telemetryExpired > 0 ? <span className="pill bad">{r.telemetryExpired}</span> : 0) }
]

function Devices ({ sync, navigate }: { sync: SyncStore; navigate: (hash: string) => void }) {
  const { rows, total, counts, filter, search, devicesLoaded } = useStore(sync.store)
  const all = counts === undefined ? 0 : counts.inSync + counts.pending + counts.conflict + counts.notMirrored
  return (
    <>
      <h2>Devices</h2>
      <div className="row wrap">
        <div className="tabs" role="group" aria-label="Show devices">
          {TABS.map(([f, label]) => (
            <button key={f} type="button" className="button" aria-pressed={filter === f} data-testid={`sync-tab-${f}`} onClick={() => { sync.setFilter(f) }}>
              {label}<small className="tab-count" data-testid={`sync-count-${f}`}>{f === 'all' ? all : counts?.[f] ?? 0}</small>
            </button>
          ))}
        </div>
        <span className="grow" />
        <label className="field"><span>Search by id</span>
          <input type="search" value={search} placeholder="e.g. press-12" data-testid="sync-search" onChange={e => { sync.setSearch(e.target.value) }} />
        </label>
      </div>
      {devicesLoaded && total === 0
        ? <p className="note" data-testid="sync-devices-empty">{filter === 'all' ? 'No devices at this site yet.' : `No device is ${STATE_WORDS[filter].toLowerCase()}.`}</p>
        : <div className="sync-table" data-testid="sync-devices" data-total={total} style={{ height: `min(26rem, ${rows.length * 48 + 56}px)` }}>
          <VirtualTable rows={rows} columns={columns} rowKey={r => r.deviceId} label="Devices and their sync state"
            onOpen={r => { navigate(r.state === 'conflict' ? `#/sync/conflicts?device=${encodeURIComponent(r.deviceId)}` : `#/devices/${encodeURIComponent(r.deviceId)}`) }} />
        </div>}
      {rows.length < total && <p className="muted small">Showing the first {rows.length} of {total}; search to narrow.</p>}
    </>
  )
}
