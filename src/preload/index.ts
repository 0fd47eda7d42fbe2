// Sandboxed preload: built as one CommonJS file that requires only 'electron'.
// Exposes `window.hub` (the typed HubApi: call + subscribe) and nothing else; never ipcRenderer.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { IPC, type HubApi, type UiEvent } from '../shared/contract/index.js'

const hub: HubApi = {
  call: (method, input, token) => ipcRenderer.invoke(IPC.call, method, input, token) as never,
  subscribe (listener) {
    const handler = (_e: IpcRendererEvent, events: UiEvent[]): void => { listener(events) }
    ipcRenderer.on(IPC.events, handler)
    return () => { ipcRenderer.off(IPC.events, handler) }
  }
}

contextBridge.exposeInMainWorld('hub', hub)
