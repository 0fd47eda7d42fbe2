// One part of a twin (tags, desired or reported) as a list of leaf paths, with $metadata's
// $lastUpdated as "last updated" and, for desired, whether the device has caught up.
import type { JsonObject, JsonValue } from '../../../shared/contract/index'
import { desiredState } from '../lib/desired-state'
import { ago } from '../lib/time'

export interface Leaf { path: string; value: JsonValue; updated: string | undefined }

function metaAt (meta: JsonObject | undefined, parts: string[]): string | undefined {
  let node: JsonValue | undefined = meta
  let last: string | undefined
  for (const p of parts) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) break
    const lu = node['$lastUpdated']
    if (typeof lu === 'string') last = lu
    node = node[p]
  }
  if (node !== null && typeof node === 'object' && !Array.isArray(node) && typeof node['$lastUpdated'] === 'string') last = node['$lastUpdated']
  return last
}

export function leaves (obj: JsonObject, meta?: JsonObject, prefix: string[] = []): Leaf[] {
  const out: Leaf[] = []
  for (const [k, v] of Object.entries(obj)) {
    const parts = [...prefix, k]
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) out.push(...leaves(v, meta, parts))
    else out.push({ path: parts.join('.'), value: v, updated: metaAt(meta, parts) })
  }
  return out
}

const show = (v: JsonValue | undefined): string => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v))

export function TwinSection ({ title, data, meta, compareWith, testid }: {
  title: string; data: JsonObject; meta?: JsonObject; compareWith?: JsonObject; testid: string
}) {
  const list = leaves(data, meta)
  return (
    <section className="panel twin-part" aria-label={title} data-testid={testid}>
      <h3>{title}</h3>
      {list.length === 0
        ? <p className="muted">Nothing here yet.</p>
        : (
          <dl className="props">
            {list.map(l => {
              const sync = compareWith === undefined ? undefined : desiredState(l.path, l.value, compareWith)
              return (
                <div key={l.path} data-path={l.path}>
                  <dt className="mono">{l.path}</dt>
                  <dd>
                    <span className="mono" data-testid="prop-value">{show(l.value)}</span>
                    {sync !== undefined && (
                      <span className={`pill ${sync.state === 'applied' ? 'good' : sync.state === 'refused' ? 'bad' : 'warn'}`} data-testid="sync-state"
                        title={sync.state === 'refused' ? sync.reason : undefined}>{sync.state}</span>
                    )}
                    <small className="muted"> last updated {ago(l.updated)}</small>
                  </dd>
                </div>
              )
            })}
          </dl>
          )}
    </section>
  )
}
