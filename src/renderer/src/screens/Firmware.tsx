import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import type { HubErrorInfo } from '../../../shared/contract/index'
import { IfCan, NotAllowed, useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { ago } from '../lib/time'
import { IMAGE_ID, type FirmwareStore } from '../state/firmware'
import './site.css'

export function bytes (n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`
  return `${(n / 1024 ** 3).toFixed(2)} GB`
}

export function Firmware ({ firmware }: { firmware: FirmwareStore }) {
  useEffect(() => firmware.start(), [firmware])
  const { images, loaded, error } = useStore(firmware.store)
  const [confirm, setConfirm] = useState<string | undefined>()
  const [removeError, setRemoveError] = useState<HubErrorInfo | undefined>()
  const canRemove = useCan('firmware.remove')
  return (
    <section aria-labelledby="fw-page-h" data-testid="firmware">
      <h1 id="fw-page-h">Firmware library</h1>
      <p className="muted">Images kept on this hub and served to devices over HTTPS. Upload one here, then update a device from its page (Firmware update) or many with a job.</p>
      <IfCan method="firmware.uploadBegin" fallback={<NotAllowed method="firmware.uploadBegin" what="Uploading firmware" />}><Upload firmware={firmware} /></IfCan>
      {error !== undefined && <ErrorNote error={error} />}
      {removeError !== undefined && <ErrorNote error={removeError} />}
      {loaded && images.length === 0 && (
        <p className="note teach" data-testid="firmware-empty">No firmware images yet. Choose an image file above, give it a name (the product, e.g. <code className="mono">pump-fw</code>) and a version, and upload it. It then appears on every device page under <em>Firmware update</em>.</p>
      )}
      {images.length > 0 && (
        <section className="panel" aria-labelledby="fw-list-h">
          <h2 id="fw-list-h">Images</h2>
          <table className="results" data-testid="firmware-list">
            <thead><tr><th>Image</th><th>Version</th><th className="num">Size</th><th>SHA-256</th><th>Uploaded</th><th>Deployed</th><th /></tr></thead>
            <tbody>
              {images.map(i => {
                const key = `${i.name}@${i.version}`
                return (
                  <tr key={key} data-testid="firmware-image" data-image={key} data-running={i.runningOn}>
                    <td><strong className="mono">{i.name}</strong>{i.description !== null && <div className="small muted">{i.description}</div>}</td>
                    <td className="mono">{i.version}</td>
                    <td className="num">{bytes(i.size)}</td>
                    <td><code className="mono small" title={i.sha256} data-testid="firmware-sha">{i.sha256.slice(0, 12)}…</code></td>
                    <td>{ago(i.uploadedAt)}</td>
                    <td>
                      <a href={`#/devices?q=${encodeURIComponent(i.runningQuery)}`} data-testid="firmware-running">{i.runningOn === 1 ? '1 device' : `${i.runningOn} devices`}</a>
                      {i.installing > 0 && <div className="small"><span className="pill warn">{i.installing} installing</span></div>}
                    </td>
                    <td>
                      {confirm === key
                        ? <span className="row"><button className="button danger" data-testid="firmware-remove-confirm" onClick={() => { setConfirm(undefined); void firmware.remove(i.name, i.version).then(setRemoveError) }}>Delete {i.version}</button><button className="button ghost" onClick={() => { setConfirm(undefined) }}>Keep</button></span>
                        : <button className="button" data-testid="firmware-remove" disabled={!canRemove.ok} title={canRemove.ok ? undefined : canRemove.reason} onClick={() => { setRemoveError(undefined); setConfirm(key) }}>Delete</button>}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </section>
      )}
    </section>
  )
}

const PHASE_WORDS = { hashing: 'Checking the file (SHA-256)', uploading: 'Uploading', finishing: 'The hub is verifying and storing it', done: 'Stored', failed: 'Upload failed', cancelled: 'Cancelled' } as const

