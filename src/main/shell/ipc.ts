// Main side of the contract: one handler per channel, answering only our own window.
import { ipcMain, type IpcMainInvokeEvent } from 'electron'
import { HUB_CHANNELS, type HubStatus } from '../../shared/contract.js'

export function registerIpc (deps: { isTrustedSender: (e: IpcMainInvokeEvent) => boolean; status: () => HubStatus }): void {
  ipcMain.handle(HUB_CHANNELS.status, (event): HubStatus => {
    // A throwing handler reaches the renderer as a bare message; the status itself never throws.
    if (!deps.isTrustedSender(event)) throw new Error('hub.status: sender is not the Sitehub window')
    return deps.status()
  })
}
