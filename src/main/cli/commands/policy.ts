// `sitehub policy list|add|remove|regenerate` and `sitehub connection-string`.
import { choiceOpt, stringOpt, type CommandSpec } from '../args.js'
import { dataDirOf, dataDirOption, jsonOption } from '../common.js'
import { UsageError } from '../errors.js'
import { policyTable } from '../format.js'
import { withHub } from '../hub-access.js'
import type { Permission } from '../../hub/types.js'

const common = { 'data-dir': dataDirOption }
const RIGHTS: readonly Permission[] = ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect']
const nameArg = { name: 'name', description: 'policy name' }

export const connectionStringCommand: CommandSpec = {
  path: 'connection-string',
  summary: "Print the hub's service connection string for a shared access policy.",
  options: {
    ...common,
    policy: { type: 'string', value: 'NAME', description: 'shared access policy', default: 'iothubowner' },
    secondary: { type: 'boolean', description: 'use the secondary key instead of the primary' }
  },
  examples: ['sitehub connection-string --data-dir /var/lib/sitehub', 'sitehub connection-string --policy service'],
  async run ({ values, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      io.out(await hub.call('policies.connectionString', {
        name: stringOpt(values, 'policy') ?? 'iothubowner', which: values['secondary'] === true ? 'secondary' : 'primary'
      }))
      return 0
    })
  }
}

const list: CommandSpec = {
  path: 'policy list',
  summary: 'List the shared access policies and their rights (--json includes the keys).',
  options: { ...common, json: jsonOption },
  examples: ['sitehub policy list'],
  async run ({ values, io }) {
    return await withHub(dataDirOf(values), async (hub) => {
      const policies = await hub.call('policies.list', {})
      io.out(values['json'] === true ? JSON.stringify(policies, null, 2) : policyTable(policies))
      return 0
    })
  }
}

const add: CommandSpec = {
  path: 'policy add',
  summary: 'Create a shared access policy and print its connection string.',
  args: [nameArg],
  options: { ...common, rights: { type: 'string', value: 'LIST', description: `comma-separated, from ${RIGHTS.join(', ')}` } },
  examples: ['sitehub policy add dashboard --rights RegistryRead,ServiceConnect'],
  async run ({ values, args, io }) {
    const name = args[0] ?? ''
    const text = stringOpt(values, 'rights')
    if (text === undefined) throw new UsageError('missing --rights', 'policy add')
    const rights = text.split(',').map((r) => r.trim()).filter((r) => r !== '')
    const bad = rights.filter((r) => !RIGHTS.includes(r as Permission))
    if (bad.length > 0 || rights.length === 0) throw new UsageError(`--rights must list some of ${RIGHTS.join(', ')}${bad.length > 0 ? `; unknown: ${bad.join(', ')}` : ''}`, 'policy add')
    return await withHub(dataDirOf(values), async (hub) => {
      await hub.call('policies.add', { name, rights: rights as Permission[] })
      io.out(await hub.call('policies.connectionString', { name }))
      return 0
    })
  }
}

const remove: CommandSpec = {
  path: 'policy remove',
  summary: 'Delete a shared access policy (iothubowner cannot be removed).',
  args: [nameArg],
  options: common,
  examples: ['sitehub policy remove dashboard'],
  async run ({ values, args, io }) {
    const name = args[0] ?? ''
    return await withHub(dataDirOf(values), async (hub) => {
      await hub.call('policies.remove', { name })
      io.out(`removed policy ${name}`)
      return 0
    })
  }
}

const regenerate: CommandSpec = {
  path: 'policy regenerate',
  summary: "Replace a policy's keys and print its new connection string.",
  args: [nameArg],
  options: { ...common, key: { type: 'string', value: 'WHICH', description: 'primary, secondary or both', default: 'primary' } },
  examples: ['sitehub policy regenerate service --key both'],
  async run ({ values, args, io }) {
    const name = args[0] ?? ''
    const which = choiceOpt(values, 'key', ['primary', 'secondary', 'both'] as const, 'policy regenerate') ?? 'primary'
    return await withHub(dataDirOf(values), async (hub) => {
      await hub.call('policies.regenerate', { name, which })
      io.out(await hub.call('policies.connectionString', { name, which: which === 'secondary' ? 'secondary' : 'primary' }))
      return 0
    })
  }
}

export const policyCommands: CommandSpec[] = [list, add, remove, regenerate]
