import { useEffect, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import type { HubApi, JsonValue } from '../../../shared/contract/index'
import { IfCan, NotAllowed, useCan } from '../components/Access'
import { CommandQueue } from '../components/CommandQueue'
import { ConnectionQr } from '../components/ConnectionQr'
import { ErrorNote } from '../components/ErrorNote'
import { TelemetryPanel } from '../components/TelemetryPanel'
import { TwinSection } from '../components/TwinSection'
import { plainMessage } from '../lib/plain-errors'
import { ago } from '../lib/time'
import { createDeviceDetailStore, parsePatch, type DeviceDetailStore } from '../state/device-detail'
import './device-detail.css'

export function DeviceDetail ({ api, deviceId, navigate }: { api: HubApi; deviceId: string; navigate: (hash: string) => void }) {
  const detail = useMemo(() => createDeviceDetailStore(api, deviceId), [api, deviceId])
  useEffect(() => detail.start(), [detail])
  const s = useStore(detail.store)
  if (s.error !== undefined) {
    return <section><h1>{deviceId}</h1><ErrorNote error={s.error} /><a className="button" href="#/devices">Back to devices</a></section>
  }
  const d = s.device
  return (
    <section aria-labelledby="dev-h" className="detail" data-testid="device-detail">
      <div className="toolbar">
        <h1 id="dev-h"><span className="mono">{deviceId}</span></h1>
        <a className="button ghost" href={`#/audit?device=${encodeURIComponent(deviceId)}`} data-testid="device-history">Change history</a>
        {d !== undefined && (
          <span className={`pill big ${d.connectionState === 'Connected' ? 'good' : 'off'}`} data-testid="detail-conn">
            {d.connectionState === 'Connected' ? 'Online' : 'Offline'}
          </span>
        )}
      </div>
      {s.actionError !== undefined && !s.conflict && <ErrorNote error={s.actionError} />}
      <div className="columns">
        <Identity detail={detail} navigate={navigate} />
        <IfCan method="methods.invoke" fallback={<section className="panel"><h2>Direct methods</h2><NotAllowed method="methods.invoke" what="Running methods" /></section>}>
          <Methods detail={detail} online={d?.connectionState === 'Connected'} />
        </IfCan>
      </div>
      <div className="columns">
        <CommandQueue api={api} deviceId={deviceId} online={d?.connectionState === 'Connected'} />
        <FirmwarePanel detail={detail} online={d?.connectionState === 'Connected'} />
      </div>
      <h2>Twin</h2>
      {s.twin === undefined
        ? <p className="muted">Loading the twin…</p>
        : (
          <>
            <div className="twin-grid" data-testid="twin" data-etag={s.twin.etag}>
              <TwinSection title="Tags" data={s.twin.tags} testid="twin-tags" />
              <TwinSection title={`Desired (v${s.twin.desiredVersion})`} data={s.twin.desired} meta={s.twin.desiredMeta} compareWith={s.twin.reported} testid="twin-desired" />
              <TwinSection title={`Reported (v${s.twin.reportedVersion})`} data={s.twin.reported} meta={s.twin.reportedMeta} testid="twin-reported" />
            </div>
            <IfCan method="twins.patchDesired" fallback={<NotAllowed method="twins.patchDesired" what="Changing the twin" />}><PatchEditor detail={detail} /></IfCan>
          </>
          )}
      <TelemetryPanel api={api} deviceId={deviceId} />
    </section>
  )
}

function Identity ({ detail, navigate }: { detail: DeviceDetailStore; navigate: (hash: string) => void }) {
  const { device: d, connectionString } = useStore(detail.store)
  const [reveal, setReveal] = useState(false)
  const [confirm, setConfirm] = useState<'primary' | 'secondary' | 'delete' | undefined>()
  const canKeys = useCan('devices.regenerateKey')
  const canStatus = useCan('devices.setStatus')
  const canRemove = useCan('devices.remove')
  if (d === undefined) return <section className="panel"><p className="muted">Loading…</p></section>
  return (
    <section className="panel" aria-labelledby="id-h">
      <h2 id="id-h">Identity</h2>
      <dl className="facts">
        <div><dt>Status</dt><dd data-testid="detail-status">{d.status === 'enabled' ? 'Enabled' : `Disabled${d.statusReason !== null ? ` (${d.statusReason})` : ''}`}</dd></div>
        <div><dt>Connection</dt><dd>{d.connectionState === 'Connected' ? `Online via ${d.transport ?? '?'} from ${d.remote ?? '?'}` : `Offline since ${ago(d.connectionStateUpdatedTime)}`}</dd></div>
        <div><dt>Last activity</dt><dd>{ago(d.lastActivityTime)}</dd></div>
        <div><dt>Authentication</dt><dd>{d.authenticationType === 'sas' ? 'Symmetric key' : d.authenticationType}</dd></div>
        <div><dt>Messages waiting</dt><dd>{d.cloudToDeviceMessageCount}</dd></div>
      </dl>
      <h3>Connection string</h3>
      <NotAllowed method="devices.connectionString" what="Showing the connection string" />
      {connectionString !== undefined && (
        <div className="secret">
          <code className="mono wrap" data-testid="connection-string">
            {reveal ? connectionString : connectionString.replace(/SharedAccessKey=.*/, 'SharedAccessKey=••••••••')}
          </code>
          <div className="row">
            <button className="button" data-testid="reveal-key" aria-expanded={reveal} onClick={() => { setReveal(!reveal) }}>{reveal ? 'Hide key and QR code' : 'Show key and QR code'}</button>
            <button className="button" onClick={() => { void navigator.clipboard?.writeText(connectionString) }}>Copy</button>
          </div>
          {/* the QR code carries the key: it shows only while the key does */}
          {reveal && <ConnectionQr value={connectionString} deviceId={d.deviceId} />}
        </div>
      )}
      <div className="row wrap">
        <button className="button" disabled={!canKeys.ok} title={canKeys.reason} onClick={() => { setConfirm('primary') }}>New primary key…</button>
        <button className="button" disabled={!canKeys.ok} title={canKeys.reason} onClick={() => { setConfirm('secondary') }}>New secondary key…</button>
        <button className="button" data-testid="toggle-status" disabled={!canStatus.ok} title={canStatus.reason} onClick={() => { void detail.setStatus(d.status === 'enabled' ? 'disabled' : 'enabled') }}>
          {d.status === 'enabled' ? 'Disable' : 'Enable'}
        </button>
        <button className="button danger" data-testid="device-delete" disabled={!canRemove.ok} title={canRemove.reason} onClick={() => { setConfirm('delete') }}>Delete…</button>
      </div>
      {confirm !== undefined && (
        <div className="note warn" role="alertdialog" aria-label="Confirm">
          <p>{confirm === 'delete'
            ? 'Delete this device? Its twin and queued messages go too; it can no longer connect.'
            : `Make a new ${confirm} key? A device using the old ${confirm} key is disconnected and cannot reconnect until it gets the new connection string.`}</p>
          <div className="row">
            <button className="button danger" autoFocus onClick={() => {
              const c = confirm
              setConfirm(undefined)
              if (c === 'delete') void detail.remove().then(ok => { if (ok) navigate('#/devices') })
              else void detail.regenerateKey(c)
            }}>{confirm === 'delete' ? 'Delete' : 'Make a new key'}</button>
            <button className="button" onClick={() => { setConfirm(undefined) }}>Cancel</button>
          </div>
        </div>
      )}
    </section>
  )
}

function PatchEditor ({ detail }: { detail: DeviceDetailStore }) {
  const { saving, conflict, actionError, twin } = useStore(detail.store)
  const [part, setPart] = useState<'desired' | 'tags'>('desired')
  const [text, setText] = useState('')
  // The twin keeps updating live while you type; the save is checked against the version you
  // started from, so a change someone else made meanwhile is a conflict, not silently merged.
  const [baseEtag, setBaseEtag] = useState<string | undefined>()
  const parsed = text.trim() === '' ? undefined : parsePatch(text)
  const edit = (value: string): void => {
    if (text.trim() === '' && value.trim() !== '') setBaseEtag(twin?.etag)
    if (value.trim() === '') setBaseEtag(undefined)
    setText(value)
  }
  const save = (): void => {
    if (parsed?.ok !== true) return
    void detail.savePatch(part, parsed.value, baseEtag).then(ok => { if (ok) { setText(''); setBaseEtag(undefined) } })
  }
  return (
    <section className="panel" aria-labelledby="edit-h">
      <h3 id="edit-h">Change the twin</h3>
      <div className="row">
        <label className="radio"><input type="radio" checked={part === 'desired'} onChange={() => { setPart('desired') }} /> Desired properties</label>
        <label className="radio"><input type="radio" checked={part === 'tags'} onChange={() => { setPart('tags') }} /> Tags</label>
      </div>
      <label htmlFor="patch-text" className="small muted">A JSON patch: listed properties change, null removes one, others stay.</label>
      <textarea id="patch-text" className="mono" rows={5} value={text} spellCheck={false} data-testid="patch-editor"
        placeholder={part === 'desired' ? '{"telemetryInterval": 10}' : '{"site": "hall-2"}'}
        aria-invalid={parsed !== undefined && !parsed.ok}
        onChange={e => { edit(e.target.value) }}
        onKeyDown={e => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) save() }} />
      {parsed !== undefined && !parsed.ok && <p className="field-error" data-testid="patch-invalid">{parsed.message}</p>}
      {conflict && actionError !== undefined && (
        <ErrorNote error={actionError}>
          <button className="button" data-testid="reload-twin" onClick={() => { void detail.loadTwin().then(() => { setBaseEtag(detail.store.getState().twin?.etag); detail.store.setState({ conflict: false, actionError: undefined }) }) }}>
            I have seen the new twin: keep my text and save over it next
          </button>
        </ErrorNote>
      )}
      <button className="button primary" disabled={parsed?.ok !== true || saving} data-testid="patch-save" onClick={save}>
        {saving ? 'Saving…' : `Save ${part}`}
      </button>
    </section>
  )
}

