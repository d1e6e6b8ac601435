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
} from '../repositories/images'
import { UploadGate } from './uploads'

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
  readonly #gate: UploadGate

  constructor(deps: {
    db: Kysely<Database>
    store: BlobStore
    clock?: () => number
    graceMs?: number
    /** Images decoded at once (each takes up to two libuv pool threads). */
    decodeConcurrency?: number
    /** Shared with files: uploads in progress, the quota, and the turn uploads and collection take. */
    gate?: UploadGate
  }) {
    this.#db = deps.db
    this.#store = deps.store
    this.#clock = deps.clock ?? Date.now
    this.#graceMs = deps.graceMs ?? DEFAULT_IMAGE_GRACE_MS
    this.#decoding = new DecodeQueue(deps.decodeConcurrency ?? 1)
    this.#gate = deps.gate ?? new UploadGate({ db: deps.db })
  }

  /** Images being decoded and waiting to be. */
  get decodeLoad(): { running: number; waiting: number } {
    return this.#decoding.load
  }

  /** Uploads of `userId` in progress on this relay (pictures and files). */
  uploadsInProgress(userId: number): number {
    return this.#gate.inProgress(userId)
  }

  /** See UploadGate.begin: pictures and files count together. */
  beginUpload(userId: number): () => void {
    return this.#gate.begin(userId)
  }

  async upload(userId: number, input: Buffer): Promise<ImageInfo> {
    // A user at the quota already is refused before the decoding is paid for.
    await this.#gate.requireRoom(userId, 0)
    const processed = await this.#decoding.run(() => processImage(input))
    const id = createHash('sha256').update(processed.data).digest('hex')
    return this.#gate.exclusive(async () => {
      // Checked again in turn with other uploads, so two at once cannot both slip under it;
      // a picture the user uploaded before costs nothing more.
      if (!(await findUploadedImage(this.#db, userId, id)))
        await this.#gate.requireRoom(userId, processed.data.length)
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
    return this.#gate.exclusive(async () => {
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
    return this.#gate.exclusive(async () => {
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
