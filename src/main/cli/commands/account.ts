// `sitehub account add|list|remove|passwd|role`: the technician UI's accounts from the command
// line, through the running hub's admin socket or the data dir. The recovery path when nobody
// can sign in as admin (add another admin, or set a password). Passwords come from a prompt
// (a terminal), from stdin with --password-stdin, or from SITEHUB_PASSWORD; never from argv.
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { MIN_PASSWORD, ROLES, type Role } from '../../../shared/contract/auth.js'
import { choiceOpt, type CommandSpec, type OptionValues } from '../args.js'
import { dataDirOf, dataDirOption, jsonOption } from '../common.js'
import { CliError, UsageError } from '../errors.js'
import { table } from '../format.js'
import { withHub } from '../hub-access.js'

const common = { 'data-dir': dataDirOption }
const nameArg = { name: 'name', description: 'account name (letters, digits, . _ - @)' }
const passwordOptions = {
  'password-stdin': { type: 'boolean' as const, description: 'read the password from the first line of stdin (for scripts)' }
}

async function readStdinLine (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) {
    chunks.push(c as Buffer)
    if (Buffer.concat(chunks).includes(10)) break
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? ''
}

/** Asks on the terminal without echoing. */
async function prompt (question: string): Promise<string> {
  let muted = false
  const out = new Writable({ write (chunk, _enc, cb) { if (!muted) process.stderr.write(chunk as Buffer); cb() } })
  const rl = createInterface({ input: process.stdin, output: out, terminal: true })
  try {
    return await new Promise<string>(resolve => {
      rl.question(question, answer => { process.stderr.write('\n'); resolve(answer) })
      muted = true
    })
  } finally { rl.close() }
}

export async function passwordFrom (values: OptionValues, command: string): Promise<string> {
  let pw: string
  if (values['password-stdin'] === true) pw = await readStdinLine()
  else if (process.env['SITEHUB_PASSWORD'] !== undefined) pw = process.env['SITEHUB_PASSWORD']
  else if (process.stdin.isTTY) {
    pw = await prompt('New password: ')
    if (await prompt('Again: ') !== pw) throw new CliError('the two passwords differ; nothing was changed')
  } else {
    throw new UsageError('no password: pass --password-stdin (and the password on stdin), set SITEHUB_PASSWORD, or run in a terminal to be asked', command)
  }
  if (pw.length < MIN_PASSWORD) throw new CliError(`a password needs at least ${MIN_PASSWORD} characters`)
  return pw
}

const list: CommandSpec = {
  path: 'account list',
  summary: 'List the technician UI accounts and their roles.',
  options: { ...common, json: jsonOption },
  examples: ['sitehub account list'],
  async run ({ values, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      const accounts = await hub.call('accounts.list', {})
      if (values['json'] === true) io.out(JSON.stringify(accounts, null, 2))
      else if (accounts.length === 0) io.out('no accounts yet: the UI asks for the first admin on first use, or run \'sitehub account add NAME --role admin\'')
      else io.out(table(['NAME', 'ROLE', 'LAST SIGN-IN', 'PASSWORD SET'], accounts.map(a => [a.name, a.role, a.lastSignInAt ?? 'never', a.passwordChangedAt])))
      return 0
    })
  }
}

const add: CommandSpec = {
  path: 'account add',
  summary: 'Create a UI account (technician, supervisor or admin).',
  description: 'Roles: technician operates devices; supervisor reads and approves; admin does everything, including accounts.',
  args: [nameArg],
  options: { ...common, role: { type: 'string', value: 'ROLE', description: `one of ${ROLES.join(', ')}`, default: 'technician' }, ...passwordOptions },
  examples: ['sitehub account add chief --role admin', "printf '%s\\n' \"$PW\" | sitehub account add tina --role technician --password-stdin"],
  async run ({ values, args, io }) {
    const name = args[0] ?? ''
    const role: Role = choiceOpt(values, 'role', ROLES, 'account add') ?? 'technician'
    const password = await passwordFrom(values, 'account add')
    return await withHub(dataDirOf(values), async (hub) => {
      const a = await hub.call('accounts.add', { name, role, password })
      io.out(`added ${a.role} ${a.name}`)
      return 0
    })
  }
}

const remove: CommandSpec = {
  path: 'account remove',
  summary: 'Delete a UI account and end its sessions (the last admin cannot be removed).',
  args: [nameArg],
  options: common,
  examples: ['sitehub account remove tina'],
  async run ({ values, args, io }) {
    const name = args[0] ?? ''
    return await withHub(dataDirOf(values), async (hub) => {
      await hub.call('accounts.remove', { name })
      io.out(`removed account ${name.toLowerCase()}`)
      return 0
    })
  }
}

const passwd: CommandSpec = {
  path: 'account passwd',
  summary: "Set an account's password and end its sessions (recovery when it is forgotten).",
  args: [nameArg],
  options: { ...common, ...passwordOptions },
  examples: ['sitehub account passwd chief'],
  async run ({ values, args, io }) {
    const name = args[0] ?? ''
    const password = await passwordFrom(values, 'account passwd')
    return await withHub(dataDirOf(values), async (hub) => {
      const a = await hub.call('accounts.passwd', { name, password })
      io.out(`set the password of ${a.name}`)
      return 0
    })
  }
}

const role: CommandSpec = {
  path: 'account role',
  summary: "Change an account's role (the last admin keeps admin).",
  args: [nameArg, { name: 'role', description: ROLES.join(' | ') }],
  options: common,
  examples: ['sitehub account role tina supervisor'],
  async run ({ values, args, io }) {
    const name = args[0] ?? ''
    const r = args[1] ?? ''
    if (!(ROLES as readonly string[]).includes(r)) throw new UsageError(`role must be one of ${ROLES.join(', ')}, not '${r}'`, 'account role')
    return await withHub(dataDirOf(values), async (hub) => {
      const a = await hub.call('accounts.setRole', { name, role: r as Role })
      io.out(`${a.name} is now ${a.role}`)
      return 0
    })
  }
}

export const accountCommands: CommandSpec[] = [list, add, remove, passwd, role]
