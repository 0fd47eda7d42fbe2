import { useMemo, useState } from 'react'
import { DEVICE_ID, type HubApi, type HubErrorInfo, type JsonObject } from '../../../shared/contract/index'
import { BulkImport } from '../components/BulkImport'
import { ErrorNote } from '../components/ErrorNote'
import { ExportDevices } from '../components/ExportDevices'
import { createProvisioningStore } from '../state/provisioning'
import './ops.css'
import { parsePatch } from '../state/device-detail'
import { IfCan, NotAllowed } from '../components/Access'

export function Provision ({ api }: { api: HubApi }) {
  const prov = useMemo(() => createProvisioningStore(api), [api])
  const [deviceId, setDeviceId] = useState('')
  const [tags, setTags] = useState('')
  const [enabled, setEnabled] = useState(true)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const [created, setCreated] = useState<{ deviceId: string; connectionString: string } | undefined>()
  const idProblem = deviceId === '' ? undefined : DEVICE_ID.test(deviceId) ? undefined : "Use up to 128 letters, digits or - . + % _ # * ? ! ( ) , : = @ $ ' (no spaces)."
  const tagsParsed = tags.trim() === '' ? undefined : parsePatch(tags)

  async function create (): Promise<void> {
    if (deviceId === '' || idProblem !== undefined || (tagsParsed !== undefined && !tagsParsed.ok)) return
    setBusy(true)
    setError(undefined)
    const t: JsonObject | undefined = tagsParsed?.ok === true ? tagsParsed.value : undefined
    const r = await api.call('devices.create', { deviceId, status: enabled ? 'enabled' : 'disabled', ...(t === undefined ? {} : { tags: t }) })
    if (!r.ok) { setError(r.error); setBusy(false); return }
    const cs = await api.call('devices.connectionString', { deviceId })
    setBusy(false)
    if (!cs.ok) { setError(cs.error); return }
    setCreated({ deviceId, connectionString: cs.value.connectionString })
    setDeviceId('')
    setTags('')
  }

  return (
    <section aria-labelledby="prov-h" className="narrow">
      <h1 id="prov-h">Add a device</h1>
      <p className="muted">Register the device here, then give it the connection string Sitehub shows. It appears online as soon as it connects.</p>
      <NotAllowed method="devices.create" what="Adding devices" />
      <IfCan method="devices.create">
        <form className="panel" onSubmit={e => { e.preventDefault(); void create() }}>
          <label className="field">
            <span>Device id</span>
            <input value={deviceId} autoFocus data-testid="new-device-id" placeholder="e.g. press-12" aria-invalid={idProblem !== undefined}
              onChange={e => { setDeviceId(e.target.value.trim()) }} />
          </label>
          {idProblem !== undefined && <p className="field-error">{idProblem}</p>}
          <label className="field">
            <span>Tags (JSON, optional)</span>
            <textarea className="mono" rows={3} value={tags} placeholder='{"site": "hall-2", "line": 3}' onChange={e => { setTags(e.target.value) }} />
          </label>
          {tagsParsed !== undefined && !tagsParsed.ok && <p className="field-error">{tagsParsed.message}</p>}
          <label className="radio"><input type="checkbox" checked={enabled} onChange={e => { setEnabled(e.target.checked) }} /> Allow it to connect now (enabled)</label>
          <div className="row">
            <button className="button primary" type="submit" data-testid="create-device" disabled={busy || deviceId === '' || idProblem !== undefined}>
              {busy ? 'Adding…' : 'Add device'}
            </button>
          </div>
        </form>
        {error !== undefined && <ErrorNote error={error} />}
        {created !== undefined && (
          <div className="note good" data-testid="created">
            <p><strong className="mono">{created.deviceId}</strong> is registered. Put this connection string on the device:</p>
            <code className="mono wrap" data-testid="created-connection-string">{created.connectionString}</code>
            <div className="row">
              <button className="button" onClick={() => { void navigator.clipboard?.writeText(created.connectionString) }}>Copy</button>
              <a className="button primary" href={`#/devices/${encodeURIComponent(created.deviceId)}`} data-testid="open-created">Open the device</a>
            </div>
          </div>
        )}
        <BulkImport prov={prov} />
      </IfCan>
      <ExportDevices prov={prov} />
    </section>
  )
}
