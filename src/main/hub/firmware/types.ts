// The firmware library's types: image metadata (in the store) and the service API (hub.firmware).
import type { Readable } from 'node:stream'

/** One image in the library. The bytes live in DIR/firmware/{sha256} (content-addressed). */
export interface FirmwareImage {
  name: string
  version: string
  /** Bytes. */
  size: number
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string
  /** ISO-8601 UTC. */
  uploadedAt: string
  /** Free text from the uploader (release notes, build id); optional. */
  description?: string
}

/** What a device needs to update (the `firmwareUpdate` method payload, see docs/firmware.md). */
export interface FirmwareUpdatePayload {
  name: string
  version: string
  url: string
  sha256: string
  size: number
}

export interface FirmwareAddInput {
  name: string
  version: string
  /** The bytes: a buffer, or a stream that is written to disk as it arrives (never buffered whole). */
  data: Buffer | Readable | AsyncIterable<Uint8Array>
  /** When given, the upload is refused unless the bytes hash to it (end-to-end check of the transfer). */
  expectedSha256?: string
  /** When given, the upload is refused unless exactly this many bytes arrive. */
  expectedSize?: number
  description?: string
}

export interface FirmwareAddResult {
  image: FirmwareImage
  /** False when the same name, version and bytes were already in the library (the call was a no-op). */
  created: boolean
}

export interface FirmwareRead {
  image: FirmwareImage
  /** Absolute path of the content file (read-only; never write to it). */
  path: string
}

export interface FirmwareLibrary {
  /** Streams the bytes to DIR/firmware, fsyncs them, then records the metadata. Resolves once both are durable. */
  add(input: FirmwareAddInput): Promise<FirmwareAddResult>
  list(): FirmwareImage[]
  get(name: string, version: string): FirmwareImage | undefined
  /** Throws FirmwareError 404 when absent. */
  mustGet(name: string, version: string): FirmwareImage
  /** Where to read an image's bytes from. Throws FirmwareError 404 when absent. */
  open(name: string, version: string): FirmwareRead
  /**
   * Deletes the metadata, and the bytes when no other entry shares them. Refuses (409
   * FirmwareInUse) while a device reports this image as pending in an unfinished update,
   * unless `force`.
   */
  remove(name: string, version: string, opts?: { force?: boolean }): Promise<void>
  /** Device ids whose reported firmware.pending is this image with an unfinished status. */
  inUseBy(name: string, version: string): string[]
  /** The method payload for `firmwareUpdate` (url on this hub's HTTPS endpoint). */
  updatePayload(name: string, version: string): FirmwareUpdatePayload
  /** The hub-relative download path: /firmware/{name}/{version}/image. */
  imagePath(name: string, version: string): string
  /** The content directory (DIR/firmware). */
  readonly dir: string
}

/** Errors of the library, mapped to HTTP by the REST layer (status + errorName). */
export class FirmwareError extends Error {
  constructor (readonly status: number, readonly errorName: string, message: string) {
    super(message)
    this.name = 'FirmwareError'
  }
}
