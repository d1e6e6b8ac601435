import type { FeedEvent, FeedEventOf, FeedEventType } from '@parley/shared'
import { type ControlledTransaction, type Kysely, sql, type Transaction } from 'kysely'
import { fixedQuery, isPostgres } from '../db/fixed-query'
import type { Database } from '../db/schema'
import { AppError, isAppError } from '../errors'
import { feedPayload } from '../repositories/feed'

/** A feed event without its seq, which is given at commit. */
type UnsequencedEvent = FeedEvent extends infer E ? (E extends FeedEvent ? Omit<E, 'seq'> : never) : never

/** A feed event an operation wants appended to `userId`'s feed. */
export interface FeedAppend {
  userId: number
  /** Message events are stored by reference and rebuilt from the message at read time. */
  messageId: number | null
  /** What the live event carries (and, for non-message events, what is stored). */
  event: UnsequencedEvent
}

export interface CommittedEvent {
  userId: number
  event: FeedEvent
}

export interface WriteContext {
  trx: Transaction<Database>
  /** One clock reading for the whole batch. */
  now: number
  append<T extends FeedEventType>(
    userId: number,
    type: T,
    data: FeedEventOf<T>['data'],
    messageId?: number,
  ): void
  /**
   * Runs `effect` once the batch has committed (after the feed events went out), in the order
   * registered; dropped if this operation fails. For live effects beyond the feed: group rooms.
   */
  afterCommit(effect: () => void): void
}

export type WriteOp<T> = (ctx: WriteContext) => Promise<T>

/**
 * Many operations of one kind done together in a few statements, where doing each alone would
 * cost a few statements apiece: on PostgreSQL every statement is a round trip, and a batch of
 * sends otherwise waits on five or six per send. `runAll` gets the queued operations of its kind
 * from a stretch of the queue between two ordinary operations (never moved past an ordinary one),
 * and answers each: done, refused (an AppError, decided before it wrote anything), or `alone` to
 * run the ordinary operation given with it, after the run, in the same transaction (a resend, say).
 *
 * Within such a stretch the kinds run one after another, not interleaved as queued (sends and
 * receipts from different people alternate in a busy queue, and would otherwise make runs of one).
 * So each kind's statements must commute with every other kind's: they touch different rows, and
 * none reads what another kind writes in the same batch. The feed events keep the queue's order:
 * seqs are given after every run, operation by operation as queued.
 */
export interface BulkWrite<Input, T> {
  runAll(ctx: BulkContext, items: BulkItem<Input>[]): Promise<BulkOutcome<T>[]>
}

export interface BulkContext {
  trx: Transaction<Database>
  now: number
}

export interface BulkItem<Input> {
  input: Input
  append: WriteContext['append']
  /** As WriteContext's: runs once the batch has committed, if this item was done. */
  afterCommit: WriteContext['afterCommit']
}

export type BulkOutcome<T> = { ok: true; value: T } | { ok: false; error: AppError } | { ok: 'alone' }

/**
 * The indexes of the first item of each `key`, in order: a bulk write that may touch a row once
 * takes these, and leaves the rest `alone` (their ordinary operation then runs after the run and
 * sees what the first one wrote).
 */
export function firstOfEach<Input>(
  items: readonly BulkItem<Input>[],
  key: (input: Input) => string,
): number[] {
  const seen = new Set<string>()
  const firsts: number[] = []
  for (const [k, { input }] of items.entries()) {
    const of = key(input)
    if (seen.has(of)) continue
    seen.add(of)
    firsts.push(k)
  }
  return firsts
}

/** What `run` may do instead of running its operation: join a bulk write. */
export interface BulkRequest<Input, T> {
  kind: BulkWrite<Input, T>
  input: Input
}

export interface Committed<T> {
  value: T
  events: CommittedEvent[]
}

interface Pending {
  op: WriteOp<unknown>
  bulk?: BulkRequest<unknown, unknown> | undefined
  resolve(result: Committed<unknown>): void
  reject(error: unknown): void
}

interface Result {
  item: Pending
  ok: boolean
  value?: unknown
  error?: unknown
  appends: FeedAppend[]
  effects: (() => void)[]
}

type Outcome =
  | { item: Pending; ok: true; value: unknown; events: CommittedEvent[]; effects: (() => void)[] }
  | { item: Pending; ok: false; error: unknown }

