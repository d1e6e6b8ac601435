import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../data-dir'

/**
 * Where image bytes live. The filesystem is the default; an S3-compatible store implements the
 * same four calls, and nothing above this interface changes.
 */
export interface BlobStore {
  /** Stores `data` under `key` atomically: readers see all of it or nothing. */
  put(key: string, data: Buffer): Promise<void>
  get(key: string): Promise<{ stream: Readable; size: number } | null>
  has(key: string): Promise<boolean>
  delete(key: string): Promise<void>
}

const KEY = /^[0-9a-f]{64}(\.[a-z]+)?$/

/** Files under `root/ab/abcdef…`, written to a temporary name, fsynced, then renamed into place. */
export class FileBlobStore implements BlobStore {
  readonly #root: string

  constructor(root: string) {
    this.#root = root
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

  async get(key: string): Promise<{ stream: Readable; size: number } | null> {
    const file = this.#path(key)
    try {
      const { size } = await stat(file)
      return { stream: createReadStream(file), size }
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
