// The upstream connection (on the sync page): the service connection string is write-only
// (the hub shows only its host and policy), the cloud's CA from a PEM file, a connection test
// in plain words, save (the link restarts with it and the page follows its state), turn off.
import { useState } from 'react'
import type { HubErrorInfo, SyncConflictPolicy, SyncSettingsView, SyncStatusView, SyncTestResult } from '../../../shared/contract/index'
import { NotAllowed, useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { POLICY_WORDS } from '../lib/sync'
import type { SyncStore } from '../state/sync'

const CERT = /-----BEGIN CERTIFICATE-----/g

export function SyncSettings ({ sync, settings, status }: { sync: SyncStore; settings: SyncSettingsView | undefined; status: SyncStatusView | undefined }) {
  const configured = settings?.configured === true
  const admin = useCan('sync.settings.set').ok
  const [open, setOpen] = useState(false)
  const [cs, setCs] = useState('')
  const [ca, setCa] = useState<string | undefined>(undefined)
  const [caName, setCaName] = useState('')
  const [edgeId, setEdgeId] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const [test, setTest] = useState<SyncTestResult | undefined>()
  const [saved, setSaved] = useState(false)
  const [confirmOff, setConfirmOff] = useState(false)
  const show = admin && (open || !configured)

  const input = (): { connectionString?: string; ca?: string; edgeDeviceId?: string } => ({
    ...(cs.trim() === '' ? {} : { connectionString: cs.trim() }),
    ...(ca === undefined ? {} : { ca }),
    ...(edgeId.trim() === '' || configured ? {} : { edgeDeviceId: edgeId.trim() })
  })
  const csLooksWrong = cs.trim() !== '' && !/HostName=[^;]+/.test(cs) ? 'needs HostName=…;SharedAccessKeyName=…;SharedAccessKey=…' : undefined
  const canSend = !busy && csLooksWrong === undefined && (configured || cs.trim() !== '')

  async function runTest (): Promise<void> {
    setBusy(true); setError(undefined); setTest(undefined); setSaved(false)
    const r = await sync.testSettings(input())
    setBusy(false)
    if ('ok' in r) setTest(r); else setError(r)
  }
  async function save (): Promise<void> {
    setBusy(true); setError(undefined); setTest(undefined); setSaved(false)
    const err = await sync.saveSettings(input())
    setBusy(false)
    setError(err)
    if (err === undefined) { setCs(''); setCa(undefined); setCaName(''); setOpen(false); setSaved(true); setTimeout(() => { setSaved(false) }, 20_000) }
  }
  async function turnOff (): Promise<void> {
    setBusy(true); setError(undefined); setConfirmOff(false)
    const err = await sync.saveSettings({ enabled: false })
    setBusy(false)
    setError(err)
  }
  async function pickFile (file: File | undefined): Promise<void> {
    if (file === undefined) return
    const text = await file.text()
    setCa(text); setCaName(file.name)
  }

  const certs = ca === undefined ? 0 : (ca.match(CERT) ?? []).length
  return (
    <div className="panel sync-settings" data-testid="sync-settings">
      <div className="row wrap">
        <h2>Upstream connection</h2>
        <span className="grow" />
        {configured && !open && admin && <button type="button" className="button" data-testid="sync-settings-edit" onClick={() => { setOpen(true) }}>Change…</button>}
      </div>
      <NotAllowed method="sync.settings.set" what="Changing the upstream connection" />
      {configured && settings !== undefined &&
        <dl className="facts" data-testid="sync-settings-current">
          <div><dt>Cloud hub</dt><dd className="mono" data-testid="settings-host">{settings.upstreamHost}</dd></div>
          <div><dt>Policy</dt><dd className="mono" data-testid="settings-policy">{settings.policyName}</dd></div>
          <div><dt>This site upstream</dt><dd className="mono">{status?.edgeDeviceId ?? settings.edgeDeviceId ?? '(set at first connection)'}</dd></div>
          <div><dt>Trusted CA</dt><dd data-testid="settings-ca">{settings.ca === null ? 'the system CAs' : `${settings.ca.subject} (until ${new Date(settings.ca.validTo).toLocaleDateString()})`}</dd></div>
          <div><dt>Connection string</dt><dd className="muted">stored on the hub; never shown again</dd></div>
          <div><dt>Unresolved conflicts</dt><dd data-testid="settings-policy-now">{policyWords(settings.conflictPolicy)}</dd></div>
        </dl>}
      {configured && settings !== undefined && admin && <PolicyForm key={JSON.stringify(settings.conflictPolicy)} sync={sync} policy={settings.conflictPolicy} />}
      {show &&
        <form aria-label="Upstream connection" onSubmit={e => { e.preventDefault(); void save() }}>
          <label className="field"><span>Service connection string of the cloud hub{configured ? ' (leave empty to keep the stored one)' : ''}</span>
            <input type="password" autoComplete="off" spellCheck={false} className="mono" value={cs} data-testid="sync-cs"
              placeholder="HostName=….azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=…" aria-invalid={csLooksWrong !== undefined}
              onChange={e => { setCs(e.target.value); setTest(undefined) }} />
          </label>
          {csLooksWrong !== undefined && <p className="field-error">The connection string {csLooksWrong}</p>}
          <p className="muted small">The policy needs RegistryRead, RegistryWrite and ServiceConnect.</p>
          <div className="row wrap">
            <label className="field grow"><span>Cloud's CA certificate (PEM){configured ? ': leave empty to keep the current one' : ': leave empty for the system CAs'}</span>
              <input type="file" accept=".pem,.crt,.cer,text/plain" data-testid="sync-ca-file" onChange={e => { void pickFile(e.target.files?.[0]) }} />
            </label>
            {!configured && <label className="field grow"><span>This site's device id upstream (optional)</span>
              <input value={edgeId} className="mono" data-testid="sync-edge-id" placeholder="sitehub-edge-…" onChange={e => { setEdgeId(e.target.value) }} />
            </label>}
          </div>
          {ca !== undefined &&
            <p className="small" data-testid="sync-ca-loaded">
              {ca.trim() === '' ? 'The system CAs will be trusted instead.' : certs === 0 ? <span className="field-error">{caName} holds no PEM certificate (-----BEGIN CERTIFICATE-----).</span> : `${caName}: ${certs} certificate${certs === 1 ? '' : 's'} loaded.`}
              {' '}<button type="button" className="button ghost" onClick={() => { setCa(undefined); setCaName('') }}>Undo</button>
            </p>}
          {configured && settings?.ca !== null && ca === undefined &&
            <button type="button" className="button ghost" onClick={() => { setCa(''); setCaName('') }}>Trust the system CAs instead</button>}
          <div className="row wrap">
            <button type="button" className="button" disabled={!canSend} data-testid="sync-test" onClick={() => { void runTest() }}>Test connection</button>
            <button type="submit" className="button primary" disabled={!canSend || (ca !== undefined && ca.trim() !== '' && certs === 0)} data-testid="sync-save">{configured ? 'Save and reconnect' : 'Connect to the cloud'}</button>
            {configured && <button type="button" className="button" onClick={() => { setOpen(false); setCs(''); setCa(undefined); setTest(undefined) }}>Cancel</button>}
            {busy && <span className="muted">Working…</span>}
          </div>
        </form>}
      {test !== undefined &&
        <div className={`note test-result ${test.ok ? 'good' : 'error'}`} role="status" data-testid="sync-test-result" data-ok={test.ok} data-step={test.step}>
          <p>{test.ok ? `✓ ${test.message}` : test.message}</p>
          {test.latencyMs !== null && <small>answered in {test.latencyMs} ms</small>}
        </div>}
      {saved && status !== undefined &&
        <p className="note good" role="status" data-testid="sync-saved">Saved. The link is {status.state === 'online' ? 'online' : `${status.state}: the page updates as it connects`}.</p>}
      {error !== undefined && <ErrorNote error={error} />}
      {configured && admin && (confirmOff
        ? <div className="note warn"><p>Turn sync off? The hub forgets the upstream (you will need the connection string again); nothing is deleted at the site or in the cloud, and telemetry keeps accumulating locally.</p>
            <div className="row"><button type="button" className="button danger" data-testid="sync-off-confirm" onClick={() => { void turnOff() }}>Turn sync off</button>
              <button type="button" className="button" onClick={() => { setConfirmOff(false) }}>Keep it on</button></div></div>
        : <button type="button" className="button ghost" data-testid="sync-off" onClick={() => { setConfirmOff(true) }}>Turn sync off…</button>)}
    </div>
  )
}

function policyWords (p: SyncConflictPolicy): string {
  if (p.mode === 'manual') return 'wait for a person (desired and tags; identity conflicts always do)'
  const when = p.afterMinutes === 0 ? 'at once' : p.afterMinutes % 60 === 0 ? `after ${p.afterMinutes / 60} h` : `after ${p.afterMinutes} min`
  return `${POLICY_WORDS[p.mode].toLowerCase()} ${when} if nobody decides (desired and tags; identity conflicts always wait for a person)`
}

/** The default conflict policy: what happens to a desired/tags conflict nobody resolves. */
function PolicyForm ({ sync, policy }: { sync: SyncStore; policy: SyncConflictPolicy }) {
  const [mode, setMode] = useState(policy.mode)
  const [hours, setHours] = useState(String(policy.afterMinutes / 60))
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const h = Number(hours)
  const valid = mode === 'manual' || (hours.trim() !== '' && Number.isFinite(h) && h >= 0 && h <= 8760)
  const changed = mode !== policy.mode || (mode !== 'manual' && Math.round(h * 60) !== policy.afterMinutes)
  async function save (): Promise<void> {
    setError(await sync.saveSettings({ conflictPolicy: { mode, afterMinutes: mode === 'manual' ? policy.afterMinutes : Math.round(h * 60) } }))
  }
  return (
    <form className="row wrap" aria-label="Default conflict policy" onSubmit={e => { e.preventDefault(); void save() }}>
      <label className="field"><span>When nobody resolves a conflict</span>
        <select value={mode} data-testid="policy-mode" onChange={e => { setMode(e.target.value as SyncConflictPolicy['mode']) }}>
          {(Object.keys(POLICY_WORDS) as Array<SyncConflictPolicy['mode']>).map(m => <option key={m} value={m}>{POLICY_WORDS[m]}</option>)}
        </select>
      </label>
      {mode !== 'manual' && <label className="field"><span>after (hours)</span>
        <input type="number" min={0} max={8760} step="any" value={hours} data-testid="policy-hours" aria-invalid={!valid} onChange={e => { setHours(e.target.value) }} />
      </label>}
      <button type="submit" className="button" disabled={!valid || !changed} data-testid="policy-save">Save policy</button>
      {error !== undefined && <ErrorNote error={error} />}
    </form>
  )
}
