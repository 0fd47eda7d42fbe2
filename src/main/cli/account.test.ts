// `sitehub account ...` against a real hub: offline on the data dir (the recovery path before
// or without a running hub) and through a running `sitehub serve`, where the accounts are the
// same ones its technician UI signs in with (the UI's own WebSocket client checks that).
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createWsHub } from '../../renderer/src/lib/ws-hub.js'
import { BIN, runCli, serve, tempDir } from './test-helpers.js'

const SLOW = 240_000

/** Runs the CLI with `input` on stdin. */
function runWithStdin (args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SITEHUB_PASSWORD: undefined } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.on('exit', code => { resolve({ code, stdout, stderr }) })
    child.stdin.end(input)
  })
}

describe('sitehub account', () => {
  it('explains itself', async () => {
    const group = await runCli(['account', '--help'])
    expect(group.code).toBe(0)
    expect(group.stdout).toMatch(/account add\s+Create a UI account/)
    expect(group.stdout).toMatch(/account passwd/)
    const add = await runCli(['account', 'add', '--help'])
    expect(add.stdout).toMatch(/--role ROLE\s+one of technician, supervisor, admin/)
    expect(add.stdout).toMatch(/--password-stdin/)
    const top = await runCli(['--help'])
    expect(top.stdout).toMatch(/account list/)
  })

  it('manages accounts on a stopped hub, passwords from stdin or the environment, never argv', async () => {
    const dir = await tempDir()
    const dd = ['--data-dir', dir]
    expect((await runCli(['account', 'list', ...dd])).stdout).toMatch(/no accounts yet/)
    const noPw = await runWithStdin(['account', 'add', 'chief', '--role', 'admin', ...dd], '')
    expect(noPw.code).toBe(2)
    expect(noPw.stderr).toMatch(/no password: pass --password-stdin/)
    const short = await runWithStdin(['account', 'add', 'chief', '--role', 'admin', '--password-stdin', ...dd], 'short\n')
    expect(short.code).toBe(1)
    expect(short.stderr).toMatch(/at least 8 characters/)
    const viaStdin = await runWithStdin(['account', 'add', 'chief', '--role', 'admin', '--password-stdin', ...dd], 'chief password 1\n')
    expect(viaStdin).toMatchObject({ code: 0, stdout: 'added admin chief\n' })
    const viaEnv = await runCli(['account', 'add', 'Tina', ...dd], { SITEHUB_PASSWORD: 'tina password 1' })
    expect(viaEnv.stdout).toBe('added technician tina\n')
    expect((await runCli(['account', 'add', 'tina', ...dd], { SITEHUB_PASSWORD: 'tina password 1' })).stderr).toMatch(/already exists/)
    expect((await runCli(['account', 'add', 'x', '--role', 'boss', ...dd], { SITEHUB_PASSWORD: 'whatever 123' })).stderr).toMatch(/--role must be technician or supervisor or admin/)
    const list = await runCli(['account', 'list', ...dd])
    expect(list.stdout).toMatch(/^NAME\s+ROLE\s+LAST SIGN-IN/)
    expect(list.stdout).toMatch(/chief\s+admin\s+never/)
    expect(list.stdout).toMatch(/tina\s+technician\s+never/)
    expect((await runCli(['account', 'role', 'tina', 'supervisor', ...dd])).stdout).toBe('tina is now supervisor\n')
    const last = await runCli(['account', 'remove', 'chief', ...dd])
    expect(last.code).toBe(1)
    expect(last.stderr).toMatch(/last admin/)
    expect((await runCli(['account', 'remove', 'nobody', ...dd])).stderr).toMatch(/There is no account 'nobody'/)
    const json = JSON.parse((await runCli(['account', 'list', '--json', ...dd])).stdout) as Array<Record<string, unknown>>
    expect(json.map(a => [a['name'], a['role']])).toEqual([['chief', 'admin'], ['tina', 'supervisor']])
    expect(JSON.stringify(json)).not.toMatch(/password 1|hash|salt/)
  }, SLOW)

  it('changes the accounts of a running hub: the UI signs in with them, and passwd ends old sessions', async () => {
    const dir = await tempDir()
    const served = await serve(['--data-dir', dir, '--bind', '127.0.0.1', '--mqtts-port', '0', '--https-port', '0', '--ui-port', '0'])
    const ui = served.endpoints['ui'] as string
    const api = createWsHub(`${ui.replace('http', 'ws')}ui/ws`, WebSocket as unknown as typeof globalThis.WebSocket)
    try {
      expect(await api.call('auth.status', undefined)).toMatchObject({ ok: true, value: { setupNeeded: true } })
      expect((await runCli(['account', 'add', 'chief', '--role', 'admin', '--data-dir', dir], { SITEHUB_PASSWORD: 'chief password 1' })).stdout).toBe('added admin chief\n')
      expect(await api.call('auth.status', undefined)).toMatchObject({ ok: true, value: { setupNeeded: false } })
      const s1 = await api.call('auth.signIn', { name: 'chief', password: 'chief password 1' })
      if (!s1.ok) throw new Error(s1.error.message)
      expect(await api.call('devices.list', {}, s1.value.token)).toMatchObject({ ok: true })
      // Forgotten password: set it from the command line; the old session ends at once.
      expect((await runCli(['account', 'passwd', 'chief', '--data-dir', dir], { SITEHUB_PASSWORD: 'chief password 2' })).stdout).toBe('set the password of chief\n')
      expect(await api.call('devices.list', {}, s1.value.token)).toMatchObject({ ok: false, error: { code: 401201 } })
      expect(await api.call('auth.signIn', { name: 'chief', password: 'chief password 1' })).toMatchObject({ ok: false, error: { code: 401202 } })
      const s2 = await api.call('auth.signIn', { name: 'chief', password: 'chief password 2' })
      if (!s2.ok) throw new Error(s2.error.message)
      const log = await api.call('audit.list', { user: 'cli' }, s2.value.token)
      expect(log.ok && log.value.items.map(e => [e.method, e.target?.id, e.outcome])).toEqual([['cli.account.passwd', 'chief', 'ok'], ['cli.account.add', 'chief', 'ok']])
      expect(JSON.stringify(log)).not.toMatch(/chief password/)
      // the device commands' changes are in the same log, without the key they print
      const added = await runCli(['device', 'add', 'pump-1', '--data-dir', dir])
      expect(added.stdout).toMatch(/SharedAccessKey=/)
      const key = /SharedAccessKey=([^;\s]+)/.exec(added.stdout)?.[1] as string
      const devLog = await api.call('audit.list', { user: 'cli', deviceId: 'pump-1' }, s2.value.token)
      expect(devLog).toMatchObject({ ok: true, value: { items: [{ method: 'cli.registry.create', outcome: 'ok', target: { kind: 'device', id: 'pump-1' }, after: { deviceId: 'pump-1', status: 'enabled' } }] } })
      expect(JSON.stringify(devLog)).not.toContain(key)
    } finally {
      api.close()
    }
  }, SLOW)
})
