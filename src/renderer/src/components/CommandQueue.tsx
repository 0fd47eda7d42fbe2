// Queued commands of one device (the hub's offline command queue, docs/commands.md): queue a
// direct method with a time-to-live, whether the device is online or not; watch it go from
// waiting to sent to done as the device connects and answers; cancel one still waiting.
import { useEffect, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import type { CommandView, HubApi, JsonValue } from '../../../shared/contract/index'
import { plainMessage } from '../lib/plain-errors'
import { ago } from '../lib/time'
import { ACTIVE_STATES, TTL_CHOICES, createDeviceCommandsStore } from '../state/device-commands'
import { NotAllowed, useCan } from './Access'
import { ErrorNote } from './ErrorNote'

const STATE_WORDS: Record<CommandView['status'], [string, string]> = {
  // status: [words, pill class]
  queued: ['Waiting for the device', 'warn'],
  in_progress: ['Sent, waiting for the answer', 'warn'],
  succeeded: ['Done', 'good'],
  failed: ['Failed', 'bad'],
  timed_out: ['No answer in time', 'bad'],
  expired: ['Expired, never sent', 'off'],
  cancelled: ['Cancelled, never sent', 'off']
}

/** "in 59 min", "in 3 h", "in 2 days". */
export function until (iso: string, now = Date.now()): string {
  const s = Math.floor((Date.parse(iso) - now) / 1000)
  if (!Number.isFinite(s)) return '?'
  if (s <= 0) return 'now'
  if (s < 60) return `in ${s} s`
  if (s < 3600) return `in ${Math.ceil(s / 60)} min`
  if (s < 86_400 * 2) return `in ${Math.round(s / 3600)} h`
  return `in ${Math.round(s / 86_400)} days`
}

export function CommandQueue ({ api, deviceId, online }: { api: HubApi; deviceId: string; online: boolean }) {
  const cmds = useMemo(() => createDeviceCommandsStore(api, deviceId), [api, deviceId])
  useEffect(() => cmds.start(), [cmds])
  const { commands, loaded, error, actionError, busy } = useStore(cmds.store)
  const canQueue = useCan('commands.enqueue').ok
  const canCancel = useCan('commands.cancel').ok
  const [name, setName] = useState('')
  const [payload, setPayload] = useState('')
  const [ttl, setTtl] = useState(86_400)
  const [timeout, setTimeoutS] = useState(30)
  // times like "expires in" move on their own
  const [now, setNow] = useState(Date.now())
  useEffect(() => { const t = setInterval(() => { setNow(Date.now()) }, 15_000); return () => { clearInterval(t) } }, [])

  let payloadValue: JsonValue | undefined
  let payloadError: string | undefined
  if (payload.trim() !== '') {
    try { payloadValue = JSON.parse(payload) as JsonValue } catch (err) { payloadError = `Payload is not valid JSON: ${(err as Error).message}` }
  }
  const nameError = name !== '' && !/^[!#%&'*+\-.0-9A-Z^_`a-z|~]{1,128}$/.test(name) ? 'A method name has letters, digits and - . _ only (no spaces).' : undefined
  const waiting = commands.filter(c => ACTIVE_STATES.has(c.status)).length

  const submit = (): void => {
    if (name === '' || nameError !== undefined || payloadError !== undefined) return
    void cmds.enqueue({ methodName: name, ttlInSeconds: ttl, responseTimeoutInSeconds: timeout, ...(payloadValue === undefined ? {} : { payload: payloadValue }) })
      .then(c => { if (c !== undefined) { setName(''); setPayload('') } })
  }

  return (
    <section className="panel" aria-labelledby="cmd-h" data-testid="commands">
      <h2 id="cmd-h">Queued commands {waiting > 0 && <span className="pill warn" data-testid="commands-waiting">{waiting} waiting</span>}</h2>
      <p className="small muted">
        {online
          ? 'The device is online: a queued command is sent at once, one at a time, oldest first.'
          : 'The device is offline: queued commands wait and are sent when it connects, unless they expire first.'}
      </p>
      <NotAllowed method="commands.enqueue" what="Queueing commands" />
      {canQueue && <form onSubmit={e => { e.preventDefault(); submit() }}>
        <div className="row wrap">
          <label className="field grow"><span>Method</span>
            <input className="mono" value={name} list="cmd-presets" data-testid="command-method" placeholder="e.g. reboot" aria-invalid={nameError !== undefined}
              onChange={e => { setName(e.target.value.trim()) }} />
            <datalist id="cmd-presets"><option value="reboot" /><option value="factoryReset" /><option value="getDiagnostics" /></datalist>
          </label>
          <label className="field"><span>Wait up to</span>
            <select value={ttl} data-testid="command-ttl" onChange={e => { setTtl(Number(e.target.value)) }}>
              {TTL_CHOICES.map(([s, label]) => <option key={s} value={s}>{label}</option>)}
            </select>
          </label>
          <label className="field"><span>Answer within (s)</span>
            <input type="number" min={5} max={300} value={timeout} data-testid="command-timeout" onChange={e => { setTimeoutS(Number(e.target.value)) }} />
          </label>
        </div>
        <label className="field"><span>Payload (JSON, optional)</span>
          <textarea className="mono" rows={2} value={payload} data-testid="command-payload" onChange={e => { setPayload(e.target.value) }} />
        </label>
        {nameError !== undefined && <p className="field-error">{nameError}</p>}
        {payloadError !== undefined && <p className="field-error">{payloadError}</p>}
        <button type="submit" className="button primary" data-testid="command-enqueue" disabled={name === '' || nameError !== undefined || payloadError !== undefined || busy}>
          Queue command
        </button>
      </form>}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      {error !== undefined && <ErrorNote error={error} />}
      {loaded && commands.length === 0 && <p className="muted" data-testid="commands-empty">No commands yet. Queue one for a device that is offline now, e.g. a reboot for tonight.</p>}
      {commands.length > 0 && (
        <ul className="cmds" data-testid="command-list">
          {commands.map(c => {
            const [words, tone] = STATE_WORDS[c.status]
            return (
              <li key={c.commandId} data-testid="command" data-id={c.commandId} data-method={c.methodName} data-status={c.status}>
                <div className="row wrap">
                  <strong className="mono">{c.methodName}</strong>
                  <span className={`pill ${tone}`} data-testid="command-state">{words}</span>
                  {c.status === 'queued' && canCancel && (
                    <button type="button" className="button ghost" data-testid="command-cancel" onClick={() => { void cmds.cancel(c.commandId) }}>Cancel</button>
                  )}
                </div>
                <small className="muted">
                  queued {ago(c.createdTime, now)}
                  {c.status === 'queued' && ` · expires ${until(c.expiryTime, now)}`}
                  {c.endTime !== null && ` · ended ${ago(c.endTime, now)}`}
                  {c.attempts > 1 && ` · sent ${c.attempts} times`}
                </small>
                {c.response !== null && <div data-testid="command-response">answer {c.response.status} <code className="mono">{JSON.stringify(c.response.payload)}</code></div>}
                {c.error !== null && c.status !== 'cancelled' && <div className="small">{plainMessage({ code: 0, name: c.error.code, message: c.error.message })} <small className="muted">{c.error.code}</small></div>}
                {c.statusReason !== null && c.error === null && <div className="small muted">{c.statusReason}</div>}
              </li>
            )
          })}
        </ul>
      )}
    </section>
  )
}
