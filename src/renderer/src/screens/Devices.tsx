import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { DeviceRow, DeviceSortKey, HubErrorInfo } from '../../../shared/contract/index'
import { useCan } from '../components/Access'
import { BulkTag } from '../components/BulkTag'
import { ErrorNote } from '../components/ErrorNote'
import { QueryBar } from '../components/QueryBar'
import { SavedViews } from '../components/SavedViews'
import { VirtualTable, type Column } from '../components/VirtualTable'
import { ago } from '../lib/time'
import type { DevicesStore } from '../state/devices'
import './devices.css'

const baseColumns: Array<Column<DeviceRow>> = [
  { key: 'id', title: 'Device', sortKey: 'deviceId', width: 'minmax(12rem, 2fr)', render: r => <span className="mono">{r.deviceId}</span> },
  {
    key: 'conn', title: 'Connection', sortKey: 'connectionState', width: '11rem',
    render: r => <span className={`pill ${r.connectionState === 'Connected' ? 'good' : 'off'}`} data-testid="conn-state">{r.connectionState === 'Connected' ? 'Online' : 'Offline'}</span>
  },
  { key: 'status', title: 'Status', sortKey: 'status', width: '8rem', render: r => (r.status === 'enabled' ? 'Enabled' : <span className="pill warn">Disabled</span>) },
  { key: 'fw', title: 'Firmware', sortKey: 'firmware', width: '9rem', render: r => r.firmware ?? <span className="muted">—</span> },
  { key: 'state', title: 'State', sortKey: 'state', width: '8rem', render: r => r.state ?? <span className="muted">—</span> },
  { key: 'seen', title: 'Last activity', sortKey: 'lastActivityTime', width: '10rem', render: r => ago(r.lastActivityTime) }
]

