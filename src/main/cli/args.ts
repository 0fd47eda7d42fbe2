// Declarative command specs on top of node:util parseArgs: parsing, plain-words usage errors, help.
import { parseArgs } from 'node:util'
import { UsageError } from './errors.js'
import type { CliIo } from './io.js'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder shown in help, e.g. DIR. */
  value?: string
  description: string
  /** Shown in help as "(default: ...)". */
  default?: string
}

export interface ArgSpec {
  name: string
  description: string
}

export type OptionValues = Record<string, string | boolean | undefined>

export interface CommandContext {
  values: OptionValues
  args: string[]
  io: CliIo
}

export interface CommandSpec {
  /** Full command path after `sitehub`, e.g. `device add`. */
  path: string
  summary: string
  description?: string
  args?: ArgSpec[]
  options: Record<string, OptionSpec>
  examples: string[]
  run(ctx: CommandContext): Promise<number>
}

export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' }

export function wantsHelp (argv: string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '-h' || a === '--help')
}

/** parseArgs' own messages, reworded. */
function reword (err: Error & { code?: string }): string {
  const name = /'(?:-[A-Za-z], )?(-[^' ]+)/.exec(err.message)?.[1] ?? 'an option'
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return `unknown option ${name}`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(err.message)) return `option ${name} takes no value`
      if (/ambiguous/.test(err.message)) return `option ${name} needs a value (to pass a value starting with '-', write ${name}=VALUE)`
      return `option ${name} needs a value`
    default: return err.message
  }
}

export function parseCommand (spec: CommandSpec, argv: string[]): { values: OptionValues; args: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP_OPTION })) {
    options[name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short }
  }
  let parsed: { values: OptionValues; positionals: string[] }
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as typeof parsed
  } catch (err) {
    throw new UsageError(reword(err as Error), spec.path)
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === '') throw new UsageError(`option --${name} needs a value`, spec.path)
  }
  const expected = spec.args ?? []
  const args = parsed.positionals
  if (args.length < expected.length) throw new UsageError(`missing <${expected[args.length]?.name ?? 'argument'}>`, spec.path)
  if (args.length > expected.length) throw new UsageError(`unexpected argument '${args[expected.length] ?? ''}'`, spec.path)
  return { values: parsed.values, args }
}

function column (rows: Array<[string, string]>): string[] {
  const width = Math.min(30, Math.max(...rows.map(([l]) => l.length)) + 2)
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`)
}

export function formatHelp (spec: CommandSpec): string {
  const args = (spec.args ?? []).map((a) => ` <${a.name}>`).join('')
  const lines = [`Usage: sitehub ${spec.path}${args} [options]`, '', spec.summary]
  if (spec.description !== undefined) lines.push('', spec.description)
  if ((spec.args ?? []).length > 0) {
    lines.push('', 'Arguments:', ...column((spec.args ?? []).map((a) => [`<${a.name}>`, a.description])))
  }
  const opts = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, o]): [string, string] => {
    const flag = `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`
    return [flag, `${o.description}${o.default === undefined ? '' : ` (default: ${o.default})`}`]
  })
  lines.push('', 'Options:', ...column(opts))
  lines.push('', spec.examples.length > 1 ? 'Examples:' : 'Example:', ...spec.examples.map((e) => `  ${e}`))
  return lines.join('\n') + '\n'
}

/** A string option, or undefined. */
export function stringOpt (values: OptionValues, name: string): string | undefined {
  const v = values[name]
  return typeof v === 'string' ? v : undefined
}

export function portOpt (values: OptionValues, name: string, command: string): number | undefined {
  const v = stringOpt(values, name)
  if (v === undefined) return undefined
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--${name} must be a port number from 0 to 65535, not '${v}'`, command)
  return Number(v)
}

export function choiceOpt<T extends string> (values: OptionValues, name: string, allowed: readonly T[], command: string): T | undefined {
  const v = stringOpt(values, name)
  if (v === undefined) return undefined
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be ${allowed.join(' or ')}, not '${v}'`, command)
  return v as T
}
