// The command line contract: help on every command, usage errors exit 2, operational errors exit 1.
import { describe, expect, it } from 'vitest'
import { runCli, tempDir } from './test-helpers.js'

// Child processes are slow on a loaded machine.
const SLOW = 180_000

const COMMANDS = [
  'serve', 'connection-string', 'status',
  'device add', 'device list', 'device show', 'device remove', 'device enable', 'device disable', 'device connection-string',
  'device import', 'device export',
  'policy list', 'policy add', 'policy remove', 'policy regenerate'
]

describe('sitehub --help', () => {
  it('lists every command at the top level (--help and -h)', async () => {
    for (const flag of ['--help', '-h']) {
      const res = await runCli([flag])
      expect(res.code).toBe(0)
      expect(res.stdout).toMatch(/^Usage: sitehub <command>/)
      for (const c of COMMANDS) expect(res.stdout).toContain(`  ${c} `)
      expect(res.stdout).toMatch(/Example:\n {2}sitehub serve/)
    }
  }, SLOW)

  it('prints usage, options, defaults and an example for every command', async () => {
    const results = await Promise.all(COMMANDS.map(async (c) => ({ c, res: await runCli([...c.split(' '), '--help']) })))
    for (const { c, res } of results) {
      expect(res.code, c).toBe(0)
      expect(res.stderr, c).toBe('')
      expect(res.stdout, c).toMatch(new RegExp(`^Usage: sitehub ${c}`))
      expect(res.stdout, c).toMatch(/Options:\n[\s\S]*--data-dir DIR\s+hub data directory \(default: /)
      expect(res.stdout, c).toMatch(/-h, --help/)
      expect(res.stdout, c).toMatch(/Examples?:\n {2}sitehub /)
    }
  }, SLOW)

  it('documents the serve defaults', async () => {
    const res = await runCli(['serve', '-h'])
    for (const text of ['--host-name NAME', '(default: localhost)', '--bind IP', '(default: 0.0.0.0)', '--mqtts-port N', '(default: 8883)',
      '--https-port N', '(default: 443)', '--mqtt-port N', '(default: off)', '--role ROLE', '(default: edge)']) {
      expect(res.stdout).toContain(text)
    }
  }, SLOW)

  it('shows group help for device and policy', async () => {
    for (const group of ['device', 'policy']) {
      const res = await runCli([group, '--help'])
      expect(res.code).toBe(0)
      expect(res.stdout).toMatch(new RegExp(`^Usage: sitehub ${group} <command>`))
    }
  }, SLOW)

  it('honours --help even next to bad options', async () => {
    const res = await runCli(['device', 'add', '--nope', '--help'])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/^Usage: sitehub device add <id>/)
  }, SLOW)
})

describe.concurrent('usage errors exit 2 with plain words', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /^sitehub: missing command/],
    [['frob'], /^sitehub: unknown command 'frob'/],
    [['--frob'], /^sitehub: unknown option --frob/],
    [['device'], /^sitehub device: missing device command \(one of add, list/],
    [['device', 'frob'], /^sitehub device: unknown device command 'frob'/],
    [['device', 'add'], /^sitehub device add: missing <id>/],
    [['device', 'show', 'a', 'b'], /^sitehub device show: unexpected argument 'b'/],
    [['device', 'list', '--colour'], /^sitehub device list: unknown option --colour/],
    [['device', 'list', '--json=yes'], /^sitehub device list: option --json takes no value/],
    [['device', 'add', 'd1', '--status', 'sleepy'], /^sitehub device add: --status must be enabled or disabled, not 'sleepy'/],
    [['device', 'add', 'd1', '--x509-thumbprint', 'xyz'], /--x509-thumbprint must be 40 or 64 hex digits/],
    [['serve', '--data-dir'], /^sitehub serve: option --data-dir needs a value/],
    [['serve', '--data-dir', '--bind', '127.0.0.1'], /^sitehub serve: option --data-dir needs a value/],
    [['serve', '--https-port', 'https'], /^sitehub serve: --https-port must be a port number from 0 to 65535, not 'https'/],
    [['serve', '--mqtts-port', '70000'], /--mqtts-port must be a port number/],
    [['serve', '--role', 'fog'], /^sitehub serve: --role must be edge or cloud, not 'fog'/],
    [['serve', '--bind', 'everywhere'], /^sitehub serve: --bind must be an IP address/],
    [['serve', '--host-name', 'bad name'], /^sitehub serve: --host-name must be a DNS name or an IP address/],
    [['policy', 'add', 'p1'], /^sitehub policy add: missing --rights/],
    [['policy', 'add', 'p1', '--rights', 'Everything'], /--rights must list some of RegistryRead.*unknown: Everything/],
    [['policy', 'regenerate', 'p1', '--key', 'third'], /--key must be primary or secondary or both/]
  ]
  it.each(cases)('sitehub %j', async (args, message) => {
    const res = await runCli(args)
    expect(res.code).toBe(2)
    expect(res.stdout).toBe('')
    expect(res.stderr).toMatch(message)
    expect(res.stderr).toMatch(/Run 'sitehub[a-z -]*--help' for usage\./)
  }, SLOW)
})

describe('operational errors exit 1', () => {
  it('refuses a data dir that does not exist, in plain words', async () => {
    const dir = `${await tempDir()}/missing`
    const res = await runCli(['device', 'list', '--data-dir', dir])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^sitehub: there is no Sitehub data directory at .*missing; start a hub there first/)
  }, SLOW)

  it('status says when no hub is running', async () => {
    const dir = await tempDir()
    const res = await runCli(['status', '--data-dir', dir])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^sitehub: no hub is running with data dir /)
  }, SLOW)
})
