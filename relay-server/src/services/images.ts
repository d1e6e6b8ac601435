import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import type { ImageInfo, ImageQuery } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, ImageRow } from '../db/schema'
import { AppError } from '../errors'
import type { BlobStore } from '../images/blob-store'
import { DecodeQueue } from '../images/decode-queue'
import { makeAvatar, processImage } from '../images/process'
import {
  deleteImages,
  findImage,
  findUploadedImage,
  maySeeImage,
  recordUpload,
  unreferencedImageIds,
  unusedImageIds,
  uploadedBytes,
} from '../repositories/images'

/** How long an upload that no message or profile uses is kept before it is collected. */
export const DEFAULT_IMAGE_GRACE_MS = 24 * 60 * 60 * 1000

type Size = NonNullable<ImageQuery['size']> | 'original'

export const blobKey = (id: string, size: Size) => (size === 'original' ? id : `${id}.${size}`)

export function toImageInfo(row: Pick<ImageRow, 'id' | 'mime' | 'width' | 'height' | 'bytes'>): ImageInfo {
  return { id: row.id, mime: row.mime, width: row.width, height: row.height, bytes: row.bytes }
}

export interface ServedImage {
  stream: Readable
  size: number
  mime: string
  etag: string
}

/**
 * Uploads, variants, access and garbage collection. Bytes live in a BlobStore under their
 * SHA-256, so the same picture uploaded twice is stored once; rows say who may use and see it.
 */
export class ImageService {
  readonly #db: Kysely<Database>
  readonly #store: BlobStore
  readonly #clock: () => number
  readonly #graceMs: number
  readonly #decoding: DecodeQueue
  readonly #quotaBytes: number | null
  readonly #maxUploadsPerUser: number
  /** Uploads in progress per user on this relay, from the first byte of the request to the reply. */
  readonly #uploading = new Map<number, number>()
  /** Uploads and collection take turns, so a collection never removes bytes an upload just wrote. */
  #turn: Promise<unknown> = Promise.resolve()

  constructor(deps: {
    db: Kysely<Database>
    store: BlobStore
    clock?: () => number
    graceMs?: number
    /** Images decoded at once (each takes up to two libuv pool threads). */
    decodeConcurrency?: number
    /** Stored bytes one user's uploads may take; null for no limit. */
    quotaBytes?: number | null
    maxUploadsPerUser?: number
  }) {
    this.#db = deps.db
    this.#store = deps.store
    this.#clock = deps.clock ?? Date.now
    this.#graceMs = deps.graceMs ?? DEFAULT_IMAGE_GRACE_MS
    this.#decoding = new DecodeQueue(deps.decodeConcurrency ?? 1)
    this.#quotaBytes = deps.quotaBytes ?? null
    this.#maxUploadsPerUser = deps.maxUploadsPerUser ?? 2
  }

  /** Images being decoded and waiting to be. */
  get decodeLoad(): { running: number; waiting: number } {
    return this.#decoding.load
  }

  /** Uploads of `userId` in progress on this relay. */
  uploadsInProgress(userId: number): number {
    return this.#uploading.get(userId) ?? 0
  }