export interface CommitterOptions {
  /** Called once a batch has committed, before any of its operations resolve. */
  onCommitted: (events: CommittedEvent[]) => void
  clock?: () => number
  maxBatch?: number
  /** Writes waiting beyond which new ones are refused with rate_limited. */
  maxQueue?: number
}

const RETRYABLE_PG_CODES = new Set(['40001', '40P01'])
/**
 * SQLite refuses a transaction that read, then tries to write after another connection committed
 * (its snapshot is stale), at once and without the busy timeout. The relay has one connection and
 * never meets it; a second process on the same file (`parley-relay admin`) does, and retrying the
 * whole batch on a fresh snapshot is safe: nothing of it was committed.
 */
const RETRYABLE_SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT'])
const SQLITE_BUSY_ATTEMPTS = 20
const FEED_INSERT_CHUNK = 500
/** Batches at once: one becoming durable while the next runs its statements. */
const PIPELINE_DEPTH = 2

/**
 * Every write that produces feed events goes through here. Operations queued during one turn of
 * the event loop share one transaction (group commit): one fsync for the batch, and each
 * operation's promise settles only after that commit is durable, so an ack always means durable.
 * While one batch becomes durable, the next runs its statements (see #flush).
 * Each operation runs inside a savepoint: an expected failure (AppError) rolls back only its own
 * writes; anything unexpected aborts the batch, which is then retried one operation at a time.
 */
export class Committer {
  readonly #db: Kysely<Database>
  readonly #onCommitted: (events: CommittedEvent[]) => void
  readonly #clock: () => number
  readonly #maxBatch: number
  readonly #maxQueue: number
  #queue: Pending[] = []
  #flushing: Promise<void> | null = null
  #closed = false
  #stats = { transactions: 0, operations: 0 }
  /** PostgreSQL: statements are round trips, never run on the event loop. */
  readonly #remote: boolean

  constructor(db: Kysely<Database>, options: CommitterOptions) {
    this.#db = db
    this.#onCommitted = options.onCommitted
    this.#clock = options.clock ?? Date.now
    this.#maxBatch = options.maxBatch ?? 256
    this.#maxQueue = options.maxQueue ?? 10_000
    this.#remote = isPostgres(db)
  }

  /**
   * Queues `op` for the next batch. With `bulk`, the operation may instead be done together with
   * others of its kind; `op` must then do the same thing, as it runs when the bulk write hands it
   * back and when a failed batch is retried one operation at a time.
   */
  run<T, Input>(op: WriteOp<T>, bulk?: BulkRequest<Input, T>): Promise<Committed<T>> {
    if (this.#closed) return Promise.reject(new AppError('shutting_down', 'The relay is shutting down'))
    // Past this backlog the relay is over capacity: refusing now (the client retries with
    // backoff) beats queueing work whose acks would come too late to matter.
    if (this.#queue.length >= this.#maxQueue) {
      return Promise.reject(new AppError('rate_limited', 'The relay is busy; retry shortly'))
    }
    return new Promise<Committed<T>>((resolve, reject) => {
      this.#queue.push({
        op,
        bulk: bulk as BulkRequest<unknown, unknown> | undefined,
        resolve: resolve as Pending['resolve'],
        reject,
      })
      if (!this.#flushing)
        this.#flushing = new Promise<void>((done) => setImmediate(() => this.#flush().then(done)))
    })
  }

