import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import { BarChart } from '../components/BarChart'
import { useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { ago } from '../lib/time'
import type { Alert, HubEndpoint, HubErrorInfo } from '../../../shared/contract/index'
import type { FleetStore } from '../state/fleet'

function bytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`
  return `${(n / 1024 ** 3).toFixed(1)} GB`
}

export function Fleet ({ fleet, endpoints }: { fleet: FleetStore; endpoints: HubEndpoint[] }) {
  useEffect(() => fleet.start(), [fleet])
  const { summary, error, ratePerSecond } = useStore(fleet.store)
  if (error !== undefined && summary === undefined) return <ErrorNote error={error} />
  if (summary === undefined) return <p className="muted">Loading the fleet…</p>
  const d = summary.devices
  return (
    <section aria-labelledby="fleet-h" data-testid="fleet" data-ready="true">
      <h1 id="fleet-h">Fleet overview</h1>
      {d.total === 0 && (
        <div className="note teach" data-testid="fleet-empty">
          <p>No devices yet. Start by adding one: it gets a connection string to put on the device.</p>
          <a className="button primary" href="#/provision">Add a device</a>
        </div>
      )}
      <div className="tiles">
        <Tile label="Connected" value={d.connected} tone="good" testid="count-connected" href="#/devices?q=connectionState%20%3D%20'Connected'" />
        <Tile label="Disconnected" value={d.disconnected} tone={d.disconnected > 0 ? 'warn' : 'plain'} testid="count-disconnected" href="#/devices?q=connectionState%20%3D%20'Disconnected'" />
        <Tile label="Disabled" value={d.disabled} tone="plain" testid="count-disabled" href="#/devices?q=status%20%3D%20'disabled'" />
        <Tile label="Messages / s" value={Math.round(ratePerSecond * 10) / 10} tone="plain" testid="telemetry-rate" />
        <Tile label="Devices with alerts" value={summary.devicesWithAlerts} tone={summary.devicesWithAlerts > 0 ? 'warn' : 'plain'} testid="count-alerts" />
      </div>
      <div className="columns">
        <section className="panel" aria-labelledby="fw-h">
          <h2 id="fw-h">Firmware versions</h2>
          {summary.firmware.length === 0
            ? <p className="muted">No devices report a firmware version yet (properties.reported.firmware.current).</p>
            : <BarChart title="Devices per firmware version" unit="device" bars={summary.firmware.map(f => ({ label: f.version ?? 'not reported', value: f.devices }))} />}
          <p className="small muted">Telemetry store: {summary.telemetry.messages} messages, {bytes(summary.telemetry.bytes)}{summary.telemetry.dropped > 0 ? `, ${summary.telemetry.dropped} dropped` : ''}</p>
          <p className="small" data-testid="fleet-store" data-percent={summary.store.percent}>
            <span className={summary.store.percent >= summary.store.warnPercent ? 'pill warn' : 'muted'}>Data folder: {bytes(summary.store.usedBytes)} of {bytes(summary.store.limitBytes)} ({summary.store.percent}%)</span>
            {' '}<a href="#/settings">store settings</a>
          </p>
        </section>
        <section className="panel" aria-labelledby="cfg-h">
          <h2 id="cfg-h">Configurations</h2>
          {summary.configurations.length === 0
            ? <p className="muted" data-testid="configs-empty">No automatic configurations. They apply desired settings to every device a query matches (service API PUT /configurations/&#123;id&#125;).</p>
            : (
              <ul className="jobs" data-testid="configs">
                {summary.configurations.map(c => (
                  <li key={c.id}>
                    <strong className="mono">{c.id}</strong> <small className="muted">priority {c.priority}</small>
                    <div className="progress" role="progressbar" aria-label={`${c.id} applied`} aria-valuemin={0} aria-valuemax={c.targeted} aria-valuenow={c.applied}>
                      <div className="progress-ok" style={{ width: `${c.targeted === 0 ? 0 : (c.applied / c.targeted) * 100}%` }} />
                    </div>
                    <small>{c.applied} applied of {c.targeted} targeted</small>
                  </li>
                ))}
              </ul>
              )}
        </section>
        <section className="panel" aria-labelledby="alerts-h">
          <h2 id="alerts-h">Alerts</h2>
          <p className="small muted" data-testid="alerts-threshold">Offline means more than {summary.offlineMinutes} minutes without a word · <a href="#/settings">thresholds</a></p>
          {summary.alerts.length === 0
            ? <p className="muted" data-testid="alerts-empty">No alerts. Devices offline for more than {summary.offlineMinutes} minutes (<a href="#/settings">change</a>), failed methods and jobs, and a filling store show up here.</p>
            : (
              <ul className="alerts" data-testid="alerts">
                {summary.alerts.map((a, i) => (
                  <li key={a.id ?? i} className={`${a.severity}${a.acknowledged != null ? ' acknowledged' : ''}`} data-kind={a.kind} data-device={a.deviceId ?? ''} data-acknowledged={a.acknowledged != null}>
                    {a.deviceId !== null ? <a href={`#/devices/${encodeURIComponent(a.deviceId)}`}>{a.message}</a> : a.message}
                    <small> · {ago(a.at)}</small>
                    <AlertAck fleet={fleet} alert={a} />
                  </li>
                ))}
              </ul>
              )}
        </section>
      </div>
      <section className="panel" aria-labelledby="ep-h">
        <h2 id="ep-h">Where devices and apps connect</h2>
        <ul className="endpoints" data-testid="endpoints">
          {endpoints.map(e => <li key={e.name + e.url}><span className="muted">{e.name}</span> <code className="mono">{e.url}</code></li>)}
        </ul>
      </section>
    </section>
  )
}

/** Acknowledge (an approval): enabled for supervisors and admins, otherwise disabled with the reason. */
function AlertAck ({ fleet, alert }: { fleet: FleetStore; alert: Alert }) {
  const allowed = useCan('alerts.acknowledge')
  const [error, setError] = useState<HubErrorInfo | undefined>()
  if (alert.acknowledged != null) return <small className="muted" data-testid="alert-acked"> · acknowledged by {alert.acknowledged.by} {ago(alert.acknowledged.at)}</small>
  if (alert.id === undefined) return null
  const id = alert.id
  return (
    <>
      {' '}<button className="button ghost" data-testid="alert-ack" disabled={!allowed.ok} title={allowed.ok ? 'Mark as seen and handled' : allowed.reason}
        onClick={() => { void fleet.acknowledge(id).then(setError) }}>Acknowledge</button>
      {error !== undefined && <ErrorNote error={error} />}
    </>
  )
}

function Tile ({ label, value, tone, testid, href }: { label: string; value: number; tone: 'good' | 'warn' | 'plain'; testid: string; href?: string }) {
  const body = <><span className="tile-value" data-testid={testid}>{value}</span><span className="tile-label">{label}</span></>
  return href === undefined ? <div className={`tile ${tone}`}>{body}</div> : <a className={`tile ${tone}`} href={href}>{body}</a>
}
