import type { BridgeEventPayload, MediaSize } from '@parley/shared'
import type { Bridge } from '../bridge'
import { downloadUrl, fromBase64 } from '../download'

const MAX_ENTRIES = 400

/**
 * Images as object URLs, fetched through the bridge (the core keeps them on disk, also offline).
 * One request per image and size however many components show it; the least recently used are
 * released past a cap, which only costs a refetch from the core's disk cache.
 */
export class MediaCache {
  readonly #bridge: Bridge
  readonly #entries = new Map<string, Promise<string | null>>()

  constructor(bridge: Bridge) {
    this.#bridge = bridge
  }

  url(imageId: string, size: MediaSize): Promise<string | null> {
    const key = `${size}:${imageId}`
    const cached = this.#entries.get(key)
    if (cached) {
      this.#entries.delete(key)
      this.#entries.set(key, cached)
      return cached
    }
    const pending = this.#fetch(imageId, size)
    this.#entries.set(key, pending)
    // A failure (offline, not cached yet) is not remembered: the next look asks again.
    void pending.then((url) => {
      if (url === null && this.#entries.get(key) === pending) this.#entries.delete(key)
    })
    while (this.#entries.size > MAX_ENTRIES) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, Promise<string | null>]
      this.#entries.delete(oldestKey)
      void oldest.then((url) => url && URL.revokeObjectURL(url))
    }
    return pending
  }

  /** Saves a picture at its full size as a file (a download; Electron asks where). False if it cannot be had. */
  async save(imageId: string, fileName: string): Promise<boolean> {
    const url = await this.url(imageId, 'full')
    if (url) downloadUrl(url, fileName)
    return url !== null
  }

  /** How far the pictures you send have gone up to the relay. */
  onUploadProgress(listener: (progress: BridgeEventPayload<'media.uploadProgress'>) => void): () => void {
    return this.#bridge.on('media.uploadProgress', listener)
  }

  /** How far files being saved have come down from the relay. */
  onDownloadProgress(listener: (progress: BridgeEventPayload<'files.downloadProgress'>) => void): () => void {
    return this.#bridge.on('files.downloadProgress', listener)
  }

  async #fetch(imageId: string, size: MediaSize): Promise<string | null> {
    const result = await this.#bridge.invoke('media.get', { imageId, size })
    if (!result.ok) return null
    return URL.createObjectURL(new Blob([fromBase64(result.value.dataBase64)], { type: result.value.mime }))
  }
}
