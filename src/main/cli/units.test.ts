// In-process checks of the pieces under the command line (no child processes).
import { describe, expect, it } from 'vitest'
import { formatHelp, parseCommand, type CommandSpec } from './args.js'
import { describeSystemError, UsageError } from './errors.js'
import { main } from './index.js'
import { defaultDataDir } from './paths.js'

const spec: CommandSpec = {
  path: 'thing do',
  summary: 'Do a thing.',
  args: [{ name: 'id', description: 'thing id' }],
  options: { name: { type: 'string', value: 'NAME', description: 'a name', default: 'bob' }, loud: { type: 'boolean', short: 'l', description: 'shout' } },
  examples: ['sitehub thing do 1'],
  run: async () => 0
}

describe('parseCommand', () => {
  it('parses options and positionals', () => {
    expect(parseCommand(spec, ['x', '--name', 'amy', '-l'])).toEqual({ values: { name: 'amy', loud: true }, args: ['x'] })
    expect(parseCommand(spec, ['--name=amy', 'x']).values['name']).toBe('amy')
  })

  it('rewords parseArgs errors', () => {
    const msg = (argv: string[]): string => { try { parseCommand(spec, argv); return '' } catch (e) { expect(e).toBeInstanceOf(UsageError); return (e as Error).message } }
    expect(msg(['x', '--nope'])).toBe('unknown option --nope')
    expect(msg(['x', '--name'])).toBe('option --name needs a value')
    expect(msg(['x', '--name', '--loud'])).toMatch(/^option --name needs a value \(to pass a value starting with '-', write --name=VALUE\)$/)
    expect(msg(['x', '--name='])).toBe('option --name needs a value')
    expect(msg(['x', '--loud=1'])).toBe('option --loud takes no value')
    expect(msg([])).toBe('missing <id>')
    expect(msg(['x', 'y'])).toBe("unexpected argument 'y'")
  })

  it('formats help with usage, arguments, options with defaults, and an example', () => {
    expect(formatHelp(spec)).toBe([
      'Usage: sitehub thing do <id> [options]', '', 'Do a thing.', '', 'Arguments:', '  <id>  thing id', '',
      'Options:', '      --name NAME  a name (default: bob)', '  -l, --loud       shout', '  -h, --help       show this help', '',
      'Example:', '  sitehub thing do 1', ''
    ].join('\n'))
  })
})

describe('defaultDataDir', () => {
  it('follows each OS convention', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/x/data' }, 'linux', '/home/u')).toBe('/x/data/sitehub')
    expect(defaultDataDir({}, 'linux', '/home/u')).toBe('/home/u/.local/share/sitehub')
    expect(defaultDataDir({ XDG_DATA_HOME: 'relative' }, 'linux', '/home/u')).toBe('/home/u/.local/share/sitehub')
    expect(defaultDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/Sitehub')
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Roaming\\Sitehub')
  })
})

describe('describeSystemError', () => {
  const sys = (code: string, extra: object = {}): Error => Object.assign(new Error(code), { code, syscall: 'listen', address: '127.0.0.5', port: 443, ...extra })
  it('puts listen failures in plain words', () => {
    expect(describeSystemError(sys('EADDRINUSE'))).toBe('port 443 on 127.0.0.5 is already in use')
    expect(describeSystemError(sys('EACCES'))).toMatch(/^no permission to listen on port 443 on 127\.0\.0\.5 \(ports below 1024 need root/)
    expect(describeSystemError(sys('EADDRNOTAVAIL'))).toBe('cannot listen on 127.0.0.5: it is not an address of this machine')
    expect(describeSystemError(new Error('wrapped', { cause: sys('EADDRINUSE') }))).toBe('port 443 on 127.0.0.5 is already in use')
    expect(describeSystemError(new Error('other'))).toBeUndefined()
  })
})

describe('main', () => {
  it('returns 2 for usage errors and 0 for help, writing to the given io', async () => {
    const out: string[] = []
    const err: string[] = []
    const io = { out: (t: string) => { out.push(t) }, err: (t: string) => { err.push(t) } }
    expect(await main(['device', 'add'], io)).toBe(2)
    expect(err.join('')).toMatch(/^sitehub device add: missing <id>\nRun 'sitehub device add --help' for usage\.$/)
    expect(await main(['policy', 'list', '-h'], io)).toBe(0)
    expect(out.join('')).toMatch(/^Usage: sitehub policy list \[options\]/)
  })
})