  /**
   * Counts an upload of `userId` as in progress until the returned function is called; beyond
   * `maxUploadsPerUser` at once, refuses with too_many_uploads (before the body is read).
   */
  beginUpload(userId: number): () => void {
    const current = this.#uploading.get(userId) ?? 0
    if (current >= this.#maxUploadsPerUser) {
      throw new AppError(
        'too_many_uploads',
        `At most ${this.#maxUploadsPerUser} uploads at once; wait for one to finish`,
        { retryAfterSeconds: 1 },
      )
    }
    this.#uploading.set(userId, current + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.#uploading.get(userId) ?? 1) - 1
      if (left > 0) this.#uploading.set(userId, left)
      else this.#uploading.delete(userId)
    }
  }

  async #requireRoom(userId: number, adding: number): Promise<void> {
    if (this.#quotaBytes === null) return
    const used = await uploadedBytes(this.#db, userId)
    if (used + adding > this.#quotaBytes) {
      const mb = (n: number) => `${Math.ceil(n / 1024 / 1024)} MB`
      throw new AppError(
        'quota_exceeded',
        `Your pictures take ${mb(used)} of the ${mb(this.#quotaBytes)} this relay keeps per user; delete some messages with pictures first`,
      )
    }
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(task, task)
    this.#turn = run.catch(() => undefined)
    return run
  }

  async upload(userId: number, input: Buffer): Promise<ImageInfo> {
    // A user at the quota already is refused before the decoding is paid for.
    await this.#requireRoom(userId, 0)
    const processed = await this.#decoding.run(() => processImage(input))
    const id = createHash('sha256').update(processed.data).digest('hex')
    return this.#exclusive(async () => {
      // Checked again in turn with other uploads, so two at once cannot both slip under it;
      // a picture the user uploaded before costs nothing more.
      if (!(await findUploadedImage(this.#db, userId, id)))
        await this.#requireRoom(userId, processed.data.length)
      const now = this.#clock()
      await this.#store.put(blobKey(id, 'original'), processed.data)
      await this.#store.put(blobKey(id, 'thumb'), processed.thumb)
      const row = {
        id,
        mime: processed.mime,
        width: processed.width,
        height: processed.height,
        bytes: processed.data.length,
      }
      await this.#db.transaction().execute((trx) => recordUpload(trx, row, userId, now))
      return toImageInfo(row)
    })
  }

  /** Makes the 256 px square for a profile picture, once. */
  async prepareAvatar(id: string): Promise<void> {
    const key = blobKey(id, 'avatar')
    if (await this.#store.has(key)) return
    const original = await this.#store.get(blobKey(id, 'original'))
    if (!original) throw new AppError('image_not_found', 'The image bytes are gone')
    const chunks: Buffer[] = []
    for await (const chunk of original.stream) chunks.push(chunk as Buffer)
    const bytes = Buffer.concat(chunks)
    await this.#store.put(key, await this.#decoding.run(() => makeAvatar(bytes)))
  }

  /**
   * The bytes, for someone allowed to see them: the uploader, a participant of a conversation
   * where a (not deleted) message carries the image (not its recipient if it was withheld from
   * them), or anyone signed in for a profile picture.
   * Everyone else gets the same 404 as for an image that does not exist.
   */
  async open(userId: number, id: string, size: Size): Promise<ServedImage> {
    const row = await findImage(this.#db, id)
    if (!row || !(await maySeeImage(this.#db, userId, id)))
      throw new AppError('image_not_found', `No image ${id}`)
    const blob = await this.#store.get(blobKey(id, size))
    if (!blob) throw new AppError('image_not_found', `No ${size} version of image ${id}`)
    if (size === 'original') return { ...blob, mime: row.mime, etag: `"${id}.${size}"` }
    if (size === 'thumb') return { ...blob, mime: 'image/webp', etag: `"${id}.${size}"` }
    // Avatars are JPEG; ones made by earlier versions are WebP: the bytes say which.
    const sniffed = await sniffStream(blob.stream)
    return { ...blob, stream: sniffed.stream, mime: sniffed.mime, etag: `"${id}.${size}"` }
  }

  /**
   * Removes these images at once, bytes included, if nothing uses them any more (no message,
   * profile or upload): what an erased account leaves behind. Returns how many went.
   */
  async collect(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0
    return this.#exclusive(async () => {
      const doomed = await this.#db.transaction().execute(async (trx) => {
        const unused = await unreferencedImageIds(trx, ids)
        await deleteImages(trx, unused)
        return unused
      })
      await this.#deleteBytes(doomed)
      return doomed.length
    })
  }

  async #deleteBytes(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      for (const size of ['original', 'thumb', 'avatar'] as const) await this.#store.delete(blobKey(id, size))
    }
  }

  /**
   * Removes images that no message or profile uses and that nobody uploaded within the grace
   * period. Returns how many went.
   */
  async collectGarbage(): Promise<number> {
    return this.#exclusive(async () => {
      const cutoff = this.#clock() - this.#graceMs
      const doomed = await this.#db.transaction().execute(async (trx) => {
        const ids = await unusedImageIds(trx, cutoff)
        await deleteImages(trx, ids)
        return ids
      })
      await this.#deleteBytes(doomed)
      return doomed.length
    })
  }
}

/** Reads the first chunk to tell JPEG from WebP, and gives back a stream of all the bytes. */
async function sniffStream(stream: Readable): Promise<{ stream: Readable; mime: string }> {
  const chunks = stream[Symbol.asyncIterator]()
  const first = await chunks.next()
  const head = first.done ? Buffer.alloc(0) : (first.value as Buffer)
  const mime = head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff ? 'image/jpeg' : 'image/webp'
  async function* all() {
    if (!first.done) yield head
    for (;;) {
      const next = await chunks.next()
      if (next.done) return
      yield next.value as Buffer
    }
  }
  return { stream: Readable.from(all()), mime }
}
