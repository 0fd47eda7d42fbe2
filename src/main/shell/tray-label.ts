// What the tray shows about the hub, in plain words (pure; tray.ts puts it on screen).
import type { HubStatus } from '../../shared/contract/index.js'

export function trayLabel (s: HubStatus): { tooltip: string; menuLine: string; healthy: boolean } {
  switch (s.state) {
    case 'starting':
      return { tooltip: 'Sitehub: starting…', menuLine: 'Hub starting…', healthy: false }
    case 'failed':
      return { tooltip: `Sitehub: not running (${s.error ?? 'unknown error'})`, menuLine: `Hub not running: ${s.error ?? 'unknown error'}`, healthy: false }
    case 'running': {
      const line = `${s.connected} of ${s.devices} device${s.devices === 1 ? '' : 's'} online`
      return { tooltip: `Sitehub: running · ${line}`, menuLine: `Hub running · ${line}`, healthy: true }
    }
  }
}
