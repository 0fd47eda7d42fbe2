// The `sitehub` command line: dispatch to a command, map failures to exit codes
// (0 ok, 1 operational error, 2 usage error). Heavy modules load only inside commands.
import { formatHelp, parseCommand, wantsHelp, type CommandSpec } from './args.js'
import { accountCommands } from './commands/account.js'
import { connectionStringCommand, policyCommands } from './commands/policy.js'
import { deviceCommands } from './commands/device.js'
import { serveCommand } from './commands/serve.js'
import { simulateCommand } from './commands/simulate.js'
import { firmwareCommands } from './commands/firmware.js'
import { serialCommands } from './commands/serial.js'
import { simulateSerialCommand } from './commands/simulate-serial.js'
import { statusCommand } from './commands/status.js'
import { CliError, UsageError, describeSystemError } from './errors.js'
import { isHubError } from '../hub/errors.js'
import { processIo, type CliIo } from './io.js'

interface Group {
  name: string
  summary: string
  commands: CommandSpec[]
  /** Subcommands named in help but not built yet. */
  planned?: string[]
}

const groups: Group[] = [
  { name: 'device', summary: 'Manage device identities', commands: deviceCommands },
  { name: 'policy', summary: 'Manage shared access policies', commands: policyCommands },
  { name: 'firmware', summary: 'Manage the firmware library served to devices', commands: firmwareCommands },
  { name: 'serial', summary: 'Manage serial ports (line protocol and Modbus RTU devices)', commands: serialCommands },
  { name: 'account', summary: 'Manage technician UI accounts (recovery: add an admin, set a password)', commands: accountCommands }
]
const topCommands: CommandSpec[] = [serveCommand, connectionStringCommand, statusCommand, simulateSerialCommand, simulateCommand]

function topHelp (): string {
  const rows: Array<[string, string]> = [
    ...topCommands.map((c): [string, string] => [c.path, c.summary]),
    ...groups.flatMap((g) => g.commands.map((c): [string, string] => [c.path, c.summary]))
  ]
  const width = Math.max(...rows.map(([n]) => n.length)) + 2
  return [
    'Usage: sitehub <command> [options]',
    '',
    'Sitehub: an offline-first edge hub that speaks Azure IoT Hub\'s dialect.',
    '',
    'Commands:',
    ...rows.map(([n, s]) => `  ${n.padEnd(width)}${s}`),
    '',
    'Run \'sitehub <command> --help\' for the options of a command.',
    '',
    'Example:',
    '  sitehub serve --data-dir ./hub --host-name localhost --bind 127.0.0.1 --https-port 8443',
    ''
  ].join('\n')
}

function groupHelp (g: Group): string {
  const width = Math.max(...g.commands.map((c) => c.path.length)) + 2
  return [
    `Usage: sitehub ${g.name} <command> [options]`,
    '',
    `${g.summary}.`,
    '',
    'Commands:',
    ...g.commands.map((c) => `  ${c.path.padEnd(width)}${c.summary}`),
    '',
    `Run 'sitehub ${g.name} <command> --help' for the options of a command.`,
    '',
    'Example:',
    `  ${g.commands[0]?.examples[0] ?? ''}`,
    ''
  ].join('\n')
}

/** Finds the command for argv; returns it with the remaining arguments, or prints help / throws UsageError. */
function resolveCommand (argv: string[], io: CliIo): { spec: CommandSpec; rest: string[] } | number {
  const [first, second] = argv
  if (first === undefined) throw new UsageError('missing command', '')
  if (first === '-h' || first === '--help' || first === 'help') { io.out(topHelp()); return 0 }
  const top = topCommands.find((c) => c.path === first)
  if (top !== undefined) return { spec: top, rest: argv.slice(1) }
  const group = groups.find((g) => g.name === first)
  if (group === undefined) {
    throw new UsageError(first.startsWith('-') ? `unknown option ${first}` : `unknown command '${first}'`, '')
  }
  if (second === '-h' || second === '--help') { io.out(groupHelp(group)); return 0 }
  if (second === undefined) throw new UsageError(`missing ${group.name} command (one of ${group.commands.map((c) => c.path.split(' ')[1]).join(', ')})`, group.name)
  const spec = group.commands.find((c) => c.path === `${group.name} ${second}`)
  if (spec === undefined) {
    throw new UsageError(`unknown ${group.name} command '${second}' (one of ${group.commands.map((c) => c.path.split(' ')[1]).join(', ')})`, group.name)
  }
  return { spec, rest: argv.slice(2) }
}

export async function main (argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    const found = resolveCommand(argv, io)
    if (typeof found === 'number') return found
    const { spec, rest } = found
    if (wantsHelp(rest)) { io.out(formatHelp(spec)); return 0 }
    const { values, args } = parseCommand(spec, rest)
    return await spec.run({ values, args, io })
  } catch (err) {
    if (err instanceof UsageError) {
      const cmd = err.command === '' ? 'sitehub' : `sitehub ${err.command}`
      io.err(`${cmd}: ${err.message}\nRun '${cmd} --help' for usage.`)
      return 2
    }
    if (err instanceof CliError || isHubError(err)) {
      io.err(`sitehub: ${(err as Error).message}`)
      return 1
    }
    io.err(`sitehub: ${describeSystemError(err) ?? (err instanceof Error ? err.message : String(err))}`)
    if (process.env['SITEHUB_DEBUG'] !== undefined && err instanceof Error) io.err(err.stack ?? '')
    return 1
  }
}