  /** Committed transactions and the operations they carried (their ratio is the batch size). */
  get stats(): { transactions: number; operations: number } {
    return { ...this.#stats }
  }

  /** Refuses new writes and waits for the queued ones to commit. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#flushing) await this.#flushing
  }

  /**
   * The next batch runs its statements while the one before it becomes durable: on SQLite while
   * its fsync runs on the thread pool (durable-sqlite.ts), on PostgreSQL while its commit (the
   * server's WAL flush) is under way, on another connection of the pool. The durability wait is
   * the longest part of a small batch. A batch starts only once every statement of the one
   * before has run, so ids and seqs are handed out in queue order; on PostgreSQL one that needs a
   * row the committing batch wrote or locked waits for that commit, as any transaction would.
   * Batches are published (live events, effects, answers) in queue order, each only once durable.
   */
  async #flush(): Promise<void> {
    let published: Promise<void> = Promise.resolve()
    const inFlight = new Set<Promise<void>>()
    while (this.#queue.length > 0 || inFlight.size > 0) {
      if (this.#queue.length === 0 || inFlight.size >= PIPELINE_DEPTH) {
        await Promise.race(inFlight)
        continue
      }
      const batch = this.#queue.splice(0, this.#maxBatch)
      const { settled } = await this.#start(batch, published)
      published = settled
      inFlight.add(settled)
      void settled.finally(() => inFlight.delete(settled))
      // SQLite's statements complete synchronously: without this a backlog would starve sockets,
      // timers and pings until it drained.
      if (!this.#remote) await new Promise<void>((resolve) => setImmediate(resolve))
    }
    this.#flushing = null
  }

  /**
   * Runs `batch`'s statements in a transaction of its own and sends its commit; resolves as soon as
   * the commit is on its way, with `settled`: the batch committed and published, after
   * `previous`. A batch whose statements fail is handled the ordinary way (one operation at a
   * time, or again), before any later batch starts.
   */
  async #start(batch: Pending[], previous: Promise<void>): Promise<{ settled: Promise<void> }> {
    const done = { settled: Promise.resolve() }
    let trx: ControlledTransaction<Database>
    try {
      trx = await this.#db.startTransaction().execute()
    } catch {
      await previous
      await this.#commit(batch)
      return done
    }
    let outcomes: Outcome[]
    try {
      outcomes = await this.#runBatch(trx, batch)
    } catch (error) {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined)
      await previous
      await this.#recover(batch, error, 1)
      return done
    }
    const committing = trx.commit().execute()
    // Wrapped: a promise resolved with a promise would wait for it.
    const settled = (async () => {
      const failure = await committing.then(
        () => null,
        (error: unknown) => ({ error }),
      )
      await previous
      if (!failure) {
        this.#publish(batch, outcomes)
        return
      }
      // The commit failed, or (SQLite) it was made but its fsync failed: whether any of it is on
      // disk is not known, so nothing is acknowledged and nothing runs again. Clients retry;
      // sends are idempotent by clientId.
      for (const item of batch) item.reject(failure.error)
    })()
    return { settled }
  }

  async #commit(batch: Pending[], attempt = 1): Promise<void> {
    let outcomes: Outcome[]
    try {
      outcomes = await this.#db.transaction().execute((trx) => this.#runBatch(trx, batch))
    } catch (error) {
      return this.#recover(batch, error, attempt)
    }
    this.#publish(batch, outcomes)
  }

  /** After `batch` failed (and was rolled back): find the failing operation, or try again. */
  async #recover(batch: Pending[], error: unknown, attempt: number): Promise<void> {
    if (batch.length > 1) {
      // Alone, each runs its ordinary operation: the plainest way to find the one that failed.
      for (const item of batch) await this.#commit([{ ...item, bulk: undefined }])
      return
    }
    const code = (error as { code?: unknown } | null)?.code
    if (typeof code === 'string' && RETRYABLE_PG_CODES.has(code) && attempt < 4) {
      return this.#commit(batch, attempt + 1)
    }
    if (typeof code === 'string' && RETRYABLE_SQLITE_CODES.has(code) && attempt < SQLITE_BUSY_ATTEMPTS) {
      // A timer, not a loop: the other connection's commit needs the moment to finish.
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt))
      return this.#commit(batch, attempt + 1)
    }
    batch[0]?.reject(error)
  }

  /** After a batch committed: its events go live, its effects run, its operations settle. */
  #publish(batch: Pending[], outcomes: Outcome[]): void {
    this.#stats.transactions += 1
    this.#stats.operations += batch.length
    const events = outcomes.flatMap((o) => (o.ok ? o.events : []))
    if (events.length > 0) {
      try {
        this.#onCommitted(events)
      } catch {
        // Live delivery is best effort: the events are committed and clients catch up by seq.
      }
    }
    for (const outcome of outcomes) {
      if (!outcome.ok) continue
      for (const effect of outcome.effects) {
        try {
          effect()
        } catch {
          // Best effort too, for the same reason.
        }
      }
    }
    for (const outcome of outcomes) {
      if (outcome.ok) outcome.item.resolve({ value: outcome.value, events: outcome.events })
      else outcome.item.reject(outcome.error)
    }
  }

  async #runBatch(trx: Transaction<Database>, batch: Pending[]): Promise<Outcome[]> {
    const now = this.#clock()
    const isolated = batch.length > 1
    // In queue order, whatever order the statements ran in (see BulkWrite).
    const results: Result[] = new Array(batch.length)
    for (let i = 0; i < batch.length; ) {
      if (!batch[i]!.bulk) {
        results[i] = await runOne(trx, now, batch[i]!, isolated)
        i += 1
        continue
      }
      let end = i + 1
      while (end < batch.length && batch[end]!.bulk) end += 1
      const byKind = new Map<BulkWrite<unknown, unknown>, number[]>()
      for (let j = i; j < end; j++) {
        const kind = batch[j]!.bulk!.kind
        const indexes = byKind.get(kind)
        if (indexes) indexes.push(j)
        else byKind.set(kind, [j])
      }
      for (const [kind, indexes] of byKind) {
        const got = await runBulk(
          trx,
          now,
          kind,
          indexes.map((j) => batch[j]!),
          isolated,
        )
        for (const [n, j] of indexes.entries()) results[j] = got[n]!
      }
      i = end
    }

    const seqs = await appendFeed(
      trx,
      results.flatMap((r) => r.appends),
      now,
    )

    let next = 0
    return results.map((r): Outcome => {
      if (!r.ok) return { item: r.item, ok: false, error: r.error }
      const events = r.appends.map((a) => {
        const seq = seqs[next++]!
        const event: FeedEvent = { seq, ...a.event }
        return { userId: a.userId, event }
      })
      return { item: r.item, ok: true, value: r.value, events, effects: r.effects }
    })
  }
}

