// Where the built-in Modbus profiles live: next to app.asar when packaged
// (electron-builder extraResources), else resources/ of the source tree.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export function builtinProfileDir (): string {
  const packaged = (process as { resourcesPath?: string }).resourcesPath
  if (packaged !== undefined) {
    const p = join(packaged, 'modbus-profiles')
    if (existsSync(p)) return p
  }
  // src/main/hub/serial -> repo root; out/main (bundled) -> repo root
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'resources', 'modbus-profiles')
    if (existsSync(p)) return p
    dir = resolve(dir, '..')
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../../resources/modbus-profiles')
}
