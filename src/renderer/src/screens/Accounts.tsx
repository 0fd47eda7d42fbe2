// Accounts (admin): who may use this hub and with which role; add, change role, reset a
// password, remove. And "My account" (anyone signed in): change your own password.
import { useCallback, useEffect, useState } from 'react'
import { ACCOUNT_NAME, MIN_PASSWORD, ROLE_LABELS, ROLES, type AccountView, type HubApi, type HubErrorInfo, type Role } from '../../../shared/contract/index'
import { useCan } from '../components/Access'
import { ErrorNote } from '../components/ErrorNote'
import { ago } from '../lib/time'
import './auth.css'

const ROLE_HELP: Record<Role, string> = {
  technician: 'operates devices: desired properties, methods, jobs, enable/disable',
  supervisor: 'sees everything and approves (conflicts, alerts); changes nothing else',
  admin: 'everything, plus the device registry, configurations, settings and accounts'
}

export function Accounts ({ api }: { api: HubApi }) {
  const allowed = useCan('accounts.list')
  const [accounts, setAccounts] = useState<AccountView[] | undefined>()
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const [notice, setNotice] = useState<string | undefined>()
  const load = useCallback(async () => {
    const r = await api.call('accounts.list', undefined)
    if (r.ok) setAccounts(r.value)
    else setError(r.error)
  }, [api])
  useEffect(() => { if (allowed.ok) void load() }, [load, allowed.ok])
  if (!allowed.ok) return <p className="note" data-testid="not-allowed">Accounts are managed by admins. {allowed.reason}.</p>

  async function act (p: Promise<{ ok: boolean; error?: HubErrorInfo }>, done: string): Promise<boolean> {
    setError(undefined)
    setNotice(undefined)
    const r = await p
    if (!r.ok) { setError(r.error); return false }
    setNotice(done)
    await load()
    return true
  }

  return (
    <section aria-labelledby="acc-h">
      <h1 id="acc-h">Accounts</h1>
      <p className="muted">Roles: <strong>Technician</strong> {ROLE_HELP.technician}; <strong>Supervisor</strong> {ROLE_HELP.supervisor}; <strong>Admin</strong> {ROLE_HELP.admin}.</p>
      {error !== undefined && <ErrorNote error={error} />}
      {notice !== undefined && <p className="note good" role="status" data-testid="accounts-notice">{notice}</p>}
      <div className="panel">
        <table className="table" data-testid="accounts-table">
          <thead><tr><th>Account</th><th>Role</th><th>Last sign-in</th><th>Password set</th><th>Actions</th></tr></thead>
          <tbody>
            {(accounts ?? []).map(a => (
              <AccountRow key={a.name} account={a}
                onRole={role => act(api.call('accounts.setRole', { name: a.name, role }), `${a.name} is now ${ROLE_LABELS[role].toLowerCase()}.`)}
                onReset={password => act(api.call('accounts.resetPassword', { name: a.name, password }), `The password of ${a.name} was reset; their sessions ended.`)}
                onRemove={() => act(api.call('accounts.remove', { name: a.name }), `${a.name} was removed.`)} />
            ))}
          </tbody>
        </table>
      </div>
      <NewAccount onCreate={(name, role, password) => act(api.call('accounts.create', { name, role, password }), `${name} was added as ${ROLE_LABELS[role].toLowerCase()}.`)} />
    </section>
  )
}

