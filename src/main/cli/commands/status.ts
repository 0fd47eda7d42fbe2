// `sitehub status`: is a hub running on this data dir, and how is it doing.
import type { CommandSpec } from '../args.js'
import { dataDirOf, dataDirOption, jsonOption } from '../common.js'
import { CliError } from '../errors.js'
import { createAdminClient, HubNotRunningError } from '../../hub/admin/client.js'

export const statusCommand: CommandSpec = {
  path: 'status',
  summary: 'Tell whether a hub is running on the data directory, with its counts (exit 1 when none is).',
  options: { 'data-dir': dataDirOption, json: jsonOption },
  examples: ['sitehub status --data-dir /var/lib/sitehub'],
  async run ({ values, io }) {
    const dataDir = dataDirOf(values)
    const client = await createAdminClient(dataDir).catch((err: unknown) => {
      if (err instanceof HubNotRunningError) throw new CliError(`no hub is running with data dir ${dataDir}`)
      throw err
    })
    try {
      const s = await client.call('hub.status', {})
      io.out(values['json'] === true
        ? JSON.stringify(s, null, 2)
        : [
            `running (pid ${s.pid}) as ${s.role} hub ${s.hostName}, up ${s.uptimeSeconds}s`,
            `data dir:    ${s.dataDir}`,
            `listening:   ${s.bind} mqtts ${s.ports.mqtts}, https ${s.ports.https}${s.ports.mqtt === null ? '' : `, mqtt ${s.ports.mqtt}`}`,
            `devices:     ${s.devices.total} (${s.devices.enabled} enabled, ${s.devices.disabled} disabled), ${s.connections} connected`,
            `telemetry:   ${s.telemetry.messages} messages stored (${s.telemetry.bytes} bytes)`
          ].join('\n'))
      return 0
    } finally {
      await client.close()
    }
  }
}
