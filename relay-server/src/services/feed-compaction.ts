import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { compactFeedOf } from '../repositories/feed'

/** Users read per statement while walking them. */
const USERS_PER_PAGE = 200
/** Feed rows deleted per transaction: short, so sends never wait long behind one. */
const ROWS_PER_BATCH = 1000

export interface FeedCompactionOptions {
  db: Kysely<Database>
  clock: () => number
  /** Feed events older than this are deleted; 0 keeps them forever. */
  retentionMs: number
}

/**
 * Deletes feed events older than the retention, user by user, in small transactions with a turn
 * of the event loop between them (the hourly upkeep runs it, off the request path). Each user's
 * `feed_floor` rises with the deletes: a device whose cursor is below it gets `cursor_expired` and
 * reads a snapshot instead. Messages, contacts, groups and markers are not touched: the snapshot
 * reads them from their own tables, so nothing a feed event said is lost with it.
 */
export class FeedCompaction {
  readonly #options: FeedCompactionOptions
  #running: Promise<number> | undefined
  #stopped = false

  constructor(options: FeedCompactionOptions) {
    this.#options = options
  }

  get enabled(): boolean {
    return this.#options.retentionMs > 0
  }

  /** One pass over every user; returns how many feed events it deleted. One pass at a time. */
  run(): Promise<number> {
    if (!this.enabled || this.#stopped) return Promise.resolve(0)
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  /** Stops a pass under way after its current batch (the relay is closing). */
  async stop(): Promise<void> {
    this.#stopped = true
    await this.#running?.catch(() => 0)
  }

  async #pass(): Promise<number> {
    const { db, clock, retentionMs } = this.#options
    const before = clock() - retentionMs
    let deleted = 0
    let afterUser = 0
    for (;;) {
      const users = await db
        .selectFrom('users')
        .select('id')
        .where('id', '>', afterUser)
        .orderBy('id')
        .limit(USERS_PER_PAGE)
        .execute()
      if (users.length === 0) return deleted
      for (const { id } of users) {
        for (;;) {
          if (this.#stopped) return deleted
          const n = await compactFeedOf(db, id, before, ROWS_PER_BATCH)
          deleted += n
          await new Promise((resolve) => setImmediate(resolve))
          if (n < ROWS_PER_BATCH) break
        }
      }
      afterUser = Number(users.at(-1)!.id)
    }
  }
}