function Upload ({ firmware }: { firmware: FirmwareStore }) {
  const { upload } = useStore(firmware.store)
  const [file, setFile] = useState<File | undefined>()
  const [name, setName] = useState('')
  const [version, setVersion] = useState('')
  const [description, setDescription] = useState('')
  const running = upload !== undefined && (upload.phase === 'hashing' || upload.phase === 'uploading' || upload.phase === 'finishing')
  const nameOk = IMAGE_ID.test(name)
  const versionOk = IMAGE_ID.test(version)
  const ready = file !== undefined && nameOk && versionOk && !running

  function pick (f: File | undefined): void {
    setFile(f)
    firmware.clearUpload()
    if (f === undefined) return
    // pump-fw-2.1.0.bin -> name pump-fw, version 2.1.0 (a guess the technician can change)
    const stem = f.name.replace(/\.[A-Za-z0-9]+$/, '')
    const m = /^(.*?)[-_ ]v?(\d+(?:\.\d+)+[A-Za-z0-9.+-]*)$/.exec(stem)
    if (name === '') setName((m?.[1] ?? stem).replace(/[^A-Za-z0-9._+-]/g, '-').replace(/^[^A-Za-z0-9]+/, ''))
    if (version === '' && m?.[2] !== undefined) setVersion(m[2])
  }

  const pct = upload === undefined || upload.total === 0 ? 0 : Math.round((upload.done / upload.total) * 100)
  return (
    <form className="panel" aria-label="Upload an image" onSubmit={e => { e.preventDefault(); if (ready) void firmware.upload(file, { name, version, description }) }}>
      <h2>Upload an image</h2>
      <div className="upload-drop">
        <label className="field"><span>Image file</span><input type="file" data-testid="fw-file" onChange={e => { pick(e.target.files?.[0]) }} /></label>
        {file !== undefined && <p className="small muted">{file.name} · {bytes(file.size)}</p>}
      </div>
      <div className="form-grid">
        <label className="field"><span>Name</span><input className="mono" value={name} data-testid="fw-name" placeholder="pump-fw" onChange={e => { setName(e.target.value.trim()) }} /></label>
        <label className="field"><span>Version</span><input className="mono" value={version} data-testid="fw-version" placeholder="2.1.0" onChange={e => { setVersion(e.target.value.trim()) }} /></label>
        <label className="field" style={{ gridColumn: 'span 2' }}><span>Description (optional)</span><input value={description} data-testid="fw-description" maxLength={1024} placeholder="release notes, build id" onChange={e => { setDescription(e.target.value) }} /></label>
      </div>
      {name !== '' && !nameOk && <p className="field-error">The name must be letters, digits, . _ + - (starting with a letter or digit, no spaces).</p>}
      {version !== '' && !versionOk && <p className="field-error">The version must be letters, digits, . _ + - (starting with a letter or digit, no spaces).</p>}
      {upload !== undefined && (
        <div data-testid="fw-upload" data-phase={upload.phase} data-percent={pct}>
          <p className="small">{PHASE_WORDS[upload.phase]} {upload.name} {upload.version}{running ? ` · ${pct}% of ${bytes(upload.total)}` : ''}
            {upload.phase === 'done' && (upload.created === false ? ' (the library already had exactly these bytes)' : ` · SHA-256 ${upload.sha256 ?? ''} verified by the hub`)}</p>
          <div className="progress" role="progressbar" aria-label="Upload progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
            <div className={upload.phase === 'failed' ? 'progress-bad' : 'progress-ok'} style={{ width: `${upload.phase === 'done' ? 100 : pct}%` }} />
          </div>
          {upload.error !== undefined && <ErrorNote error={upload.error} />}
        </div>
      )}
      <div className="row">
        <button className="button primary" type="submit" disabled={!ready} data-testid="fw-upload-start">Upload</button>
        {running && <button className="button ghost" type="button" onClick={() => { firmware.cancel() }}>Cancel</button>}
      </div>
    </form>
  )
}
