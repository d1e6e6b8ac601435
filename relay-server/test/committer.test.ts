import type { Kysely } from 'kysely'
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