const PRESETS: Array<{ name: string; label: string; payload: JsonValue; confirm: string }> = [
  { name: 'reboot', label: 'Reboot', payload: null, confirm: 'The device restarts and is offline for a moment.' },
  { name: 'factoryReset', label: 'Factory reset', payload: null, confirm: 'The device loses its local settings.' }
]

function Methods ({ detail, online }: { detail: DeviceDetailStore; online: boolean }) {
  const { calls } = useStore(detail.store)
  const [name, setName] = useState('')
  const [payload, setPayload] = useState('')
  const [timeout, setTimeoutS] = useState(30)
  const [confirm, setConfirm] = useState<typeof PRESETS[number] | undefined>()
  let payloadError: string | undefined
  let payloadValue: JsonValue | undefined
  if (payload.trim() !== '') {
    try { payloadValue = JSON.parse(payload) as JsonValue } catch (err) { payloadError = `Payload is not valid JSON: ${(err as Error).message}` }
  }
  return (
    <section className="panel" aria-labelledby="m-h">
      <h2 id="m-h">Direct methods</h2>
      {!online && <p className="note">The device is offline: methods fail until it connects.</p>}
      <div className="row wrap">
        {PRESETS.map(p => <button key={p.name} className="button" data-testid={`preset-${p.name}`} onClick={() => { setConfirm(p) }}>{p.label}…</button>)}
      </div>
      {confirm !== undefined && (
        <div className="note warn" role="alertdialog" aria-label={`Confirm ${confirm.label}`}>
          <p>{confirm.label}? {confirm.confirm}</p>
          <div className="row">
            <button className="button danger" autoFocus data-testid="confirm-method" onClick={() => { const p = confirm; setConfirm(undefined); void detail.invoke(p.name, p.payload) }}>{confirm.label}</button>
            <button className="button" onClick={() => { setConfirm(undefined) }}>Cancel</button>
          </div>
        </div>
      )}
      <form onSubmit={e => { e.preventDefault(); if (name !== '' && payloadError === undefined) void detail.invoke(name, payloadValue, timeout) }}>
        <div className="row wrap">
          <label className="field"><span>Method</span><input value={name} data-testid="method-name" placeholder="e.g. getDiagnostics" onChange={e => { setName(e.target.value.trim()) }} /></label>
          <label className="field"><span>Timeout (s)</span><input type="number" min={5} max={300} value={timeout} data-testid="method-timeout" onChange={e => { setTimeoutS(Number(e.target.value)) }} /></label>
        </div>
        <label className="field"><span>Payload (JSON, optional)</span><textarea className="mono" rows={2} value={payload} data-testid="method-payload" onChange={e => { setPayload(e.target.value) }} /></label>
        {payloadError !== undefined && <p className="field-error">{payloadError}</p>}
        <button className="button primary" type="submit" disabled={name === '' || payloadError !== undefined} data-testid="method-run">Run method</button>
      </form>
      <ul className="calls" data-testid="method-calls">
        {calls.map(c => (
          <li key={c.id} className={c.state} data-testid="method-call" data-state={c.state} data-status={c.result?.status ?? ''}>
            <strong>{c.methodName}</strong>{' '}
            {c.state === 'running' && 'running…'}
            {c.result !== undefined && <>status {c.result.status} <code className="mono">{JSON.stringify(c.result.payload)}</code></>}
            {c.error !== undefined && <>{plainMessage(c.error)} <small className="muted">{c.error.name} {c.error.code}</small></>}
          </li>
        ))}
      </ul>
    </section>
  )
}

