// Options and helpers shared by the commands.
import { resolve } from 'node:path'
import { stringOpt, type OptionSpec, type OptionValues } from './args.js'
import { defaultDataDir } from './paths.js'

export const dataDirOption: OptionSpec = {
  type: 'string', value: 'DIR', description: 'hub data directory', default: defaultDataDir()
}

export const jsonOption: OptionSpec = { type: 'boolean', description: 'print JSON instead of text' }

export function dataDirOf (values: OptionValues): string {
  return resolve(stringOpt(values, 'data-dir') ?? defaultDataDir())
}
