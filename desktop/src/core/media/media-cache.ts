import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Result } from '@parley/shared'
import type { LocalDb } from '../db/local-db'
import type { MediaSize } from '../db/schema'

/** The default size cap of one account's media folder. */
export const DEFAULT_MEDIA_CACHE_BYTES = 512 * 1024 * 1024
/** How long a 404 is believed before the relay is asked again. */
export const DEFAULT_NOT_FOUND_MS = 60_000

export interface MediaFile {
  mime: string
  bytes: Buffer
}

export type FetchImage = (id: string, size: MediaSize) => Promise<Result<MediaFile>>

export interface MediaCacheOptions {
  db: LocalDb
  /** The account's media folder (files are `<dir>/<size>/<imageId>`). */
  dir: string
  fetchImage: FetchImage
  capBytes?: number
  notFoundMs?: number
  clock?: () => number
}

/**
 * Thumbnails, full images and avatars of one account, on disk, indexed in the account's database
 * (`media_files`: size in bytes and last use, for LRU eviction under a byte cap). Each file is
 * fetched from the relay once: concurrent requests for it share one download, and a 404 is
 * remembered for a while so a missing image is not asked for in a loop. Cached files are served
 * without the relay, so they show offline too. Pinned files (pictures waiting for their upload)
 * are never evicted.
 */
export class MediaCache {
  readonly dir: string
  readonly #db: LocalDb
  readonly #fetchImage: FetchImage
  readonly #capBytes: number
  readonly #notFoundMs: number
  readonly #clock: () => number
  readonly #inflight = new Map<string, Promise<Result<MediaFile>>>()
  readonly #notFound = new Map<string, number>()
  #lastTick = 0

  constructor(options: MediaCacheOptions) {
    this.dir = options.dir
    this.#db = options.db
    this.#fetchImage = options.fetchImage
    this.#capBytes = options.capBytes ?? DEFAULT_MEDIA_CACHE_BYTES
    this.#notFoundMs = options.notFoundMs ?? DEFAULT_NOT_FOUND_MS
    this.#clock = options.clock ?? Date.now
  }

  /** The bytes of an image at a size: from disk if there, else from the relay (then kept). */
  async get(id: string, size: MediaSize): Promise<Result<MediaFile>> {
    const cached = await this.#read(id, size)
    if (cached) return { ok: true, value: cached }
    // A picture still waiting for its upload has only its original here: it is its own preview.
    if (size !== 'full') {
      const local = this.#row(id, 'full')
      if (local?.pinned === 1) {
        const original = await this.#read(id, 'full')
        if (original) return { ok: true, value: original }
      }
    }
    const key = `${size}/${id}`
    const notFoundUntil = this.#notFound.get(key)
    if (notFoundUntil !== undefined) {
      if (notFoundUntil > this.#clock()) {
        return { ok: false, error: { code: 'image_not_found', message: `No image ${id} (${size})` } }
      }
      this.#notFound.delete(key)
    }
    let pending = this.#inflight.get(key)
    if (!pending) {
      pending = this.#download(id, size).finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, pending)
    }
    return pending
  }

  /** Keeps bytes this device has (a picture being sent); pinned ones stay until unpinned. */
  put(id: string, size: MediaSize, file: MediaFile, pinned = false): void {
    const folder = path.join(this.dir, size)
    mkdirSync(folder, { recursive: true })
    const target = path.join(folder, id)
    const temporary = `${target}.${process.pid}.tmp`
    writeFileSync(temporary, file.bytes)
    renameSync(temporary, target)
    this.#db
      .prepare(
        `insert into media_files (image_id, size, mime, bytes, last_used_at, pinned) values (?, ?, ?, ?, ?, ?)
         on conflict (image_id, size) do update set mime = excluded.mime, bytes = excluded.bytes,
           last_used_at = excluded.last_used_at, pinned = max(pinned, excluded.pinned)`,
      )
      .run(id, size, file.mime, file.bytes.length, this.#tick(), pinned ? 1 : 0)
    this.#evict()
  }

  /** The bytes of a kept file, without asking the relay; null when not here. */
  async local(id: string, size: MediaSize): Promise<MediaFile | null> {
    return this.#read(id, size)
  }

  /** The upload is done: the file may be evicted like any other. */
  unpin(id: string): void {
    this.#db.prepare('update media_files set pinned = 0 where image_id = ?').run(id)
    this.#evict()
  }

  /** Bytes held on disk in total. */
  totalBytes(): number {
    return (this.#db.prepare('select coalesce(sum(bytes), 0) from media_files').pluck().get() as number) ?? 0
  }

  #row(id: string, size: MediaSize): { mime: string; pinned: number } | undefined {
    return this.#db
      .prepare('select mime, pinned from media_files where image_id = ? and size = ?')
      .get(id, size) as { mime: string; pinned: number } | undefined
  }

  async #read(id: string, size: MediaSize): Promise<MediaFile | null> {
    const row = this.#row(id, size)
    if (!row) return null
    try {
      const bytes = await readFile(path.join(this.dir, size, id))
      this.#db
        .prepare('update media_files set last_used_at = ? where image_id = ? and size = ?')
        .run(this.#tick(), id, size)
      return { mime: row.mime, bytes }
    } catch {
      // The file went (cleaned up by hand, a half-finished eviction): forget it and fetch again.
      this.#db.prepare('delete from media_files where image_id = ? and size = ?').run(id, size)
      return null
    }
  }

  async #download(id: string, size: MediaSize): Promise<Result<MediaFile>> {
    const result = await this.#fetchImage(id, size)
    if (!result.ok) {
      if (result.error.code === 'image_not_found') {
        this.#notFound.set(`${size}/${id}`, this.#clock() + this.#notFoundMs)
      }
      return result
    }
    this.put(id, size, result.value)
    return result
  }

  /** Strictly increasing use times, so the LRU order holds within one millisecond too. */
  #tick(): number {
    this.#lastTick = Math.max(this.#clock(), this.#lastTick + 1)
    return this.#lastTick
  }

  /** Drops the least recently used unpinned files until the folder is under the cap. */
  #evict(): void {
    let total = this.totalBytes()
    if (total <= this.#capBytes) return
    const oldest = this.#db.prepare(
      'select image_id, size, bytes from media_files where pinned = 0 order by last_used_at limit 64',
    )
    const remove = this.#db.prepare('delete from media_files where image_id = ? and size = ?')
    while (total > this.#capBytes) {
      const rows = oldest.all() as { image_id: string; size: MediaSize; bytes: number }[]
      if (rows.length === 0) return
      for (const row of rows) {
        if (total <= this.#capBytes) break
        remove.run(row.image_id, row.size)
        rmSync(path.join(this.dir, row.size, row.image_id), { force: true })
        total -= row.bytes
      }
    }
  }
}
