// The settings of the last `sitehub serve` on a data dir (DIR/serve.json), so commands that
// open the data dir without a running hub print connection strings with the right host name.
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { HubConfig } from '../hub/services.js'

export type ServeSettings = Omit<HubConfig, 'dataDir'>

export const DEFAULT_SETTINGS: ServeSettings = {
  hostName: 'localhost', bind: '0.0.0.0', mqttsPort: 8883, httpsPort: 443, mqttPort: null, role: 'edge'
}

const file = (dataDir: string): string => join(dataDir, 'serve.json')

export async function readServeSettings (dataDir: string): Promise<ServeSettings> {
  let saved: Partial<ServeSettings> = {}
  try {
    saved = JSON.parse(await readFile(file(dataDir), 'utf8')) as Partial<ServeSettings>
  } catch {
    // none yet (or unreadable): the defaults of `sitehub serve`
  }
  return { ...DEFAULT_SETTINGS, ...saved }
}

export async function writeServeSettings (config: HubConfig): Promise<void> {
  const { dataDir, ...settings } = config
  const tmp = `${file(dataDir)}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify({ ...settings, savedAt: new Date().toISOString() }, null, 2) + '\n')
  await rename(tmp, file(dataDir))
}