const STEPS: Record<string, [number, number, string]> = {
  // status: [start %, end %, plain words]
  downloading: [0, 60, 'Downloading'],
  verifying: [60, 70, 'Checking the image'],
  applying: [70, 90, 'Installing'],
  rebooting: [90, 99, 'Restarting'],
  rollingBack: [0, 0, 'Rolling back'],
  failed: [0, 0, 'Failed'],
  current: [100, 100, 'Up to date']
}

/** Overall update progress from reported.firmware {status, progress}. */
export function firmwareProgress (fw: JsonValue | undefined): { percent: number; label: string; status: string; current: string | null; pending: string | null; error: string | null } | undefined {
  if (fw === null || typeof fw !== 'object' || Array.isArray(fw)) return undefined
  const status = typeof fw['status'] === 'string' ? fw['status'] : 'unknown'
  const progress = typeof fw['progress'] === 'number' ? fw['progress'] : 0
  const [from, to, label] = STEPS[status] ?? [0, 0, status]
  const err = fw['error']
  return {
    percent: Math.round(from + ((to - from) * Math.max(0, Math.min(100, progress))) / 100),
    label,
    status,
    current: typeof fw['current'] === 'string' ? fw['current'] : null,
    pending: typeof fw['pending'] === 'string' ? fw['pending'] : null,
    error: err !== null && typeof err === 'object' && !Array.isArray(err) && typeof err['message'] === 'string' ? err['message'] : null
  }
}

