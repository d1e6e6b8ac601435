import type { Readable } from 'node:stream'
import type { FileInfo } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, FileRow } from '../db/schema'
import { AppError } from '../errors'
import { safeFileName, storedType } from '../files/names'
import { parseRange } from '../files/range'
import type { BlobStore, ByteRange, StagedBlob } from '../images/blob-store'
import { randomAlphanumeric } from '../random'
import { deleteFiles, filesNoMessageCarries, findFile, insertFile, maySeeFile } from '../repositories/files'
import type { UploadGate } from './uploads'

export const toFileInfo = (row: Pick<FileRow, 'id' | 'name' | 'size' | 'type'>): FileInfo => ({
  id: row.id,
  name: row.name,
  size: Number(row.size),
  type: row.type,
})

/** The strong ETag of a file: its id always names the same bytes. */
export const fileEtag = (id: string) => `"${id}"`

/**
 * A download: the bytes asked for (all of them, or one range) and what the headers say, or, for a
 * range outside the file, its size (for the 416 answer's Content-Range).
 */
export type ServedFile =
  | { kind: 'bytes'; stream: Readable; name: string; size: number; range: ByteRange | null }
  | { kind: 'unsatisfiable'; size: number }

/**
 * Files of any type: streamed to disk while hashed (never held in memory whole), stored once per
 * content under its SHA-256 like pictures, one row per upload with a random id, served only to
 * those who may see them, and collected when no message carries them any more.
 */
export class FileService {
  readonly #db: Kysely<Database>
  readonly #store: BlobStore
  readonly #gate: UploadGate
  readonly #clock: () => number
  readonly #graceMs: number
  readonly maxFileBytes: number

  constructor(deps: {
    db: Kysely<Database>
    store: BlobStore
    gate: UploadGate
    maxFileBytes: number
    /** How long an upload no message carries is kept. */
    graceMs: number
    clock?: () => number
  }) {
    this.#db = deps.db
    this.#store = deps.store
    this.#gate = deps.gate
    this.maxFileBytes = deps.maxFileBytes
    this.#graceMs = deps.graceMs
    this.#clock = deps.clock ?? Date.now
  }

  /** See UploadGate.begin: files and pictures count together. */
  beginUpload(userId: number): () => void {
    return this.#gate.begin(userId)
  }

  /** Refuses an upload of `bytes` that would take the user past the quota, before any is read. */
  requireRoom(userId: number, bytes: number): Promise<void> {
    return this.#gate.requireRoom(userId, bytes)
  }

  /** Streams the upload's bytes to a temporary file while hashing them. */
  stage(source: Readable): Promise<StagedBlob> {
    return this.#store.stage(source)
  }

  /**
   * Keeps a staged upload as a file of `userId`'s, once the quota allows it (bytes the user stores
   * already cost nothing again); the staged bytes are dropped if it does not.
   */
  async save(userId: number, staged: StagedBlob, meta: { name?: string; type?: string }): Promise<FileInfo> {
    try {
      const type = await storedType(meta.type, staged.head)
      return await this.#gate.exclusive(async () => {
        const owned = await this.#db
          .selectFrom('files')
          .select('id')
          .where('owner_id', '=', userId)
          .where('blob', '=', staged.hash)
          .executeTakeFirst()
        if (!owned) await this.#gate.requireRoom(userId, staged.size)
        await staged.commit()
        const row: FileRow = {
          id: randomAlphanumeric(22),
          owner_id: userId,
          blob: staged.hash,
          name: safeFileName(meta.name),
          size: staged.size,
          type,
          created_at: this.#clock(),
        }
        await insertFile(this.#db, row)
        return toFileInfo(row)
      })
    } finally {
      await staged.discard()
    }
  }

  /**
   * The file's bytes (or the range asked for) for someone allowed to see them: its uploader, or a
   * reader of a message (not deleted) that carries it. Everyone else gets the same 404 as for a
   * file that does not exist.
   */
  async open(userId: number, id: string, rangeHeader: string | undefined): Promise<ServedFile> {
    const row = await findFile(this.#db, id)
    if (!row || !(await maySeeFile(this.#db, userId, id))) throw notFound(id)
    const size = Number(row.size)
    const range = parseRange(rangeHeader, size)
    if (range.kind === 'unsatisfiable') return { kind: 'unsatisfiable', size }
    const part = range.kind === 'partial' ? { start: range.start, end: range.end } : null
    const blob = await this.#store.get(row.blob, part ?? undefined)
    if (!blob) throw notFound(id)
    return { kind: 'bytes', stream: blob.stream, name: row.name, size, range: part }
  }

  /** Removes these files (rows, and bytes nothing else uses) if no message carries them: an erasure. */
  async collect(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0
    return this.#remove((trx) => filesNoMessageCarries(trx, { among: ids }))
  }

  /** Removes files nobody sent within the grace period, and staged bytes a crash left behind. */
  async collectGarbage(): Promise<number> {
    const cutoff = this.#clock() - this.#graceMs
    const removed = await this.#remove((trx) => filesNoMessageCarries(trx, { before: cutoff }))
    await this.#store.sweepStaging(cutoff)
    return removed
  }

  async #remove(pick: (trx: Kysely<Database>) => Promise<string[]>): Promise<number> {
    return this.#gate.exclusive(async () => {
      const { ids, blobs } = await this.#db.transaction().execute(async (trx) => {
        const doomed = await pick(trx)
        return { ids: doomed, blobs: await deleteFiles(trx, doomed) }
      })
      for (const blob of blobs) await this.#store.delete(blob)
      return ids.length
    })
  }
}

const notFound = (id: string) => new AppError('file_not_found', `No file ${id}`)
