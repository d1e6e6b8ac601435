import { createWriteStream } from 'node:fs'
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { Result } from '@parley/shared'
import { FILE_PIECE_BYTES } from '@parley/shared/limits'
import { failure, type RelayClient } from '../net/relay-client'

/** Told as a download goes: bytes on disk so far of the file's size. */
export type DownloadProgress = (fileId: string, receivedBytes: number, totalBytes: number) => void

/** A download that receives nothing for this long is given up (it goes on from there next time). */
const STALL_MS = 60_000
/** Downloaded copies are kept a while (saving again costs nothing), then go; so does a part left behind. */
const KEEP_MS = 24 * 60 * 60_000
/** And never more than this on disk together (the oldest go first). */
const KEEP_BYTES = 1024 * 1024 * 1024

const FILE_ID = /^[A-Za-z0-9]{22}$/

/**
 * Files of messages brought onto this device to be saved (`<account>-downloads/`): streamed from
 * the relay to disk, never held whole in memory, and read back in pieces (browser mode hands them
 * to the page over its bridge) or copied where the person chose (Electron). A broken download
 * leaves `<id>.part` and goes on from its end (a Range request; a file's bytes never change under
 * its id). Copies go after a day, or sooner when they pass 1 GiB together.
 */
export class DownloadedFiles {
  readonly #dir: string
  readonly #relay: RelayClient
  readonly #progress: DownloadProgress
  /** Downloads in flight by file id: a second ask waits for the first. */
  readonly #running = new Map<string, Promise<Result<{ size: number }>>>()

  constructor(deps: { dir: string; relay: RelayClient; progress: DownloadProgress }) {
    this.#dir = deps.dir
    this.#relay = deps.relay
    this.#progress = deps.progress
  }

  get dir(): string {
    return this.#dir
  }

  /** The file on this device (downloaded now, or before); its size. */
  fetch(fileId: string): Promise<Result<{ size: number }>> {
    const running = this.#running.get(fileId)
    if (running) return running
    const started = this.#fetch(fileId).finally(() => this.#running.delete(fileId))
    this.#running.set(fileId, started)
    return started
  }

  /** Where a downloaded file is, or null when it is not (yet) on this device. */
  async local(fileId: string): Promise<{ path: string; size: number } | null> {
    const file = this.#path(fileId)
    try {
      const { size } = await stat(file)
      return { path: file, size }
    } catch {
      return null
    }
  }

  /** Up to FILE_PIECE_BYTES of a downloaded file from `offset` (empty at its end); null when it is not here. */
  async read(fileId: string, offset: number): Promise<Buffer | null> {
    let handle: Awaited<ReturnType<typeof open>>
    try {
      handle = await open(this.#path(fileId), 'r')
    } catch {
      return null
    }
    try {
      const { size } = await handle.stat()
      if (offset > size) throw new RangeError(`The file has ${size} bytes; offset ${offset} is past its end`)
      const piece = Buffer.allocUnsafe(Math.min(FILE_PIECE_BYTES, size - offset))
      let filled = 0
      while (filled < piece.length) {
        const { bytesRead } = await handle.read(piece, filled, piece.length - filled, offset + filled)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      return piece.subarray(0, filled)
    } finally {
      await handle.close()
    }
  }

  async #fetch(fileId: string): Promise<Result<{ size: number }>> {
    const done = await this.local(fileId)
    if (done) {
      // Used again: kept as long as one just downloaded.
      const now = new Date()
      await utimes(done.path, now, now).catch(() => undefined)
      return { ok: true, value: { size: done.size } }
    }
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    await this.#prune()
    const part = `${this.#path(fileId)}.part`
    const had = await stat(part).then(
      (s) => s.size,
      () => 0,
    )
    const abort = new AbortController()
    let stall = setTimeout(() => abort.abort(new Error('the download stalled')), STALL_MS)
    try {
      const answer = await this.#relay.stream(
        `/files/${encodeURIComponent(fileId)}`,
        had > 0 ? { range: `bytes=${had}-` } : {},
        abort.signal,
      )
      if (!answer.ok) {
        // The part is not a beginning of this file (it is as long or longer): start again.
        if (answer.error.code === 'range_not_satisfiable' && had > 0) {
          await rm(part, { force: true })
          return await this.#fetch(fileId)
        }
        return answer
      }
      const { status, headers, body } = answer.value
      const resumed = status === 206
      const from = resumed ? had : 0
      const total = resumed
        ? Number(/\/(\d+)$/.exec(headers.get('content-range') ?? '')?.[1])
        : Number(headers.get('content-length'))
      if (!Number.isSafeInteger(total) || total < from)
        return failure('invalid_response', 'The relay did not say how large the file is')
      let received = from
      let told = from
      this.#progress(fileId, received, total)
      const count = new Transform({
        transform: (chunk: Buffer, _encoding, next) => {
          received += chunk.length
          clearTimeout(stall)
          stall = setTimeout(() => abort.abort(new Error('the download stalled')), STALL_MS)
          if (received - told >= total / 50 || received === total) {
            told = received
            this.#progress(fileId, received, total)
          }
          next(null, chunk)
        },
      })
      await pipeline(
        Readable.fromWeb(body as WebReadableStream<Uint8Array>),
        count,
        // A 200 (the relay ignored the range, or nothing was here) starts the part again.
        createWriteStream(part, { flags: resumed ? 'a' : 'w', mode: 0o600 }),
      )
      if (received !== total)
        return failure('network', `The download was cut after ${received} of ${total} bytes`)
      await rename(part, this.#path(fileId))
      return { ok: true, value: { size: total } }
    } catch (error) {
      return failure('network', `The download was cut: ${describeCut(error)}`)
    } finally {
      clearTimeout(stall)
    }
  }

  /** Copies (and parts) unused for a day go, then the oldest while they pass KEEP_BYTES together. */
  async #prune(): Promise<void> {
    const entries: { file: string; size: number; used: number }[] = []
    for (const name of await readdir(this.#dir).catch(() => [] as string[])) {
      const file = path.join(this.#dir, name)
      const info = await stat(file).catch(() => null)
      if (info?.isFile()) entries.push({ file, size: info.size, used: info.mtimeMs })
    }
    entries.sort((a, b) => b.used - a.used)
    let kept = 0
    for (const entry of entries) {
      const inFlight = [...this.#running.keys()].some((id) => entry.file.startsWith(this.#path(id)))
      if (!inFlight && (Date.now() - entry.used > KEEP_MS || kept + entry.size > KEEP_BYTES)) {
        await rm(entry.file, { force: true })
      } else kept += entry.size
    }
  }

  #path(fileId: string): string {
    if (!FILE_ID.test(fileId)) throw new Error('not a file id')
    return path.join(this.#dir, fileId)
  }
}

function describeCut(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? error.cause.message : error.message
  return String(error)
}