function FirmwarePanel ({ detail, online }: { detail: DeviceDetailStore; online: boolean }) {
  const canUpdate = useCan('devices.firmwareUpdate')
  const { images, twin } = useStore(detail.store)
  const [choice, setChoice] = useState('')
  const [confirm, setConfirm] = useState(false)
  const fw = firmwareProgress(twin?.reported['firmware'])
  const chosen = images.find(i => `${i.name}@${i.version}` === choice)
  return (
    <section className="panel" aria-labelledby="fw-h2">
      <h2 id="fw-h2">Firmware</h2>
      {fw === undefined
        ? <p className="muted">This device does not report its firmware (properties.reported.firmware).</p>
        : (
          <>
            <p>Running <strong data-testid="fw-current">{fw.current ?? '?'}</strong>{fw.pending !== null ? <> · installing <strong>{fw.pending}</strong></> : null}</p>
            <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={fw.percent} aria-label="Firmware update progress" data-testid="fw-progress" data-status={fw.status} data-percent={fw.percent}>
              <div className={fw.status === 'failed' ? 'progress-bad' : 'progress-ok'} style={{ width: `${fw.status === 'failed' ? 100 : fw.percent}%` }} />
            </div>
            <small data-testid="fw-step">{fw.label} · {fw.percent}%{fw.error !== null ? ` · ${fw.error}` : ''}</small>
          </>
          )}
      {images.length === 0
        ? <p className="muted">The firmware library is empty. Upload an image with <code className="mono">sitehub firmware add FILE --name N --version V</code>.</p>
        : (
          <div className="row wrap">
            <label className="field grow"><span>Image from the library</span>
              <select value={choice} data-testid="fw-image" onChange={e => { setChoice(e.target.value) }}>
                <option value="">Pick an image…</option>
                {images.map(i => <option key={`${i.name}@${i.version}`} value={`${i.name}@${i.version}`}>{i.name} {i.version} ({Math.round(i.size / 1024)} KB)</option>)}
              </select>
            </label>
            <button className="button primary" data-testid="fw-update" disabled={chosen === undefined || !online || !canUpdate.ok} title={canUpdate.reason} onClick={() => { setConfirm(true) }}>Update firmware…</button>
          </div>
          )}
      {confirm && chosen !== undefined && (
        <div className="note warn" role="alertdialog" aria-label="Confirm firmware update">
          <p>Install {chosen.name} {chosen.version}? The device downloads it, installs it and restarts; it is busy until it reports the new version.</p>
          <div className="row">
            <button className="button danger" autoFocus data-testid="fw-confirm" onClick={() => { setConfirm(false); void detail.updateFirmware(chosen.name, chosen.version) }}>Install</button>
            <button className="button" onClick={() => { setConfirm(false) }}>Cancel</button>
          </div>
        </div>
      )}
    </section>
  )
}
