import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { HubErrorInfo, ModbusProfileView, SerialPortStatusView, SerialPortView } from '../../../shared/contract/index'
import { NotAllowed, useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { ago } from '../lib/time'
import { checkPortDraft, type SerialStore } from '../state/serial'
import './site.css'

const BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]
type DeviceDraft = { deviceId: string; address: string; profile: string }
interface Draft {
  name: string; path: string; protocol: 'line' | 'modbus'; baudRate: number; dataBits: number; parity: 'none' | 'even' | 'odd' | 'mark' | 'space'; stopBits: number
  enabled: boolean; keepAliveSec: number; maxLineBytes: number; timeoutMs: number; devices: DeviceDraft[]
}
const blank = (path = ''): Draft => ({
  name: '', path, protocol: 'line', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1, enabled: true, keepAliveSec: 30, maxLineBytes: 8192, timeoutMs: 1000, devices: []
})
const draftOf = (p: SerialPortView): Draft => ({
  ...p.config,
  devices: p.config.devices.map(d => ({ deviceId: d.deviceId, address: d.address === null ? '' : String(d.address), profile: d.profile ?? '' }))
})

export function Serial ({ serial }: { serial: SerialStore }) {
  useEffect(() => serial.start(), [serial])
  const { ports, machine, profiles, loaded, error, liveAt } = useStore(serial.store)
  // undefined = no form; null name = a new port
  const [editing, setEditing] = useState<{ name: string | null; draft: Draft } | undefined>()
  const [actionError, setActionError] = useState<HubErrorInfo | undefined>()
  const [confirmRemove, setConfirmRemove] = useState<string | undefined>()
  const canAdd = useCan('serial.add')

  return (
    <section aria-labelledby="serial-h" data-testid="serial">
      <div className="toolbar">
        <h1 id="serial-h">Serial ports</h1>
        <span className="small muted" data-testid="serial-live">{liveAt === undefined ? 'Line statistics update live' : `Live · updated ${ago(new Date(liveAt).toISOString())}`}</span>
      </div>
      <p className="muted">Devices wired to this PC over RS-232/RS-485 or USB serial talk to the hub through these ports: Sitehub line protocol v1, or Modbus RTU with a register profile.</p>

      <section className="panel" aria-labelledby="machine-h">
        <div className="toolbar"><h2 id="machine-h">This machine's ports</h2><button className="button ghost" onClick={() => { void serial.refreshMachine() }}>Look again</button></div>
        {machine === undefined
          ? <p className="muted">Asking the operating system…</p>
          : (
            <>
              {machine.error !== null && <p className="note warn" data-testid="machine-error">{machine.error}</p>}
              {machine.ports.length === 0 && machine.error === null && <p className="muted" data-testid="machine-none">The operating system lists no serial ports. Plug in the USB adapter and press <em>Look again</em>, or enter a path by hand below.</p>}
              <ul className="endpoints" data-testid="machine-ports">
                {machine.ports.map(p => (
                  <li key={p.path} className="row wrap">
                    <code className="mono">{p.path}</code>
                    <span className="muted">{[p.manufacturer, p.serialNumber, p.vendorId !== null ? `${p.vendorId}:${p.productId ?? ''}` : null].filter(Boolean).join(' · ')}</span>
                    {p.configuredAs !== null
                      ? <span className="pill">configured as {p.configuredAs}</span>
                      : <button className="button" disabled={!canAdd.ok} title={canAdd.ok ? undefined : canAdd.reason} onClick={() => { setEditing({ name: null, draft: blank(p.path) }) }}>Use this port</button>}
                  </li>
                ))}
              </ul>
            </>
            )}
        {editing === undefined && <button className="button primary" data-testid="serial-new" disabled={!canAdd.ok} title={canAdd.ok ? undefined : canAdd.reason} onClick={() => { setEditing({ name: null, draft: blank() }) }}>Add a serial port</button>}
        <NotAllowed method="serial.add" what="Configuring serial ports" />
      </section>

      {editing !== undefined && (
        <PortForm key={editing.name ?? `new:${editing.draft.path}`} serial={serial} profiles={profiles} existing={editing.name} initial={editing.draft}
          onDone={() => { setEditing(undefined) }} />
      )}
      {error !== undefined && <ErrorNote error={error} />}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      {loaded && ports.length === 0 && editing === undefined && (
        <div className="note teach" data-testid="serial-empty">
          <p>No serial ports configured yet. Pick one of the machine's ports above (or <em>Add a serial port</em> and type its path: /dev/ttyUSB0, COM3), choose the protocol, and list the devices on that line.</p>
          <p className="small muted">Each device also needs an identity on the hub (<a href="#/provision">Add a device</a>): a line-protocol device proves it with its key, a Modbus device is polled under its id.</p>
        </div>
      )}
      {ports.map(p => (
        <PortPanel key={p.config.name} port={p}
          onEdit={() => { setEditing({ name: p.config.name, draft: draftOf(p) }) }}
          onToggle={() => { void serial.update({ name: p.config.name, enabled: !p.config.enabled }).then(setActionError) }}
          confirming={confirmRemove === p.config.name}
          onRemove={() => { setConfirmRemove(p.config.name) }}
          onCancelRemove={() => { setConfirmRemove(undefined) }}
          onConfirmRemove={() => { setConfirmRemove(undefined); void serial.remove(p.config.name).then(setActionError) }} />
      ))}
    </section>
  )
}

