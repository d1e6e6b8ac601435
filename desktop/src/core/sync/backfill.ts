import { EventEmitter } from 'node:events'
import {
  type BackfillProgress,
  type ConversationKey,
  type MessagePageQuery,
  parseConversationKey,
} from '@parley/shared'
import type { LocalDb } from '../db/local-db'
import { upsertPage } from '../db/snapshot'
import { indexText, textBacklog } from '../db/text-index'
import { backoff, type Logger, type Timing } from '../logger'
import type { RelayClient } from '../net/relay-client'

/** The most GET /messages gives at once. */
const PAGE = 200

export interface BackfillEvents {
  /** How far it is (null: nothing left to fill). */
  progress: [progress: BackfillProgress | null]
  /** A conversation's older history grew (its first page landed, or it is complete): reread it. */
  filled: [conversation: ConversationKey]
}

export interface BackfillDeps {
  db: LocalDb
  me: number
  relay: Pick<RelayClient, 'call'>
  timing: Timing
  logger: Logger
  /** Messages per page (default: the most GET /messages gives). */
  pageSize?: number
}

interface Row {
  conversation: ConversationKey
  before_id: number
}

/**
 * Reads the older history of the conversations a snapshot left with more behind their newest page
 * (the `backfill` table), in the background: the most recently active conversation first, a page
 * of 200 at a time, newest first, each page written and indexed for search in one transaction. Its
 * state lives in the store, so a restart resumes where it stopped.
 */
export class Backfill extends EventEmitter<BackfillEvents> {
  readonly #deps: BackfillDeps
  #running: Promise<void> | undefined
  #stopped = true
  #failures = 0

  constructor(deps: BackfillDeps) {
    super()
    this.#deps = deps
  }

  /** How far it is: conversations complete of those to fill; null when none is left. */
  get progress(): BackfillProgress | null {
    const row = this.#deps.db
      .prepare('select count(*) as total, coalesce(sum(done), 0) as done from backfill')
      .get() as { total: number; done: number }
    if (row.total === 0 || row.done === row.total) return null
    return { done: row.done, total: row.total }
  }

  /** Starts (or keeps) filling; resolves when done or stopped. */
  start(): Promise<void> {
    this.#stopped = false
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#running
  }

  #next(): Row | undefined {
    return this.#deps.db
      .prepare(
        `select b.conversation, b.before_id from backfill b
         left join conversations c on c.key = b.conversation
         where b.done = 0 order by c.last_activity_at desc, b.conversation limit 1`,
      )
      .get() as Row | undefined
  }

  async #run(): Promise<void> {
    const { db, me, relay, timing, logger } = this.#deps
    let last: ConversationKey | undefined
    this.emit('progress', this.progress)
    for (;;) {
      if (this.#stopped) return
      const row = this.#next()
      if (!row) break
      const ref = parseConversationKey(row.conversation)
      if (!ref) {
        db.prepare('update backfill set done = 1 where conversation = ?').run(row.conversation)
        continue
      }
      const query: MessagePageQuery =
        ref.kind === 'dm'
          ? { with: ref.id, before: row.before_id, limit: this.#deps.pageSize ?? PAGE }
          : { group: ref.id, before: row.before_id, limit: this.#deps.pageSize ?? PAGE }
      const page = await relay.call('messagePage', { query })
      if (this.#stopped) return
      if (!page.ok) {
        // A group left since (or a former contact erased): nothing more to read there.
        if (page.error.code === 'group_not_found' || page.error.code === 'user_not_found') {
          db.prepare('update backfill set done = 1 where conversation = ?').run(row.conversation)
          continue
        }
        this.#failures += 1
        logger.warn('backfill page failed', { code: page.error.code })
        await new Promise((resolve) =>
          setTimeout(resolve, backoff(this.#failures, timing.retryBaseMs, timing.retryMaxMs)),
        )
        continue
      }
      this.#failures = 0
      const { messages, hasMore } = page.value
      const oldest = messages.at(-1)?.id ?? row.before_id
      const done = !hasMore || messages.length === 0
      db.transaction(() => {
        upsertPage(db, me, ref.kind === 'dm' ? ref.id : -ref.id, messages)
        db.prepare('update backfill set before_id = ?, done = ? where conversation = ?').run(
          oldest,
          done ? 1 : 0,
          row.conversation,
        )
        // Searchable as it lands: a page is small enough to index in the same transaction.
        indexText(db, textBacklog(db))
      })
      if (done || row.conversation !== last) this.emit('filled', row.conversation)
      if (done) this.emit('progress', this.progress)
      last = row.conversation
      // A turn of the event loop between pages: the app stays responsive.
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.emit('progress', null)
  }
}
