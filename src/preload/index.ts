// Sandboxed preload: built as one CommonJS file that requires only 'electron'.
// Exposes `window.hub` (the typed HubApi) and nothing else; never ipcRenderer itself.
import { contextBridge, ipcRenderer } from 'electron'
import { HUB_CHANNELS, type HubApi, type HubStatus } from '../shared/contract.js'

const hub: HubApi = {
  status: () => ipcRenderer.invoke(HUB_CHANNELS.status) as Promise<HubStatus>
}

contextBridge.exposeInMainWorld('hub', hub)
