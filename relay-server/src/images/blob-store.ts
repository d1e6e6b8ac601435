import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { type Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../data-dir'

/** The bytes a staged blob keeps from its start, for telling its type (file-type reads as many). */
export const HEAD_BYTES = 4100

/** Bytes streamed to a temporary place and hashed on the way; nothing is visible under a key yet. */
export interface StagedBlob {
  /** SHA-256 of the bytes (hex): the key `commit` stores them under. */
  hash: string
  size: number
  /** The first HEAD_BYTES bytes (fewer for a smaller blob). */
  head: Buffer
  /** Puts the bytes in place under `hash`, atomically (bytes already there are the same bytes). */
  commit(): Promise<void>
  /** Drops the temporary bytes (after a commit, nothing is left to drop). */
  discard(): Promise<void>
}

/** An inclusive byte range. */
export interface ByteRange {
  start: number
  end: number
}

/**
 * Where image and file bytes live, each kind under its own root. The filesystem is the default; an
 * S3-compatible store implements the same calls (`stage` as a multipart upload), and nothing above
 * this interface changes.
 */
export interface BlobStore {
  /** Stores `data` under `key` atomically: readers see all of it or nothing. */
  put(key: string, data: Buffer): Promise<void>
  /** Streams `source` aside while hashing it, never holding it whole in memory; see StagedBlob. */
  stage(source: Readable): Promise<StagedBlob>
  /** The bytes under `key`, or those of `range`; `size` is the whole blob's. */
  get(key: string, range?: ByteRange): Promise<{ stream: Readable; size: number } | null>
  has(key: string): Promise<boolean>
  delete(key: string): Promise<void>
  /** Removes staged bytes left behind (by a crash) that were last written before `before`; how many. */
  sweepStaging(before: number): Promise<number>
}

const KEY = /^[0-9a-f]{64}(\.[a-z]+)?$/
const STAGING = '.staging'

/** Files under `root/ab/abcdef…`, written to a temporary name, fsynced, then renamed into place. */
export class FileBlobStore implements BlobStore {
  readonly #root: string

  constructor(root: string) {
    this.#root = root
  }

  async stage(source: Readable): Promise<StagedBlob> {
    const folder = path.join(this.#root, STAGING)
    await mkdir(folder, { recursive: true, mode: PRIVATE_DIR_MODE })
    const temporary = path.join(folder, `${randomBytes(12).toString('hex')}.partial`)
    const hash = createHash('sha256')
    const head: Buffer[] = []
    let size = 0
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk)
        if (size < HEAD_BYTES) head.push(chunk.subarray(0, HEAD_BYTES - size))
        size += chunk.length
        done(null, chunk)
      },
    })
    const discard = () => rm(temporary, { force: true })
    try {
      await pipeline(source, measure, createWriteStream(temporary, { flags: 'wx', mode: PRIVATE_FILE_MODE }))
      const written = await open(temporary, 'r+')
      try {
        await written.sync()
      } finally {
        await written.close()
      }
    } catch (error) {
      await discard()
      throw error
    }
    const key = hash.digest('hex')
    return {
      hash: key,
      size,
      head: Buffer.concat(head),
      discard,
      commit: async () => {
        const target = this.#path(key)
        await mkdir(path.dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE })
        await rename(temporary, target)
      },
    }
  }

  async sweepStaging(before: number): Promise<number> {
    const folder = path.join(this.#root, STAGING)
    let names: string[]
    try {
      names = await readdir(folder)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw error
    }
    let removed = 0
    for (const name of names) {
      const file = path.join(folder, name)
      const facts = await stat(file).catch(() => null)
      if (facts && facts.mtimeMs < before) {
        await rm(file, { force: true })
        removed += 1
      }
    }
    return removed
  }

  #path(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid blob key '${key}'`)
    return path.join(this.#root, key.slice(0, 2), key)
  }

  async put(key: string, data: Buffer): Promise<void> {
    const target = this.#path(key)
    await mkdir(path.dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE })
    const temporary = `${target}.${randomBytes(6).toString('hex')}.partial`
    const file = await open(temporary, 'wx', PRIVATE_FILE_MODE)
    try {
      await file.writeFile(data)
      await file.sync()
    } catch (error) {
      await file.close()
      await rm(temporary, { force: true })
      throw error
    }
    await file.close()
    await rename(temporary, target)
  }

  async get(key: string, range?: ByteRange): Promise<{ stream: Readable; size: number } | null> {
    const file = this.#path(key)
    try {
      const { size } = await stat(file)
      return { stream: createReadStream(file, range && { start: range.start, end: range.end }), size }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw error
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      await stat(this.#path(key))
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw error
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true })
  }
}
