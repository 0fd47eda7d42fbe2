import { useEffect } from 'react'
import { useStore } from 'zustand'
import type { HubStatusState, HubStatusStore } from './state/hub-status'

export function App ({ hubStatus }: { hubStatus: HubStatusStore }) {
  const { source, status, error } = useStore(hubStatus.store)
  useEffect(() => hubStatus.poll(), [hubStatus])

  return (
    <main className="page">
      <h1>Sitehub</h1>
      {source === 'unavailable'
        ? (
          <p className="notice">
            This UI is served by the Sitehub desktop app. The browser UI arrives with a later release;
            until then, open Sitehub on the site PC.
          </p>
          )
        : <StatusPanel status={status} error={error} />}
    </main>
  )
}

function StatusPanel ({ status, error }: Pick<HubStatusState, 'status' | 'error'>) {
  if (error !== undefined) return <p className="notice error">Cannot reach the hub: {error}</p>
  if (status === undefined || status.state === 'starting') return <p className="notice">Hub starting…</p>
  if (status.state === 'failed') return <p className="notice error">The hub did not start: {status.error}</p>
  return (
    <section aria-label="Hub status">
      <dl className="counts">
        <div><dt>Devices</dt><dd data-testid="device-count">{status.devices}</dd></div>
        <div><dt>Connected</dt><dd data-testid="connected-count">{status.connected}</dd></div>
      </dl>
      <h2>Endpoints</h2>
      <ul className="endpoints">
        {status.endpoints.map(e => <li key={e.name + e.url}><span>{e.name}</span> <code>{e.url}</code></li>)}
      </ul>
    </section>
  )
}
