// Saved views of the devices table: pick one to open it, save what the table shows under a
// name (or update the open view), and manage the list (open, rename, delete). The hub keeps
// the views for everyone on the site; the list follows other technicians' changes live.
import { useState } from 'react'
import { useStore } from 'zustand'
import type { DeviceSort, SavedView } from '../../../shared/contract/index'
import { ago } from '../lib/time'
import type { DevicesStore } from '../state/devices'
import { differsFromView, viewNameProblem, type TableState } from '../state/views'
import { useCan } from './Access'
import { ErrorNote } from './ErrorNote'

const COLUMN_WORDS: Record<DeviceSort['column'], string> = {
  deviceId: 'device', connectionState: 'connection', status: 'status', firmware: 'firmware', state: 'state', lastActivityTime: 'last activity'
}

/** "query · search · sorted by" in a few words. */
export function describeView (v: { search: string; query: string; sort: DeviceSort | null }): string {
  const parts: string[] = []
  if (v.query !== '') parts.push(v.query)
  if (v.search !== '') parts.push(`id contains “${v.search}”`)
  if (v.sort !== null) parts.push(`by ${COLUMN_WORDS[v.sort.column]} ${v.sort.direction === 'asc' ? '▲' : '▼'}`)
  return parts.length === 0 ? 'all devices' : parts.join(' · ')
}

export function SavedViews ({ devices, onOpened }: { devices: DevicesStore; onOpened: (view: SavedView) => void }) {
  const { views: list, active, error, busy, loaded } = useStore(devices.views.store)
  const { search, query, sort } = useStore(devices.store)
  const [panel, setPanel] = useState<'save' | 'manage' | undefined>()
  // everyone may open views; saving, renaming and deleting them is operating the site
  const canSave = useCan('views.save').ok
  const table: TableState = { search, query, sort }
  const open = list.find(v => v.name === active)
  const changed = open !== undefined && differsFromView(open, table)

  async function openView (v: SavedView): Promise<void> {
    devices.views.setActive(v.name)
    onOpened(v)
    await devices.applyView(v)
  }

  return (
    <div className="views" role="region" aria-label="Saved views">
      <div className="row wrap">
        <label className="views-pick">
          <span>View</span>
          <select data-testid="view-select" value={active ?? ''} disabled={!loaded}
            onChange={e => {
              const v = list.find(x => x.name === e.target.value)
              if (v === undefined) devices.views.setActive(undefined)
              else void openView(v)
            }}>
            <option value="">{list.length === 0 ? 'No saved views yet' : 'Pick a saved view…'}</option>
            {list.map(v => <option key={v.name} value={v.name}>{v.name}</option>)}
          </select>
        </label>
        {changed && <span className="pill warn" data-testid="view-changed" title="The table no longer shows exactly what this view saved">changed</span>}
        {changed && open !== undefined && canSave && (
          <button type="button" className="button" data-testid="view-update" disabled={busy}
            onClick={() => { void devices.views.save(open.name, table, true) }}>Update “{open.name}”</button>
        )}
        {canSave && (
          <>
            <button type="button" className="button" data-testid="view-save" aria-expanded={panel === 'save'}
              onClick={() => { setPanel(panel === 'save' ? undefined : 'save') }}>Save as view…</button>
            <button type="button" className="button ghost" data-testid="views-manage" aria-expanded={panel === 'manage'} disabled={list.length === 0}
              onClick={() => { setPanel(panel === 'manage' ? undefined : 'manage') }}>Manage views ({list.length})</button>
          </>
        )}
      </div>
      {error !== undefined && <ErrorNote error={error} />}
      {panel === 'save' && canSave && <SaveForm devices={devices} table={table} list={list} onDone={() => { setPanel(undefined) }} />}
      {panel === 'manage' && canSave && <ManageList devices={devices} list={list} active={active} onOpen={v => { void openView(v) }} />}
    </div>
  )
}