function AccountRow ({ account, onRole, onReset, onRemove }: {
  account: AccountView; onRole: (r: Role) => Promise<boolean>; onReset: (p: string) => Promise<boolean>; onRemove: () => Promise<boolean>
}) {
  const [resetting, setResetting] = useState(false)
  const [password, setPassword] = useState('')
  const [confirmRemove, setConfirmRemove] = useState(false)
  return (
    <tr data-testid={`account-${account.name}`}>
      <td className="mono">{account.name}</td>
      <td>
        <select aria-label={`Role of ${account.name}`} value={account.role} data-testid="account-role" onChange={e => { void onRole(e.target.value as Role) }}>
          {ROLES.map(r => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
        </select>
      </td>
      <td>{account.lastSignInAt === null ? <span className="muted">never</span> : ago(account.lastSignInAt)}</td>
      <td>{ago(account.passwordChangedAt)}</td>
      <td>
        {resetting
          ? (
            <form className="inline-form" onSubmit={e => { e.preventDefault(); void onReset(password).then(ok => { if (ok) { setResetting(false); setPassword('') } }) }}>
              <input type="password" autoComplete="new-password" aria-label={`New password for ${account.name}`} placeholder={`New password (${MIN_PASSWORD}+ characters)`}
                value={password} data-testid="reset-password" onChange={e => { setPassword(e.target.value) }} />
              <button className="button primary" type="submit" disabled={password.length < MIN_PASSWORD}>Set</button>
              <button className="button ghost" type="button" onClick={() => { setResetting(false) }}>Cancel</button>
            </form>
            )
          : confirmRemove
            ? (
              <span className="inline-form">
                Remove {account.name}?
                <button className="button danger" data-testid="confirm-remove" onClick={() => { void onRemove() }}>Remove</button>
                <button className="button ghost" onClick={() => { setConfirmRemove(false) }}>Keep</button>
              </span>
              )
            : (
              <span className="inline-form">
                <button className="button" data-testid="start-reset" onClick={() => { setResetting(true) }}>Reset password</button>
                <button className="button" data-testid="start-remove" onClick={() => { setConfirmRemove(true) }}>Remove</button>
              </span>
              )}
      </td>
    </tr>
  )
}

function NewAccount ({ onCreate }: { onCreate: (name: string, role: Role, password: string) => Promise<boolean> }) {
  const [name, setName] = useState('')
  const [role, setRole] = useState<Role>('technician')
  const [password, setPassword] = useState('')
  const nameProblem = name === '' || ACCOUNT_NAME.test(name) ? undefined : 'Use 1-64 letters, digits or . _ - @ (no spaces).'
  const ready = name !== '' && nameProblem === undefined && password.length >= MIN_PASSWORD
  return (
    <form className="panel" aria-labelledby="new-acc-h" data-testid="new-account"
      onSubmit={e => { e.preventDefault(); if (ready) void onCreate(name, role, password).then(ok => { if (ok) { setName(''); setPassword('') } }) }}>
      <h2 id="new-acc-h">Add an account</h2>
      <div className="filters">
        <label className="field grow"><span>Name</span>
          <input value={name} autoComplete="off" data-testid="new-account-name" aria-invalid={nameProblem !== undefined} onChange={e => { setName(e.target.value.trim()) }} /></label>
        <label className="field"><span>Role</span>
          <select value={role} data-testid="new-account-role" onChange={e => { setRole(e.target.value as Role) }}>
            {ROLES.map(r => <option key={r} value={r}>{ROLE_LABELS[r]}</option>)}
          </select></label>
        <label className="field grow"><span>Password ({MIN_PASSWORD}+ characters)</span>
          <input type="password" autoComplete="new-password" value={password} data-testid="new-account-password" onChange={e => { setPassword(e.target.value) }} /></label>
      </div>
      {nameProblem !== undefined && <p className="field-error">{nameProblem}</p>}
      <p className="muted">{ROLE_LABELS[role]}: {ROLE_HELP[role]}.</p>
      <button className="button primary" type="submit" data-testid="create-account" disabled={!ready}>Add account</button>
    </form>
  )
}

export function MyAccount ({ api }: { api: HubApi }) {
  const [current, setCurrent] = useState('')
  const [password, setPassword] = useState('')
  const [again, setAgain] = useState('')
  const [error, setError] = useState<HubErrorInfo | undefined>()
  const [done, setDone] = useState(false)
  const ready = current !== '' && password.length >= MIN_PASSWORD && again === password
  return (
    <section className="narrow" aria-labelledby="me-h">
      <h1 id="me-h">My account</h1>
      <form className="panel" onSubmit={e => {
        e.preventDefault()
        if (!ready) return
        setError(undefined)
        setDone(false)
        void api.call('accounts.changeOwnPassword', { current, password }).then(r => {
          if (!r.ok) { setError(r.error); return }
          setDone(true); setCurrent(''); setPassword(''); setAgain('')
        })
      }}>
        <h2>Change your password</h2>
        <label className="field"><span>Current password</span>
          <input type="password" autoComplete="current-password" value={current} data-testid="own-current" onChange={e => { setCurrent(e.target.value) }} /></label>
        <label className="field"><span>New password ({MIN_PASSWORD}+ characters)</span>
          <input type="password" autoComplete="new-password" value={password} data-testid="own-new" onChange={e => { setPassword(e.target.value) }} /></label>
        <label className="field"><span>New password again</span>
          <input type="password" autoComplete="new-password" value={again} aria-invalid={again !== '' && again !== password} onChange={e => { setAgain(e.target.value) }} /></label>
        <button className="button primary" type="submit" disabled={!ready} data-testid="own-submit">Change password</button>
        {error !== undefined && <ErrorNote error={error} />}
        {done && <p className="note good" role="status">Your password was changed. Your other sessions were signed out.</p>}
      </form>
    </section>
  )
}
