import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { HubEndpoint, HubErrorInfo, SettingsView, ThemeName } from '../../../shared/contract/index'
import { NotAllowed, useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { ago } from '../lib/time'
import type { SettingsStore } from '../state/settings'
import { bytes } from './Firmware'
import './site.css'

const MB = 1024 * 1024

function days (ms: number): string {
  const d = ms / 86_400_000
  return d >= 1 ? `${Math.round(d * 10) / 10} days` : `${Math.round(ms / 3_600_000)} hours`
}

export function Settings ({ settings, endpoints }: { settings: SettingsStore; endpoints: HubEndpoint[] }) {
  // the app keeps the settings live (theme); fetch the store usage afresh on opening
  useEffect(() => { void settings.refresh() }, [settings])
  const { view, error } = useStore(settings.store)
  if (view === undefined) return error !== undefined ? <ErrorNote error={error} /> : <p className="muted">Loading the settings…</p>
  return (
    <section aria-labelledby="settings-h" data-testid="settings">
      <h1 id="settings-h">Settings</h1>
      <p className="muted">Kept on the hub and applied at once for everyone using it.{view.settings.updatedAt !== null ? ` Last changed ${ago(view.settings.updatedAt)}.` : ''}</p>
      {error !== undefined && <ErrorNote error={error} />}
      <NotAllowed method="settings.update" what="Changing settings" />
      <div className="columns">
        <Thresholds view={view} settings={settings} />
        <StoreUsage view={view} />
      </div>
      <div className="columns">
        <ThemePanel theme={view.settings.theme} settings={settings} />
        <section className="panel" aria-labelledby="ret-h">
          <h2 id="ret-h">Telemetry retention</h2>
          <dl className="facts" data-testid="retention">
            <div><dt>Keep at most</dt><dd>{bytes(view.retention.maxBytes)}</dd></div>
            <div><dt>Keep for</dt><dd>{days(view.retention.maxAgeMs)}</dd></div>
          </dl>
          <p className="small muted">The oldest messages go first when either limit is reached (dropped counts show on the Fleet overview). Set when the hub starts.</p>
        </section>
      </div>
      <section className="panel" aria-labelledby="id-h">
        <h2 id="id-h">This hub</h2>
        <dl className="facts" data-testid="identity">
          <div><dt>Host name</dt><dd className="mono">{view.identity.hostName}</dd></div>
          <div><dt>Role</dt><dd>{view.identity.role === 'edge' ? 'Edge hub (on site)' : 'Cloud hub'}</dd></div>
          <div><dt>Listens on</dt><dd className="mono">{view.identity.bind}</dd></div>
          <div><dt>Data folder</dt><dd className="mono">{view.identity.dataDir}</dd></div>
          {endpoints.map(e => <div key={e.name + e.url}><dt>{e.name}</dt><dd className="mono">{e.url}</dd></div>)}
        </dl>
        <p className="small muted">Set on the command line (<code className="mono">sitehub serve --host-name ... --bind ...</code>); the upstream cloud link has its own screen (<a href="#/sync">Cloud sync</a>).</p>
      </section>
    </section>
  )
}

function Thresholds ({ view, settings }: { view: SettingsView; settings: SettingsStore }) {
  const s = view.settings
  const [offline, setOffline] = useState(String(s.offlineMinutes))
  const [warn, setWarn] = useState(String(s.storeWarnPercent))
  const [quota, setQuota] = useState(s.storeQuotaBytes === null ? '' : String(Math.round(s.storeQuotaBytes / MB)))
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const [saved, setSaved] = useState(false)
  const may = useCan('settings.update')
  // changed on the hub (here or by someone else): show what is in force now
  useEffect(() => {
    setOffline(String(s.offlineMinutes))
    setWarn(String(s.storeWarnPercent))
    setQuota(s.storeQuotaBytes === null ? '' : String(Math.round(s.storeQuotaBytes / MB)))
  }, [s.offlineMinutes, s.storeWarnPercent, s.storeQuotaBytes])
  const offlineN = Number(offline)
  const warnN = Number(warn)
  const quotaN = quota.trim() === '' ? null : Number(quota)
  const problems: string[] = []
  if (!Number.isInteger(offlineN) || offlineN < 1 || offlineN > 10_080) problems.push('Offline alert: a whole number of minutes from 1 to 10080 (a week).')
  if (!Number.isInteger(warnN) || warnN < 1 || warnN > 100) problems.push('Store warning: a whole percent from 1 to 100.')
  if (quotaN !== null && (!Number.isInteger(quotaN) || quotaN < 16)) problems.push('Store quota: whole megabytes, at least 16 (or empty for the whole disk).')
  const changed = offlineN !== s.offlineMinutes || warnN !== s.storeWarnPercent || (quotaN === null ? null : quotaN * MB) !== s.storeQuotaBytes

  async function save (): Promise<void> {
    const err = await settings.save({ offlineMinutes: offlineN, storeWarnPercent: warnN, storeQuotaBytes: quotaN === null ? null : quotaN * MB })
    setError(err)
    setSaved(err === undefined)
  }
  return (
    <form className="panel" aria-labelledby="alerts-set-h" onSubmit={e => { e.preventDefault(); if (problems.length === 0) void save() }}>
      <h2 id="alerts-set-h">Alerts</h2>
      <label className="field"><span>Alert when an enabled device has been offline for more than (minutes)</span>
        <input type="number" min={1} max={10080} value={offline} data-testid="set-offline" disabled={!may.ok} onChange={e => { setOffline(e.target.value); setSaved(false) }} /></label>
      <label className="field"><span>Warn when the data folder reaches (% of its limit)</span>
        <input type="number" min={1} max={100} value={warn} data-testid="set-warn" disabled={!may.ok} onChange={e => { setWarn(e.target.value); setSaved(false) }} /></label>
      <label className="field"><span>Store quota (MB; empty = the whole disk)</span>
        <input type="number" min={16} value={quota} data-testid="set-quota" disabled={!may.ok} placeholder="whole disk" onChange={e => { setQuota(e.target.value); setSaved(false) }} /></label>
      {problems.length > 0 && <ul className="problems">{problems.map(p => <li key={p}>{p}</li>)}</ul>}
      {error !== undefined && <ErrorNote error={error} />}
      <div className="row">
        <button className="button primary" type="submit" disabled={problems.length > 0 || !changed || !may.ok} title={may.ok ? undefined : may.reason} data-testid="set-save">Save</button>
        {saved && !changed && <span className="pill good" data-testid="set-saved">Saved · the fleet alerts use it now</span>}
      </div>
    </form>
  )
}

function StoreUsage ({ view }: { view: SettingsView }) {
  const u = view.store
  const part = (n: number): string => `${u.limitBytes > 0 ? Math.min(100, (n / u.limitBytes) * 100) : 0}%`
  const over = u.percent >= u.warnPercent
  return (
    <section className="panel" aria-labelledby="usage-h" data-testid="store-usage" data-percent={u.percent}>
      <h2 id="usage-h">Store usage</h2>
      <p><strong>{bytes(u.usedBytes)}</strong> of {bytes(u.limitBytes)} ({u.percent}%) {u.quotaBytes === null ? 'of what the disk leaves room for' : 'of the quota'}
        {over && <> <span className="pill warn">above the {u.warnPercent}% warning</span></>}</p>
      <div className="usage-bar" role="img" aria-label={`Data folder uses ${u.percent}% of its limit`}>
        <div className="part-store" style={{ width: part(u.parts.store) }} />
        <div className="part-telemetry" style={{ width: part(u.parts.telemetry) }} />
        <div className="part-firmware" style={{ width: part(u.parts.firmware) }} />
        <div className="part-other" style={{ width: part(u.parts.other) }} />
      </div>
      <div className="legend">
        <span><i className="part-store" style={{ background: 'var(--accent)' }} />Registry and twins {bytes(u.parts.store)}</span>
        <span><i style={{ background: 'var(--good)' }} />Telemetry {bytes(u.parts.telemetry)}</span>
        <span><i style={{ background: 'var(--warn)' }} />Firmware {bytes(u.parts.firmware)}</span>
        <span><i style={{ background: 'var(--off)' }} />Other {bytes(u.parts.other)}</span>
      </div>
      <p className="small muted">{u.diskFreeBytes !== null ? `${bytes(u.diskFreeBytes)} free on the disk` : ''}{u.diskTotalBytes !== null ? ` of ${bytes(u.diskTotalBytes)}` : ''} · measured {ago(u.measuredAt)}</p>
    </section>
  )
}

const THEMES: Array<[ThemeName, string]> = [['system', 'Follow the computer'], ['light', 'Light'], ['dark', 'Dark']]

function ThemePanel ({ theme, settings }: { theme: ThemeName; settings: SettingsStore }) {
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const may = useCan('settings.update')
  return (
    <section className="panel" aria-labelledby="theme-h">
      <h2 id="theme-h">Theme</h2>
      <div className="segmented" role="radiogroup" aria-labelledby="theme-h" data-testid="set-theme">
        {THEMES.map(([value, label]) => (
          <label key={value}><input type="radio" name="theme" value={value} checked={theme === value} disabled={!may.ok} onChange={() => { void settings.save({ theme: value }).then(setError) }} />{label}</label>
        ))}
      </div>
      <p className="small muted">For every screen showing this hub. The button at the top switches only this screen until the next change here.</p>
      {error !== undefined && <ErrorNote error={error} />}
    </section>
  )
}