function appender(appends: FeedAppend[]): WriteContext['append'] {
  return (userId, type, data, messageId) =>
    // The signature ties `data` to `type`; TypeScript cannot follow that into the union by itself.
    appends.push({ userId, event: { type, data } as UnsequencedEvent, messageId: messageId ?? null })
}

/**
 * One operation inside the batch's transaction. Each runs inside a savepoint when it shares the
 * transaction: an expected failure (AppError) rolls back only its own writes.
 */
async function runOne(
  trx: Transaction<Database>,
  now: number,
  item: Pending,
  isolated: boolean,
): Promise<Result> {
  const appends: FeedAppend[] = []
  const effects: (() => void)[] = []
  const ctx: WriteContext = {
    trx,
    now,
    append: appender(appends),
    afterCommit: (effect) => effects.push(effect),
  }
  if (!isolated) {
    // Alone in its transaction: any error rolls the whole transaction back.
    return { item, ok: true, value: await item.op(ctx), appends, effects }
  }
  await sql`savepoint write_op`.execute(trx)
  try {
    const value = await item.op(ctx)
    await sql`release savepoint write_op`.execute(trx)
    return { item, ok: true, value, appends, effects }
  } catch (error) {
    if (!isAppError(error)) throw error
    await sql`rollback to savepoint write_op`.execute(trx)
    await sql`release savepoint write_op`.execute(trx)
    return { item, ok: false, error, appends: [], effects: [] }
  }
}

/** A run of queued operations of one bulk kind; those it hands back run alone, in order, after it. */
async function runBulk(
  trx: Transaction<Database>,
  now: number,
  kind: BulkWrite<unknown, unknown>,
  run: Pending[],
  isolated: boolean,
): Promise<Result[]> {
  const appends = run.map((): FeedAppend[] => [])
  const effects = run.map((): (() => void)[] => [])
  const outcomes = await kind.runAll(
    { trx, now },
    run.map((item, k) => ({
      input: item.bulk!.input,
      append: appender(appends[k]!),
      afterCommit: (effect) => effects[k]!.push(effect),
    })),
  )
  const results: Result[] = []
  for (const [k, item] of run.entries()) {
    const outcome = outcomes[k]
    if (outcome?.ok === 'alone') results.push(await runOne(trx, now, item, isolated))
    else if (outcome?.ok === true)
      results.push({ item, ok: true, value: outcome.value, appends: appends[k]!, effects: effects[k]! })
    else if (outcome?.ok === false)
      results.push({ item, ok: false, error: outcome.error, appends: [], effects: [] })
    else throw new Error('a bulk write left an operation unanswered')
  }
  return results
}

/** One multi-row insert statement per row count, written once and reused. */
const feedInserts = new Map<number, ReturnType<typeof fixedQuery<never, unknown[]>>>()
function insertFeedRows(count: number) {
  let insert = feedInserts.get(count)
  if (!insert) {
    const values = Array.from({ length: count }, () => '(?, ?, ?, ?, ?, ?)').join(', ')
    insert = fixedQuery<never, unknown[]>(
      `insert into feed_events (user_id, seq, type, message_id, payload, created_at) values ${values}`,
    )
    feedInserts.set(count, insert)
  }
  return insert
}

