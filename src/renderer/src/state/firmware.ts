// Firmware library store: the images with where they run, live on 'firmware.changed' (and on
// reported twin changes, throttled, for the running counts); uploads from a file in chunks
// under the WebSocket frame limit with progress, sha256 computed here and verified by the hub.
import { createStore } from 'zustand/vanilla'
import type { FirmwareImageView, HubApi, HubErrorInfo, UiEvent } from '../../../shared/contract/index'
import { createSha256, toBase64 } from '../lib/sha256'
import { throttle } from './throttle'

/** What an upload reads: a File or Blob (slice + arrayBuffer). */
export interface UploadSource { size: number; slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> } }

export interface UploadProgress {
  phase: 'hashing' | 'uploading' | 'finishing' | 'done' | 'failed' | 'cancelled'
  name: string
  version: string
  /** Bytes hashed or sent so far, of total. */
  done: number
  total: number
  sha256: string | null
  error: HubErrorInfo | undefined
  /** The stored image when done; created false = the library already had exactly these bytes. */
  created: boolean | undefined
}

export interface FirmwareState {
  images: FirmwareImageView[]
  loaded: boolean
  error: HubErrorInfo | undefined
  upload: UploadProgress | undefined
}

const READ_BYTES = 4 * 1024 * 1024

export function createFirmwareStore (api: HubApi, opts: { refetchMs?: number } = {}) {
  const store = createStore<FirmwareState>()(() => ({ images: [], loaded: false, error: undefined, upload: undefined }))
  let cancelled = false

  async function refresh (): Promise<void> {
    const r = await api.call('firmware.list', undefined)
    store.setState(r.ok ? { images: r.value, loaded: true, error: undefined } : { error: r.error })
  }
  const later = throttle(() => { void refresh() }, opts.refetchMs ?? 2000)

  function onEvents (events: UiEvent[]): void {
    if (events.some(e => e.type === 'firmware.changed' || e.type === 'resync')) { void refresh(); return }
    if (events.some(e => e.type === 'twin.changed' && e.parts.includes('reported'))) later()
  }

  function start (): () => void {
    void refresh()
    const off = api.subscribe(onEvents)
    return () => { off(); later.cancel() }
  }

  const progress = (p: Partial<UploadProgress>): void => {
    const cur = store.getState().upload
    if (cur !== undefined) store.setState({ upload: { ...cur, ...p } })
  }
  const bytesOf = async (file: UploadSource, start: number, end: number): Promise<Uint8Array> => new Uint8Array(await file.slice(start, end).arrayBuffer())

  /** Hashes the file, then sends it chunk by chunk; resolves with the outcome (also in `upload`). */
  async function upload (file: UploadSource, meta: { name: string; version: string; description?: string }): Promise<UploadProgress> {
    cancelled = false
    store.setState({ upload: { phase: 'hashing', name: meta.name, version: meta.version, done: 0, total: file.size, sha256: null, error: undefined, created: undefined } })
    const failed = (error: HubErrorInfo): UploadProgress => { progress({ phase: 'failed', error }); return store.getState().upload as UploadProgress }
    const stopped = (): UploadProgress => { progress({ phase: 'cancelled' }); return store.getState().upload as UploadProgress }
    if (file.size === 0) return failed({ code: 400004, name: 'ArgumentInvalid', message: 'The file is empty.' })

    const hash = createSha256()
    for (let off = 0; off < file.size; off += READ_BYTES) {
      if (cancelled) return stopped()
      hash.update(await bytesOf(file, off, Math.min(file.size, off + READ_BYTES)))
      progress({ done: Math.min(file.size, off + READ_BYTES) })
    }
    const sha256 = hash.hex()
    progress({ phase: 'uploading', done: 0, sha256 })

    const begin = await api.call('firmware.uploadBegin', {
      name: meta.name, version: meta.version, size: file.size, sha256,
      ...(meta.description === undefined || meta.description.trim() === '' ? {} : { description: meta.description.trim() })
    })
    if (!begin.ok) return failed(begin.error)
    const { uploadId, chunkBytes } = begin.value
    for (let off = 0; off < file.size; off += chunkBytes) {
      if (cancelled) { await api.call('firmware.uploadAbort', { uploadId }); return stopped() }
      const chunk = await bytesOf(file, off, Math.min(file.size, off + chunkBytes))
      const r = await api.call('firmware.uploadChunk', { uploadId, offset: off, data: toBase64(chunk) })
      if (!r.ok) { await api.call('firmware.uploadAbort', { uploadId }); return failed(r.error) }
      progress({ done: r.value.received })
    }
    progress({ phase: 'finishing' })
    const fin = await api.call('firmware.uploadFinish', { uploadId })
    if (!fin.ok) return failed(fin.error)
    progress({ phase: 'done', created: fin.value.created })
    await refresh()
    return store.getState().upload as UploadProgress
  }

  function cancel (): void { cancelled = true }
  function clearUpload (): void { store.setState({ upload: undefined }) }

  async function remove (name: string, version: string): Promise<HubErrorInfo | undefined> {
    const r = await api.call('firmware.remove', { name, version })
    await refresh()
    return r.ok ? undefined : r.error
  }

  return { store, refresh, start, onEvents, upload, cancel, clearUpload, remove }
}

export type FirmwareStore = ReturnType<typeof createFirmwareStore>

/** The library's rule for names and versions (checked as you type). */
export const IMAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/
