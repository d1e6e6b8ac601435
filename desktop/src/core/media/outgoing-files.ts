import { createReadStream } from 'node:fs'
import { mkdir, open, rm } from 'node:fs/promises'
import path from 'node:path'
import type { FileInfo, Result } from '@parley/shared'
import type { LocalDb } from '../db/local-db'
import type { MessageRow } from '../db/schema'
import { messageRow, setUploadedFile } from '../db/tables/messages'
import type { RelayClient } from '../net/relay-client'
import type { UploadProgress } from './upload'

/** How long the relay's stated file size limit is trusted before asking again. */
const LIMIT_TTL_MS = 10 * 60_000

/**
 * Files of any type written here: their bytes are copied at once into the account's folder
 * (`<account>-outgoing/`, fsynced), so a message with a file survives the app quitting; the outbox
 * uploads them (from the start again after a broken connection) and the copy goes once the relay
 * has it. Also: the relay's limit (`GET /health` maxFileBytes, not guessed).
 */
export class OutgoingFiles {
  readonly #dir: string
  readonly #db: LocalDb
  readonly #relay: RelayClient
  readonly #progress: UploadProgress
  readonly #clock: () => number
  #limit: { bytes: number; at: number } | null = null
  /** Uploads in flight by message local id, to cancel. */
  readonly #running = new Map<number, AbortController>()

  constructor(deps: {
    dir: string
    db: LocalDb
    relay: RelayClient
    progress: UploadProgress
    clock: () => number
  }) {
    this.#dir = deps.dir
    this.#db = deps.db
    this.#relay = deps.relay
    this.#progress = deps.progress
    this.#clock = deps.clock
  }

  /** The largest file the relay takes, as it states it; null while it cannot be asked (offline). */
  async maxFileBytes(): Promise<number | null> {
    if (this.#limit && this.#clock() - this.#limit.at < LIMIT_TTL_MS) return this.#limit.bytes
    const health = await this.#relay.call('health')
    if (!health.ok) return this.#limit?.bytes ?? null
    this.#limit = { bytes: health.value.maxFileBytes, at: this.#clock() }
    return this.#limit.bytes
  }

  /**
   * Appends a piece of a file the window is handing over (the bridge carries a few MB per call) at
   * `offset`, which must be what it holds so far; returns its size now.
   */
  async stage(stageId: string, offset: number, bytes: Uint8Array): Promise<number> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    const handle = await open(this.#path(stageId), offset === 0 ? 'w' : 'r+', 0o600)
    try {
      const { size } = await handle.stat()
      if (size !== offset) throw new RangeError(`The file so far has ${size} bytes, not ${offset}`)
      await handle.write(bytes, 0, bytes.length, offset)
      return offset + bytes.length
    } finally {
      await handle.close()
    }
  }

  /** A staged file, made durable before its message is written; its size, or null when there is none. */
  async seal(stageId: string): Promise<number | null> {
    try {
      const handle = await open(this.#path(stageId), 'r+')
      try {
        await handle.sync()
        return (await handle.stat()).size
      } finally {
        await handle.close()
      }
    } catch {
      return null
    }
  }

  /** The local copy is no longer needed (uploaded, or its message went). */
  async drop(localFileId: string): Promise<void> {
    await rm(this.#path(localFileId), { force: true })
  }

  /** Stops a message's upload in progress (its message was deleted before it went). */
  cancel(localId: number): void {
    this.#running.get(localId)?.abort()
  }

  /** The outbox's step before sending a message with a file written here. */
  async upload(row: MessageRow): Promise<Result<null>> {
    const local = row.file === null ? null : (JSON.parse(row.file) as FileInfo)
    if (!local) return { ok: false, error: { code: 'not_found', message: 'The message has no file' } }
    const abort = new AbortController()
    this.#running.set(row.local_id, abort)
    this.#progress(row.local_id, 0, local.size)
    let reported = 0
    try {
      const source = createReadStream(this.#path(local.id), { highWaterMark: 256 * 1024 })
      const result = await this.#relay.uploadFile(
        source,
        local,
        (sent) => {
          if (sent < local.size && sent - reported < local.size / 50) return
          reported = sent
          this.#progress(row.local_id, Math.min(sent, local.size), local.size)
        },
        abort.signal,
      )
      if (!result.ok) return result
      if (messageRow(this.#db, row.local_id)) setUploadedFile(this.#db, row.local_id, result.value.file)
      await this.drop(local.id)
      return { ok: true, value: null }
    } catch (error) {
      // The copy is gone (removed by hand): this message cannot go.
      return {
        ok: false,
        error: { code: 'not_found', message: `The file to send is missing: ${String(error)}` },
      }
    } finally {
      this.#running.delete(row.local_id)
    }
  }

  #path(localFileId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(localFileId)) throw new Error('not a local file id')
    return path.join(this.#dir, localFileId)
  }
}