/**
 * Every user's next seqs of a batch and the batch's feed rows, in one statement (one round trip).
 * The users' rows are locked first in ascending id (the `locked` scan runs before any row it
 * returns is updated), so relays sharing the database lock in one order and never deadlock each
 * other. The row locks also make concurrent batches take each user's seqs one after another,
 * without holes. Each user's rows take the seqs just handed out, in the order given (`ord`); the
 * insert runs to completion though the statement returns only the counters.
 */
const bumpAndInsertFeed = fixedQuery<
  { id: number; feed_seq: number },
  [number[], number[], number[], string[], (number | null)[], (string | null)[], number]
>(
  `with wanted as (select * from unnest(?::bigint[], ?::int[]) as w(id, n)),
   locked as materialized (select id from users where id in (select id from wanted) order by id for update),
   bumped as (
     update users u set feed_seq = u.feed_seq + w.n
     from wanted w join locked l on l.id = w.id
     where u.id = w.id
     returning u.id, u.feed_seq),
   given as (select * from unnest(?::bigint[], ?::text[], ?::bigint[], ?::text[])
     with ordinality as g(user_id, type, message_id, payload, ord)),
   written as (
     insert into feed_events (user_id, seq, type, message_id, payload, created_at)
     select g.user_id, b.feed_seq - w.n + row_number() over (partition by g.user_id order by g.ord),
       g.type, g.message_id, g.payload, ?
     from given g join bumped b on b.id = g.user_id join wanted w on w.id = g.user_id)
   select id, feed_seq from bumped`,
)

/**
 * SQLite: every user's next seqs, the counts given as one JSON array of [user id, count] (one
 * writer, no locks); the rows follow in their own statements.
 */
const bumpFeedSeqsSqlite = fixedQuery<{ id: number; feed_seq: number }, [string]>(
  `update users set feed_seq = feed_seq + (w.value ->> 1)
   from json_each(?) w
   where users.id = (w.value ->> 0)
   returning users.id, users.feed_seq`,
)

/**
 * Appends a batch's feed events, in order: each user's next seqs, and the rows. Returns each
 * append's seq. PostgreSQL: one statement; SQLite: the seqs, then the rows in chunks.
 */
async function appendFeed(trx: Transaction<Database>, appends: FeedAppend[], now: number): Promise<number[]> {
  if (appends.length === 0) return []
  const counts = new Map<number, number>()
  for (const a of appends) counts.set(a.userId, (counts.get(a.userId) ?? 0) + 1)
  const ids = [...counts.keys()].sort((a, b) => a - b)
  const payloadOf = (a: FeedAppend) => (a.messageId === null ? feedPayload(a.event) : null)
  if (isPostgres(trx)) {
    const rows = await bumpAndInsertFeed(
      trx,
      ids,
      ids.map((id) => counts.get(id)!),
      appends.map((a) => a.userId),
      appends.map((a) => a.event.type),
      appends.map((a) => a.messageId),
      appends.map(payloadOf),
      now,
    )
    return seqsFrom(appends, counts, rows)
  }
  const rows = await bumpFeedSeqsSqlite(trx, JSON.stringify(ids.map((id) => [id, counts.get(id)!])))
  const seqs = seqsFrom(appends, counts, rows)
  for (let i = 0; i < appends.length; i += FEED_INSERT_CHUNK) {
    const chunk = appends.slice(i, i + FEED_INSERT_CHUNK)
    await insertFeedRows(chunk.length)(
      trx,
      ...chunk.flatMap((a, k) => [a.userId, seqs[i + k]!, a.event.type, a.messageId, payloadOf(a), now]),
    )
  }
  return seqs
}

/** Each append's seq, from every user's counter after the batch's `counts` were added to it. */
function seqsFrom(
  appends: FeedAppend[],
  counts: Map<number, number>,
  rows: { id: number; feed_seq: number }[],
): number[] {
  const nextSeq = new Map<number, number>()
  for (const row of rows) nextSeq.set(Number(row.id), Number(row.feed_seq) - counts.get(Number(row.id))! + 1)
  return appends.map((a) => {
    const seq = nextSeq.get(a.userId)
    if (seq === undefined) throw new Error(`no user ${a.userId} for a feed event`)
    nextSeq.set(a.userId, seq + 1)
    return seq
  })
}
