import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { AppError } from '../errors'
import { storedFileBytes } from '../repositories/files'
import { uploadedBytes } from '../repositories/images'

/**
 * What pictures and files share: how many uploads one user may have in progress at once, the
 * per-user storage quota (pictures and files together), and the turn that storing an upload and
 * collecting unused ones take, so a collection never removes bytes an upload just put in place and
 * two uploads at once cannot both slip under the quota.
 */
export class UploadGate {
  readonly #db: Kysely<Database>
  readonly #quotaBytes: number | null
  readonly #maxUploadsPerUser: number
  /** Uploads in progress per user on this relay, from the first byte of the request to the reply. */
  readonly #uploading = new Map<number, number>()
  #turn: Promise<unknown> = Promise.resolve()

  constructor(deps: {
    db: Kysely<Database>
    /** Stored bytes one user's uploads may take; null for no limit. */
    quotaBytes?: number | null
    maxUploadsPerUser?: number
  }) {
    this.#db = deps.db
    this.#quotaBytes = deps.quotaBytes ?? null
    this.#maxUploadsPerUser = deps.maxUploadsPerUser ?? 2
  }

  /** Uploads of `userId` in progress on this relay. */
  inProgress(userId: number): number {
    return this.#uploading.get(userId) ?? 0
  }

  /**
   * Counts an upload of `userId` as in progress until the returned function is called; beyond
   * `maxUploadsPerUser` at once, refuses with too_many_uploads (before the body is read).
   */
  begin(userId: number): () => void {
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

  /** Refuses with quota_exceeded when `adding` more bytes would take the user past the quota. */
  async requireRoom(userId: number, adding: number): Promise<void> {
    if (this.#quotaBytes === null) return
    const used = (await uploadedBytes(this.#db, userId)) + (await storedFileBytes(this.#db, userId))
    if (used + adding > this.#quotaBytes) {
      const mb = (n: number) => `${Math.ceil(n / 1024 / 1024)} MB`
      throw new AppError(
        'quota_exceeded',
        `Your pictures and files take ${mb(used)} of the ${mb(this.#quotaBytes)} this relay keeps per user${adding > 0 ? `, and this upload needs ${mb(adding)}` : ''}; delete some messages with pictures or files first`,
      )
    }
  }

  /** Runs `task` when no other upload is being stored and no collection runs. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(task, task)
    this.#turn = run.catch(() => undefined)
    return run
  }
}
