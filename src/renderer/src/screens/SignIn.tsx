// The first-run setup (creates the first admin) and the sign-in screen.
import { useState } from 'react'
import { useStore } from 'zustand'
import { ACCOUNT_NAME, MIN_PASSWORD } from '../../../shared/contract/index'
import { ErrorNote } from '../components/ErrorNote'
import type { SessionStore } from '../state/session'
import './auth.css'

export function SignIn ({ session }: { session: SessionStore }) {
  const { busy, error } = useStore(session.store)
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  return (
    <div className="auth-page">
      <form className="panel auth-card" data-testid="signin-form" aria-labelledby="signin-h"
        onSubmit={e => { e.preventDefault(); if (name !== '' && password !== '') void session.signIn(name.trim(), password).then(ok => { if (ok) setPassword('') }) }}>
        <h1 id="signin-h">Sign in to Sitehub</h1>
        <label className="field">
          <span>Account</span>
          <input autoFocus autoComplete="username" value={name} data-testid="signin-name" onChange={e => { setName(e.target.value) }} />
        </label>
        <label className="field">
          <span>Password</span>
          <input type="password" autoComplete="current-password" value={password} data-testid="signin-password" onChange={e => { setPassword(e.target.value) }} />
        </label>
        <button className="button primary" type="submit" data-testid="signin-submit" disabled={busy || name === '' || password === ''}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {error !== undefined && <ErrorNote error={error} />}
        <p className="muted">Forgot your password? An admin can reset it on the Accounts screen, or on the hub machine with <code className="mono">sitehub account passwd</code>.</p>
      </form>
    </div>
  )
}

export function Setup ({ session }: { session: SessionStore }) {
  const { busy, error, setupAllowed } = useStore(session.store)
  const [name, setName] = useState('admin')
  const [password, setPassword] = useState('')
  const [again, setAgain] = useState('')
  const nameProblem = name === '' || ACCOUNT_NAME.test(name) ? undefined : 'Use 1-64 letters, digits or . _ - @ (no spaces).'
  const pwProblem = password === '' ? undefined : password.length < MIN_PASSWORD ? `Use at least ${MIN_PASSWORD} characters.` : undefined
  const mismatch = again !== '' && again !== password ? 'The two passwords differ.' : undefined
  const ready = name !== '' && nameProblem === undefined && password.length >= MIN_PASSWORD && again === password
  if (!setupAllowed) {
    return (
      <div className="auth-page">
        <div className="panel auth-card" data-testid="setup-remote">
          <h1>Sitehub needs its first admin</h1>
          <p>No account exists yet. For safety, the first admin account can only be created on the hub machine itself:
            open the UI there (a <span className="mono">127.0.0.1</span> address or the desktop app), or run
            <code className="mono"> sitehub account add NAME --role admin</code>.</p>
          <button className="button" onClick={() => { void session.check() }}>Check again</button>
        </div>
      </div>
    )
  }
  return (
    <div className="auth-page">
      <form className="panel auth-card" data-testid="setup-form" aria-labelledby="setup-h"
        onSubmit={e => { e.preventDefault(); if (ready) void session.setup(name.trim(), password) }}>
        <h1 id="setup-h">Welcome to Sitehub</h1>
        <p className="muted">Create the admin account. The admin adds accounts for technicians (operate devices) and supervisors (watch and approve).</p>
        <label className="field">
          <span>Admin account name</span>
          <input autoComplete="username" value={name} data-testid="setup-name" aria-invalid={nameProblem !== undefined} onChange={e => { setName(e.target.value.trim()) }} />
        </label>
        {nameProblem !== undefined && <p className="field-error">{nameProblem}</p>}
        <label className="field">
          <span>Password</span>
          <input type="password" autoFocus autoComplete="new-password" value={password} data-testid="setup-password" aria-invalid={pwProblem !== undefined} onChange={e => { setPassword(e.target.value) }} />
        </label>
        {pwProblem !== undefined && <p className="field-error">{pwProblem}</p>}
        <label className="field">
          <span>Password again</span>
          <input type="password" autoComplete="new-password" value={again} data-testid="setup-password2" aria-invalid={mismatch !== undefined} onChange={e => { setAgain(e.target.value) }} />
        </label>
        {mismatch !== undefined && <p className="field-error">{mismatch}</p>}
        <button className="button primary" type="submit" data-testid="setup-submit" disabled={busy || !ready}>{busy ? 'Creating…' : 'Create admin and sign in'}</button>
        {error !== undefined && <ErrorNote error={error} />}
      </form>
    </div>
  )
}