const STATE_WORDS: Record<SerialPortStatusView['state'], [string, string]> = {
  open: ['Open', 'good'], opening: ['Opening…', 'warn'], closed: ['Closed', 'warn'], backoff: ['Cannot open: retrying', 'bad'], disabled: ['Disabled', '']
}

function PortPanel ({ port, onEdit, onToggle, onRemove, confirming, onCancelRemove, onConfirmRemove }: {
  port: SerialPortView; onEdit: () => void; onToggle: () => void; onRemove: () => void; confirming: boolean; onCancelRemove: () => void; onConfirmRemove: () => void
}) {
  const { config: c, status: s } = port
  const canChange = useCan('serial.update')
  const canRemove = useCan('serial.remove')
  const [words, tone] = STATE_WORDS[s.state]
  const k = s.counters
  const counters: Array<[string, number, string, boolean]> = [
    ['Frames in', k.framesIn, 'framesIn', false], ['Frames out', k.framesOut, 'framesOut', false],
    ['CRC errors', k.badChecksum, 'badChecksum', true], ['Retransmits', k.retransmits, 'retransmits', true],
    ['Timeouts', k.timeouts, 'timeouts', true], ['Garbage lines', k.garbage, 'garbage', true], ['Too long', k.oversize, 'oversize', true],
    ['Port errors', k.portErrors, 'portErrors', true], ['Auth failures', k.authFailures, 'authFailures', true], ['Opens', k.opens, 'opens', false],
    ['Bytes in', k.bytesIn, 'bytesIn', false], ['Bytes out', k.bytesOut, 'bytesOut', false]
  ]
  return (
    <article className="panel" data-testid="serial-port" data-name={c.name} data-state={s.state} aria-labelledby={`port-${c.name}`}>
      <div className="row wrap">
        <h2 id={`port-${c.name}`} className="mono">{c.name}</h2>
        <span className={`pill big ${tone}`} data-testid="port-state">{words}</span>
        <small className="muted">since {ago(s.since)}{s.retryAt !== null ? ` · next try ${ago(s.retryAt)}` : ''}</small>
        <span className="grow" />
        <button className="button" onClick={onEdit} data-testid="port-edit" disabled={!canChange.ok} title={canChange.ok ? undefined : canChange.reason}>Configure</button>
        <button className="button" onClick={onToggle} disabled={!canChange.ok} title={canChange.ok ? undefined : canChange.reason}>{c.enabled ? 'Disable' : 'Enable'}</button>
        {confirming
          ? <><button className="button danger" data-testid="port-remove-confirm" onClick={onConfirmRemove}>Remove {c.name}</button><button className="button ghost" onClick={onCancelRemove}>Keep</button></>
          : <button className="button danger" data-testid="port-remove" onClick={onRemove} disabled={!canRemove.ok} title={canRemove.ok ? undefined : canRemove.reason}>Remove</button>}
      </div>
      <p className="small"><code className="mono">{c.path}</code> · {c.protocol === 'line' ? 'Sitehub line protocol v1' : 'Modbus RTU'} · {c.baudRate} baud {c.dataBits}{c.parity[0]?.toUpperCase()}{c.stopBits}
        {c.protocol === 'line' ? ` · keep-alive ${c.keepAliveSec} s` : ` · timeout ${c.timeoutMs} ms`}</p>
      {s.lastError !== null && <p className="note error small" data-testid="port-last-error">Last error: {s.lastError}</p>}
      <div className="counters" data-testid="port-counters">
        {counters.map(([label, value, key, isError]) => (
          <div key={key} className={`counter${isError && value > 0 ? ' bad' : ''}`} data-counter={key}><b>{value.toLocaleString()}</b><span>{label}</span></div>
        ))}
      </div>
      {s.devices.length === 0
        ? <p className="muted small">No devices listed: {c.protocol === 'line' ? 'any registered device may identify on this line. Add devices to restrict it (and for multidrop addresses).' : 'add the Modbus devices (unit id and profile) under Configure.'}</p>
        : (
          <table className="results" data-testid="port-devices">
            <thead><tr><th>Device</th><th>Address</th><th>Link</th><th>Last activity</th><th className="num">Errors</th><th>Last error</th></tr></thead>
            <tbody>
              {s.devices.map(d => (
                <tr key={d.deviceId} data-testid="port-device" data-device={d.deviceId} data-connected={String(d.connected)}>
                  <td><a href={`#/devices/${encodeURIComponent(d.deviceId)}`} className="mono">{d.deviceId}</a>
                    {!d.registered && <> <a className="pill warn" href="#/provision" title="This id has no identity on the hub: it is refused until you add it">not registered</a></>}</td>
                  <td>{d.address ?? '—'}</td>
                  <td><span className={`pill ${d.connected ? 'good' : ''}`}>{d.connected ? 'Connected' : 'Not connected'}</span></td>
                  <td>{ago(d.lastActivity)}</td>
                  <td className="num">{d.errors}</td>
                  <td className="small">{d.lastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
    </article>
  )
}

function PortForm ({ serial, profiles, existing, initial, onDone }: {
  serial: SerialStore; profiles: ModbusProfileView[]; existing: string | null; initial: Draft; onDone: () => void
}) {
  const [d, setD] = useState<Draft>(initial)
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const [busy, setBusy] = useState(false)
  const problems = checkPortDraft(d)
  const set = (p: Partial<Draft>): void => { setD({ ...d, ...p }) }
  const setDevice = (i: number, p: Partial<DeviceDraft>): void => { set({ devices: d.devices.map((x, j) => (j === i ? { ...x, ...p } : x)) }) }
  const validProfiles = profiles.filter(p => p.errors === null)

  async function submit (): Promise<void> {
    if (problems.length > 0) return
    setBusy(true)
    const devices = d.devices.map(x => ({
      deviceId: x.deviceId, address: x.address.trim() === '' ? null : Number(x.address), profile: d.protocol === 'modbus' && x.profile !== '' ? x.profile : null
    }))
    const fields = {
      path: d.path.trim(), protocol: d.protocol, baudRate: d.baudRate, dataBits: d.dataBits, parity: d.parity, stopBits: d.stopBits, enabled: d.enabled,
      keepAliveSec: d.keepAliveSec, maxLineBytes: d.maxLineBytes, timeoutMs: d.timeoutMs, devices
    }
    const err = existing === null
      ? await serial.add({ ...(d.name.trim() === '' ? {} : { name: d.name.trim() }), ...fields })
      : await serial.update({ name: existing, ...fields })
    setBusy(false)
    setError(err)
    if (err === undefined) onDone()
  }

  const num = (v: string, fallback: number): number => (Number.isFinite(Number(v)) && v.trim() !== '' ? Math.floor(Number(v)) : fallback)
  return (
    <form className="panel" aria-label={existing === null ? 'New serial port' : `Configure ${existing}`} data-testid="port-form" onSubmit={e => { e.preventDefault(); void submit() }}>
      <h2>{existing === null ? 'New serial port' : `Configure ${existing}`}</h2>
      <div className="form-grid">
        <label className="field"><span>Name{existing === null ? ' (optional)' : ''}</span><input value={existing ?? d.name} disabled={existing !== null} data-testid="port-name" placeholder="from the path" onChange={e => { set({ name: e.target.value }) }} /></label>
        <label className="field" style={{ gridColumn: 'span 2' }}><span>Port path</span><input className="mono" value={d.path} data-testid="port-path" placeholder="/dev/ttyUSB0 or COM3" onChange={e => { set({ path: e.target.value }) }} /></label>
        <label className="field"><span>Protocol</span>
          <select value={d.protocol} data-testid="port-protocol" onChange={e => { set({ protocol: e.target.value as Draft['protocol'] }) }}>
            <option value="line">Sitehub line protocol v1</option><option value="modbus">Modbus RTU</option>
          </select></label>
        <label className="field"><span>Baud rate</span>
          <select value={d.baudRate} data-testid="port-baud" onChange={e => { set({ baudRate: Number(e.target.value) }) }}>
            {(BAUDS.includes(d.baudRate) ? BAUDS : [...BAUDS, d.baudRate]).map(b => <option key={b} value={b}>{b}</option>)}
          </select></label>
        <label className="field"><span>Data bits</span><select value={d.dataBits} onChange={e => { set({ dataBits: Number(e.target.value) }) }}>{[8, 7, 6, 5].map(b => <option key={b}>{b}</option>)}</select></label>
        <label className="field"><span>Parity</span><select value={d.parity} onChange={e => { set({ parity: e.target.value as Draft['parity'] }) }}>{['none', 'even', 'odd', 'mark', 'space'].map(p => <option key={p}>{p}</option>)}</select></label>
        <label className="field"><span>Stop bits</span><select value={d.stopBits} onChange={e => { set({ stopBits: Number(e.target.value) }) }}>{[1, 2].map(b => <option key={b}>{b}</option>)}</select></label>
        {d.protocol === 'line'
          ? <label className="field"><span>Keep-alive (s)</span><input type="number" min={1} max={3600} value={d.keepAliveSec} onChange={e => { set({ keepAliveSec: num(e.target.value, d.keepAliveSec) }) }} /></label>
          : <label className="field"><span>Reply timeout (ms)</span><input type="number" min={20} max={60000} value={d.timeoutMs} onChange={e => { set({ timeoutMs: num(e.target.value, d.timeoutMs) }) }} /></label>}
        <label className="field radio"><span>Enabled</span><input type="checkbox" checked={d.enabled} onChange={e => { set({ enabled: e.target.checked }) }} /></label>
      </div>
      <h3>Devices on this line</h3>
      <p className="small muted">{d.protocol === 'line'
        ? 'Optional for a single device (any registered device may identify). Several devices on one wire (RS-485 multidrop) each need an address.'
        : 'Each Modbus device needs its unit id (1-247) and the profile that maps its registers to telemetry and twin properties.'}</p>
      <div className="device-rows">
        {d.devices.map((x, i) => (
          <div key={i} className="row wrap" data-testid="port-device-row">
            <label className="field grow"><span>Device id</span><input className="mono" value={x.deviceId} data-testid="port-device-id" onChange={e => { setDevice(i, { deviceId: e.target.value.trim() }) }} /></label>
            <label className="field"><span>Address</span><input inputMode="numeric" size={5} value={x.address} data-testid="port-device-address" placeholder={d.protocol === 'modbus' ? '1-247' : 'none'} onChange={e => { setDevice(i, { address: e.target.value }) }} /></label>
            {d.protocol === 'modbus' && (
              <label className="field"><span>Profile</span>
                <select value={x.profile} data-testid="port-device-profile" onChange={e => { setDevice(i, { profile: e.target.value }) }}>
                  <option value="">pick a profile</option>
                  {validProfiles.map(p => <option key={p.name} value={p.name}>{p.name}</option>)}
                </select></label>
            )}
            <button type="button" className="button ghost" aria-label={`Remove device ${i + 1}`} onClick={() => { set({ devices: d.devices.filter((_, j) => j !== i) }) }}>Remove</button>
          </div>
        ))}
      </div>
      <button type="button" className="button" data-testid="port-add-device" onClick={() => { set({ devices: [...d.devices, { deviceId: '', address: '', profile: '' }] }) }}>Add a device</button>
      {problems.length > 0 && <ul className="problems" data-testid="port-problems">{problems.map(p => <li key={p}>{p}</li>)}</ul>}
      {error !== undefined && <ErrorNote error={error} />}
      <div className="row" style={{ marginTop: '0.8rem' }}>
        <button className="button primary" type="submit" disabled={problems.length > 0 || busy} data-testid="port-save">{existing === null ? 'Add port' : 'Save changes'}</button>
        <button className="button ghost" type="button" onClick={onDone}>Cancel</button>
      </div>
    </form>
  )
}