function SaveForm ({ devices, table, list, onDone }: { devices: DevicesStore; table: TableState; list: SavedView[]; onDone: () => void }) {
  const { busy } = useStore(devices.views.store)
  const [name, setName] = useState('')
  const [replace, setReplace] = useState(false)
  const problem = viewNameProblem(name, list)
  const clash = list.find(v => v.name.toLowerCase() === name.trim().replace(/\s+/g, ' ').toLowerCase())
  const canSave = problem === undefined || (clash !== undefined && replace)
  const save = async (): Promise<void> => {
    if (!canSave) return
    const v = await devices.views.save(name, table, clash !== undefined && replace)
    if (v !== undefined) onDone()
  }
  return (
    <form className="panel views-form" data-testid="view-save-form" onSubmit={e => { e.preventDefault(); void save() }}>
      <p className="small muted">Saves <strong>{describeView({ ...table, search: table.search.trim(), query: table.query.trim() })}</strong> for everyone on this site.</p>
      <div className="row wrap">
        <label className="field grow">
          <span>Name</span>
          <input value={name} autoFocus maxLength={80} data-testid="view-name" placeholder="e.g. Presses offline"
            aria-invalid={name !== '' && problem !== undefined && !(clash !== undefined && replace)}
            onChange={e => { setName(e.target.value); setReplace(false) }} />
        </label>
        <button type="submit" className="button primary" data-testid="view-save-confirm" disabled={!canSave || busy}>{clash !== undefined && replace ? 'Replace' : 'Save'}</button>
        <button type="button" className="button" onClick={onDone}>Cancel</button>
      </div>
      {name !== '' && problem !== undefined && <p className="field-error" data-testid="view-name-problem">{problem}</p>}
      {clash !== undefined && (
        <label className="radio"><input type="checkbox" checked={replace} data-testid="view-replace" onChange={e => { setReplace(e.target.checked) }} /> Replace “{clash.name}” with what the table shows now</label>
      )}
    </form>
  )
}

function ManageList ({ devices, list, active, onOpen }: { devices: DevicesStore; list: SavedView[]; active: string | undefined; onOpen: (v: SavedView) => void }) {
  const { busy } = useStore(devices.views.store)
  const [renaming, setRenaming] = useState<string | undefined>()
  const [newName, setNewName] = useState('')
  const [deleting, setDeleting] = useState<string | undefined>()
  const problem = renaming === undefined ? undefined : viewNameProblem(newName, list, renaming)
  return (
    <ul className="panel views-list" data-testid="views-list">
      {list.map(v => (
        <li key={v.name} data-testid="view-item" data-name={v.name} aria-current={v.name === active ? 'true' : undefined}>
          {renaming === v.name
            ? (
              <form className="row wrap" onSubmit={e => {
                e.preventDefault()
                if (problem === undefined) void devices.views.rename(v.name, newName).then(r => { if (r !== undefined) setRenaming(undefined) })
              }}>
                <label className="field grow"><span>New name for “{v.name}”</span>
                  <input value={newName} autoFocus maxLength={80} data-testid="view-new-name" aria-invalid={problem !== undefined}
                    onChange={e => { setNewName(e.target.value) }}
                    onKeyDown={e => { if (e.key === 'Escape') setRenaming(undefined) }} />
                </label>
                <button type="submit" className="button primary" data-testid="view-rename-confirm" disabled={problem !== undefined || busy}>Rename</button>
                <button type="button" className="button" onClick={() => { setRenaming(undefined) }}>Cancel</button>
                {problem !== undefined && newName.trim() !== '' && <p className="field-error" data-testid="view-rename-problem">{problem}</p>}
              </form>
              )
            : (
              <div className="views-item">
                <div className="views-what">
                  <strong>{v.name}</strong>{v.name === active && <span className="pill good">open</span>}
                  <small className="muted mono">{describeView(v)}</small>
                  <small className="muted">saved {ago(v.updatedTime)}</small>
                </div>
                <div className="row wrap">
                  <button type="button" className="button" data-testid="view-open" onClick={() => { onOpen(v) }}>Open</button>
                  <button type="button" className="button" data-testid="view-rename" onClick={() => { setRenaming(v.name); setNewName(v.name); setDeleting(undefined) }}>Rename…</button>
                  <button type="button" className="button ghost" data-testid="view-delete" onClick={() => { setDeleting(v.name); setRenaming(undefined) }}>Delete…</button>
                </div>
              </div>
              )}
          {deleting === v.name && (
            <div className="note warn" role="alertdialog" aria-label={`Delete view ${v.name}`}>
              <p>Delete the view “{v.name}” for everyone on this site? The devices are not touched.</p>
              <div className="row">
                <button type="button" className="button danger" autoFocus data-testid="view-delete-confirm"
                  onClick={() => { setDeleting(undefined); void devices.views.remove(v.name) }}>Delete</button>
                <button type="button" className="button" onClick={() => { setDeleting(undefined) }}>Cancel</button>
              </div>
            </div>
          )}
        </li>
      ))}
    </ul>
  )
}
