import { type Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DatabaseHandle, migrateToLatest } from '../src/db/connect'
import type { Database } from '../src/db/schema'
import { AppError } from '../src/errors'
import { type BulkWrite, type CommittedEvent, Committer, type WriteContext } from '../src/services/committer'
import { dialects, openTestDatabase } from './helpers/dialects'

describe.each(dialects)('group commit (%s)', (dialect) => {
  let handle: DatabaseHandle
  let db: Kysely<Database>
  const cleanups: (() => Promise<void> | void)[] = []
  let userIds: number[] = []

  beforeAll(async () => {
    const opened = await openTestDatabase(dialect)
    cleanups.push(opened.close)
    handle = opened.handle
    db = handle.db
    await migrateToLatest(db, handle.dialect)
    for (const name of ['one', 'two', 'three']) {
      const row = await db
        .insertInto('users')
        .values({
          username: name,
          username_key: name,
          password_hash: 'x',
          first_name: name,
          last_name: name,
          email: `${name}@example.com`,
          last_seen_at: null,
          created_at: 1,
          updated_at: 1,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      userIds.push(row.id)
    }
  })
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
    userIds = []
  })

  const nameOf = async (id: number) =>
    (await db.selectFrom('users').select('first_name').where('id', '=', id).executeTakeFirstOrThrow())
      .first_name

  it('a refused operation in a batch rolls back only its own writes', async () => {
    const published: CommittedEvent[] = []
    const committer = new Committer(db, { onCommitted: (events) => published.push(...events) })
    const [a, b] = userIds as [number, number]
    const results = await Promise.allSettled([
      committer.run(async ({ trx, append }) => {
        await trx.updateTable('users').set({ first_name: 'kept' }).where('id', '=', a).execute()
        append(a, 'contact_removed', { userId: b })
      }),
      committer.run(async ({ trx, append }) => {
        await trx.updateTable('users').set({ first_name: 'undone' }).where('id', '=', b).execute()
        append(b, 'contact_removed', { userId: a })
        throw new AppError('forbidden', 'refused after writing')
      }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected'])
    expect(committer.stats).toEqual({ transactions: 1, operations: 2 })
    expect(await nameOf(a)).toBe('kept')
    expect(await nameOf(b)).toBe('two')
    expect(published.map((e) => e.userId)).toEqual([a])
    const feedOfB = await db.selectFrom('feed_events').selectAll().where('user_id', '=', b).execute()
    expect(feedOfB).toEqual([])
    await committer.close()
  })

  it('an unexpected failure aborts the batch and the others are retried one by one', async () => {
    const committer = new Committer(db, { onCommitted: () => undefined })
    const [, , c] = userIds as [number, number, number]
    const results = await Promise.allSettled([
      committer.run(async ({ trx }) => {
        await trx.updateTable('users').set({ first_name: 'survivor' }).where('id', '=', c).execute()
      }),
      committer.run(async ({ trx }) => {
        await trx
          .insertInto('users')
          .values({ id: c } as never)
          .execute() // violates NOT NULL
      }),
      committer.run(async ({ append }) => append(c, 'contact_removed', { userId: c })),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    // One failed batch, then three single transactions, of which two committed.
    expect(committer.stats).toEqual({ transactions: 2, operations: 2 })
    const seqs = await db.selectFrom('feed_events').select('seq').where('user_id', '=', c).execute()
    expect(seqs.map((r) => r.seq)).toEqual([1])
    expect(await nameOf(c)).toBe('survivor')
    await committer.close()
  })

  it('after close, new writes are refused with shutting_down and queued ones still commit', async () => {
    const committer = new Committer(db, { onCommitted: () => undefined })
    const [a] = userIds as [number]
    const queued = committer.run(async ({ append }) => append(a, 'contact_removed', { userId: a }))
    const closing = committer.close()
    await expect(committer.run(async () => undefined)).rejects.toMatchObject({ code: 'shutting_down' })
    await expect(queued).resolves.toMatchObject({ events: [{ userId: a }] })
    await closing
  })

  it('an appended event goes live as the feed event it was committed as, its data held to its type', async () => {
    const published: CommittedEvent[] = []
    const committer = new Committer(db, { onCommitted: (events) => published.push(...events) })
    const [a, b] = userIds as [number, number]
    const { events } = await committer.run(async ({ append }) => append(a, 'contact_removed', { userId: b }))
    const stored = await db
      .selectFrom('feed_events')
      .select(['seq', 'type', 'payload'])
      .where('user_id', '=', a)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow()
    const live = { seq: Number(stored.seq), type: 'contact_removed', data: { userId: b } }
    expect(events).toEqual([{ userId: a, event: live }])
    expect(published).toEqual(events)
    expect(stored).toMatchObject({ type: 'contact_removed', payload: JSON.stringify({ userId: b }) })

    // Never run; tsc checks it: the event's name decides what its data may be.
    const misuse = ({ append }: WriteContext) => {
      // @ts-expect-error a message event carries a message, not a contact_removed payload
      append(a, 'message', { userId: b })
    }
    void misuse
  })
  it('bulk writes of one kind run together, never reordered around other writes, and hand back what they cannot do', async () => {
    const committer = new Committer(db, { onCommitted: () => undefined })
    const [a, b] = userIds as [number, number]
    const runs: string[][] = []
    // Appends to `a` for each name; refuses "no", hands "alone" back to its own operation.
    const kind: BulkWrite<string, string> = {
      async runAll(_ctx, items) {
        runs.push(items.map((i) => i.input))
        return items.map(({ input, append }) => {
          if (input === 'no') return { ok: false, error: new AppError('forbidden', 'no') }
          if (input === 'alone') return { ok: 'alone' }
          append(a, 'contact_removed', { userId: b })
          return { ok: true, value: `bulk ${input}` }
        })
      },
    }
    const ordinary =
      (name: string) =>
      async ({ append }: WriteContext) => {
        append(a, 'contact_removed', { userId: b })
        return `alone ${name}`
      }
    const bulk = (name: string) => committer.run(ordinary(name), { kind, input: name })
    const results = await Promise.allSettled([
      bulk('1'),
      bulk('alone'),
      bulk('no'),
      bulk('2'),
      committer.run(ordinary('between')),
      bulk('3'),
    ])
    expect(runs).toEqual([['1', 'alone', 'no', '2'], ['3']])
    const values = results.map((r) => (r.status === 'fulfilled' ? r.value.value : 'refused'))
    expect(values).toEqual(['bulk 1', 'alone alone', 'refused', 'bulk 2', 'alone between', 'bulk 3'])
    // One seq each, in queue order, without holes (the refused one took none).
    const seqs = results.flatMap((r) =>
      r.status === 'fulfilled' ? r.value.events.map((e) => e.event.seq) : [],
    )
    expect(seqs).toHaveLength(5)
    expect(seqs).toEqual(Array.from({ length: 5 }, (_, i) => seqs[0]! + i))
  })

  it('bulk writes of two kinds queued in turn run as one run per kind, and their events keep queue order', async () => {
    const committer = new Committer(db, { onCommitted: () => undefined })
    const [a, b] = userIds as [number, number]
    const runs: string[][] = []
    const kindOf = (label: string): BulkWrite<string, string> => ({
      async runAll(_ctx, items) {
        runs.push(items.map((i) => `${label}${i.input}`))
        return items.map(({ input, append }) => {
          append(a, 'contact_removed', { userId: b })
          return { ok: true, value: `${label}${input}` }
        })
      },
    })
    const sends = kindOf('s')
    const receipts = kindOf('r')
    const ordinary = async ({ append }: WriteContext) => {
      append(a, 'contact_removed', { userId: b })
      return 'ordinary'
    }
    const results = await Promise.all([
      committer.run(ordinary, { kind: sends, input: '1' }),
      committer.run(ordinary, { kind: receipts, input: '1' }),
      committer.run(ordinary, { kind: sends, input: '2' }),
      committer.run(ordinary, { kind: receipts, input: '2' }),
      committer.run(ordinary),
      committer.run(ordinary, { kind: receipts, input: '3' }),
      committer.run(ordinary, { kind: sends, input: '3' }),
    ])
    // Gathered past each other, never past the ordinary operation.
    expect(runs).toEqual([['s1', 's2'], ['r1', 'r2'], ['r3'], ['s3']])
    expect(results.map((r) => r.value)).toEqual(['s1', 'r1', 's2', 'r2', 'ordinary', 'r3', 's3'])
    // Each operation's event has the seq of its place in the queue.
    const seqs = results.map((r) => r.events[0]!.event.seq)
    expect(seqs).toEqual(Array.from({ length: 7 }, (_, i) => seqs[0]! + i))
  })

  it('batches that follow one another keep queue order: ids, seqs, live events and answers, a refused operation among them', async () => {
    const published: number[] = []
    const committer = new Committer(db, {
      maxBatch: 3,
      onCommitted: (events) => {
        for (const e of events) published.push(e.event.seq)
      },
    })
    const [a, b] = userIds as [number, number]
    const answered: number[] = []
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        committer
          .run(async ({ trx, append }) => {
            if (i === 17) throw new AppError('not_found', 'refused')
            // Each one writes a row (its id comes from the table's sequence) and a feed event of a.
            const row = await trx
              .insertInto('audit_log')
              .values({ at: i, actor: 'test', action: 'order', detail: String(i) })
              .returning('id')
              .executeTakeFirstOrThrow()
            append(a, 'contact_removed', { userId: b })
            return row.id
          })
          .then(
            ({ value, events }) => {
              answered.push(i)
              return { i, id: value, seq: events[0]!.event.seq }
            },
            (error: unknown) => {
              answered.push(i)
              return { i, error }
            },
          ),
      ),
    )
    expect(answered).toEqual(results.map((r) => r.i))
    const done = results.flatMap((r) => ('id' in r ? [r] : []))
    expect(done).toHaveLength(39)
    expect(results[17]).toMatchObject({ error: { code: 'not_found' } })
    const ids = done.map((r) => r.id)
    const seqs = done.map((r) => r.seq)
    expect(ids).toEqual([...ids].sort((x, y) => x - y))
    expect(seqs).toEqual(Array.from({ length: 39 }, (_, k) => seqs[0]! + k))
    expect(published).toEqual(seqs)
  })

  it.runIf(dialect === 'postgres')(
    'a batch whose commit is slow is still published before the next, which committed first',
    async () => {
      // A trigger that runs at commit and takes its time, for rows marked 'slow' only.
      await sql`create function slow_commit() returns trigger language plpgsql as $$
        begin perform pg_sleep(0.3); return null; end $$`.execute(db)
      await sql`create constraint trigger slow_commit after insert on audit_log deferrable initially deferred
        for each row when (new.detail = 'slow') execute function slow_commit()`.execute(db)
      try {
        const order: string[] = []
        const committer = new Committer(db, {
          maxBatch: 1,
          onCommitted: (events) => order.push(`live ${events.map((e) => e.userId).join()}`),
        })
        const [a, b, c] = userIds as [number, number, number]
        const write = (detail: string, userId: number) =>
          committer
            .run(async ({ trx, append }) => {
              await trx
                .insertInto('audit_log')
                .values({ at: 0, actor: 'test', action: 'slow', detail })
                .execute()
              append(userId, 'contact_removed', { userId: c })
            })
            .then(() => order.push(`answer ${userId}`))
        const started = performance.now()
        let secondCommitted = 0
        const probe = (async () => {
          // The second batch (another user, nothing in common) commits while the first still waits.
          while (performance.now() - started < 2000) {
            const rows = await db.selectFrom('audit_log').select('id').where('detail', '=', 'fast').execute()
            if (rows.length > 0) {
              secondCommitted = performance.now() - started
              return
            }
            await new Promise((resolve) => setTimeout(resolve, 5))
          }
        })()
        await Promise.all([write('slow', a), write('fast', b), probe])
        expect(secondCommitted).toBeGreaterThan(0)
        expect(secondCommitted).toBeLessThan(250)
        expect(order).toEqual([`live ${a}`, `answer ${a}`, `live ${b}`, `answer ${b}`])
      } finally {
        await sql`drop trigger slow_commit on audit_log`.execute(db)
        await sql`drop function slow_commit()`.execute(db)
      }
    },
  )

  it('an operation with a bulk request that fails with others is retried alone as its ordinary operation', async () => {
    const committer = new Committer(db, { onCommitted: () => undefined })
    const [a, b] = userIds as [number, number]
    let bulkRuns = 0
    const kind: BulkWrite<string, string> = {
      async runAll() {
        bulkRuns += 1
        throw new Error('bulk statement failed')
      },
    }
    const ordinary = async ({ append }: WriteContext) => {
      append(a, 'contact_removed', { userId: b })
      return 'ordinary'
    }
    const [bulkResult, other] = await Promise.all([
      committer.run(ordinary, { kind, input: 'x' }),
      committer.run(ordinary),
    ])
    expect(bulkResult.value).toBe('ordinary')
    expect(other.value).toBe('ordinary')
    expect(bulkRuns).toBe(1)
  })
})
