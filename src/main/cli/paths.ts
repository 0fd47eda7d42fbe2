// The default data dir: the OS's per-user application data folder.
import { homedir } from 'node:os'
import { join, win32, posix } from 'node:path'

export function defaultDataDir (env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (platform === 'win32') return win32.join(env['APPDATA'] ?? win32.join(home, 'AppData', 'Roaming'), 'Sitehub')
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', 'Sitehub')
  const xdg = env['XDG_DATA_HOME']
  // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
  return join(xdg !== undefined && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'), 'sitehub')
}