export function Devices ({ devices, initialQuery, navigate }: { devices: DevicesStore; initialQuery: string; navigate: (hash: string) => void }) {
  const canStatus = useCan('devices.setStatus')
  const canJob = useCan('jobs.create')
  const canTag = useCan('devices.tag')
  useEffect(() => devices.start(), [devices])
  const { visible, rows, search, sort, query, queryError, error, loaded, selected } = useStore(devices.store)
  const [bulkError, setBulkError] = useState<HubErrorInfo | undefined>()
  const [tagging, setTagging] = useState(false)
  const columns: Array<Column<DeviceRow>> = [
    {
      key: 'sel', title: '', width: '3.2rem',
      render: r => <input type="checkbox" aria-label={`Select ${r.deviceId}`} checked={selected.has(r.deviceId)} data-testid="row-select"
        onClick={e => { e.stopPropagation() }} onChange={() => { devices.toggle(r.deviceId) }} />
    },
    ...baseColumns
  ]
  const [draft, setDraft] = useState(initialQuery)
  useEffect(() => {
    setDraft(initialQuery)
    if (initialQuery !== devices.store.getState().query) void devices.load(initialQuery)
  }, [devices, initialQuery])

  // The address follows the query that ran, so Back from a device page returns to it (a view's too).
  const remember = (q: string): void => { window.history.replaceState(null, '', q.trim() === '' ? '#/devices' : `#/devices?q=${encodeURIComponent(q)}`) }
  const run = (): void => { const q = draft; void devices.load(q).then(ok => { if (ok) remember(q) }) }
  // the hub's error position, while the text is still the one it was about
  const pos = queryError !== undefined && queryError.text === draft ? queryError.query?.position : undefined
  return (
    <section aria-labelledby="devices-h" className="devices">
      <div className="toolbar">
        <h1 id="devices-h">Devices <small className="muted" data-testid="device-total">{visible.length === rows.length ? rows.length : `${visible.length} of ${rows.length}`}</small></h1>
        <a className="button" href="#/provision">Add a device</a>
      </div>
      <div className="filters">
        <label className="field grow">
          <span>Search by id</span>
          <input type="search" value={search} placeholder="e.g. press-12" data-testid="device-search"
            onChange={e => { devices.setSearch(e.target.value) }} />
        </label>
        <form className="field grow2" onSubmit={e => { e.preventDefault(); run() }}>
          <label htmlFor="query-input"><span>Query (IoT Hub query language: a WHERE condition or a full SELECT; Enter runs it, Shift+Enter adds a line)</span></label>
          <div className="row qrow">
            <QueryBar id="query-input" value={draft} onChange={setDraft} onSubmit={run}
              errorOffset={pos === undefined ? undefined : pos.offset - 1}
              {...(pos === undefined ? {} : { describedBy: 'query-error-text' })}
              placeholder="e.g. properties.reported.firmware.current = '1.2.0' AND connectionState = 'Connected'" />
            <button type="submit" className="button primary">Run</button>
            {query !== '' && <button type="button" className="button" onClick={() => { setDraft(''); remember(''); void devices.load('') }}>Clear</button>}
          </div>
        </form>
      </div>
      <SavedViews devices={devices} onOpened={v => { setDraft(v.query); remember(v.query) }} />
      {selected.size > 0 && (
        <div className="note bulk row wrap" role="region" aria-label="Selection" data-testid="bulk-bar">
          <strong data-testid="bulk-count">{selected.size} selected</strong>
          <button className="button" data-testid="bulk-disable" disabled={!canStatus.ok} title={canStatus.reason} onClick={() => { void devices.setStatus([...selected], 'disabled').then(setBulkError) }}>Disable</button>
          <button className="button" data-testid="bulk-enable" disabled={!canStatus.ok} title={canStatus.reason} onClick={() => { void devices.setStatus([...selected], 'enabled').then(setBulkError) }}>Enable</button>
          <button className="button" data-testid="bulk-tag-open" aria-expanded={tagging} disabled={!canTag.ok} title={canTag.reason} onClick={() => { setTagging(true) }}>Tag…</button>
          {canJob.ok && <a className="button" data-testid="bulk-job" href={`#/jobs?q=${encodeURIComponent(devices.selectionCondition())}`}>Run a method or change settings (job)…</a>}
          <button className="button ghost" onClick={() => { devices.clearSelection() }}>Clear selection</button>
        </div>
      )}
      {tagging && (selected.size > 0 || devices.bulkTag.store.getState().total > 0) && (
        <BulkTag bulk={devices.bulkTag} deviceIds={[...selected]} onClose={() => { setTagging(false) }} />
      )}
      {bulkError !== undefined && <ErrorNote error={bulkError} />}
      {queryError !== undefined && <QueryErrorView error={queryError} />}
      {error !== undefined && <ErrorNote error={error} />}
      {loaded && rows.length === 0 && query === '' && (
        <div className="note teach" data-testid="devices-empty">
          <p>No devices are registered. Add one, then connect it with the connection string Sitehub shows.</p>
          <a className="button primary" href="#/provision">Add a device</a>
        </div>
      )}
      {loaded && rows.length === 0 && query !== '' && <p className="note">No device matches this query. Clear it to see every device.</p>}
      {rows.length > 0 && (
        <VirtualTable rows={visible} columns={columns} rowKey={r => r.deviceId} label="Devices"
          sort={sort} onSort={k => { devices.cycleSort(k as DeviceSortKey) }}
          onToggle={r => { devices.toggle(r.deviceId) }}
          onOpen={r => { navigate(`#/devices/${encodeURIComponent(r.deviceId)}`) }} />
      )}
    </section>
  )
}

function QueryErrorView ({ error }: { error: NonNullable<ReturnType<DevicesStore['store']['getState']>['queryError']> }) {
  const pos = error.query?.position
  const text = error.text
  const at = pos === undefined ? -1 : Math.min(text.length, pos.offset - 1)
  return (
    <ErrorNote error={error}>
      {pos !== undefined && (
        <pre className="query-error mono" id="query-error-text" data-testid="query-error" data-offset={pos.offset}>
          {text.slice(0, at)}<mark>{text.slice(at, at + 1) || ' '}</mark>{text.slice(at + 1)}
          {'\n'}{' '.repeat(Math.max(0, at))}^ {error.query?.expected !== undefined ? `expected ${error.query.expected}` : ''}{error.query?.found !== undefined ? `, found ${error.query.found}` : ''}
        </pre>
      )}
    </ErrorNote>
  )
}
