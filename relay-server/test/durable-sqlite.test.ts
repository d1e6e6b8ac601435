import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DatabaseHandle, openDatabase } from '../src/db/connect'
import { CHECKPOINT_INTERVAL_MS, WalSync } from '../src/db/durable-sqlite'
import { Committer } from '../src/services/committer'

describe('SQLite commits made durable off the event loop', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-durable-'))
  let handle: DatabaseHandle
  let wal: WalSync
  const syncs = () => wal.syncs

  beforeAll(async () => {
    handle = openDatabase({ dataDir })
    if (!handle.wal) throw new Error('no WalSync on a SQLite handle')
    wal = handle.wal
    await sql`create table t (id integer primary key, body text not null)`.execute(handle.db)
  })
  afterAll(async () => {
    await handle.db.destroy()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('runs SQLite without fsync inside COMMIT and without automatic checkpoints', async () => {
    const pragma = async (name: string) =>
      Object.values((await sql.raw(`pragma ${name}`).execute(handle.db)).rows[0] as object)[0]
    expect(await pragma('journal_mode')).toBe('wal')
    expect(await pragma('synchronous')).toBe(1) // NORMAL: the relay fsyncs the log itself
    expect(await pragma('wal_autocheckpoint')).toBe(0)
  })

  it('a write outside a transaction, and a transaction, resolve after an fsync of the log; a read does not wait for one', async () => {
    const before = syncs()
    await handle.db
      .insertInto('t' as never)
      .values({ body: 'alone' } as never)
      .execute()
    expect(syncs()).toBe(before + 1)
    await handle.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('t' as never)
        .values({ body: 'one' } as never)
        .execute()
      await trx
        .insertInto('t' as never)
        .values({ body: 'two' } as never)
        .execute()
    })
    expect(syncs()).toBe(before + 2) // one for the whole transaction, at its commit
    await handle.db
      .selectFrom('t' as never)
      .selectAll()
      .execute()
    expect(syncs()).toBe(before + 2)
  })

  it('writes that come while an fsync runs share the next one, and each resolves after it', async () => {
    const before = syncs()
    const writes = Array.from({ length: 50 }, (_, i) =>
      handle.db
        .insertInto('t' as never)
        .values({ body: `burst ${i}` } as never)
        .execute()
        .then(() => syncs()),
    )
    const seenAt = await Promise.all(writes)
    // Each write saw at least one fsync complete after it was made.
    for (const seen of seenAt) expect(seen).toBeGreaterThan(before)
    // The first write starts an fsync; the 49 made while it runs share one more (SQLite's one
    // connection serializes the writes, but none of them waits for a disk of its own).
    expect(syncs() - before).toBeLessThan(50)
  })

  it('the committer answers a batch only after an fsync that began after its commit, in queue order', async () => {
    const committer = new Committer(handle.db, { maxBatch: 2, onCommitted: () => undefined })
    const answered: number[] = []
    const transactionsBefore = committer.stats.transactions
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        committer
          .run(async ({ trx }) => {
            await trx
              .insertInto('t' as never)
              .values({ body: `batch ${i}` } as never)
              .execute()
            // SQLite answers at once: nothing else runs between here and this batch's commit,
            // so the fsyncs begun by now all began before the commit.
            return wal.started
          })
          .then(({ value: begunBeforeCommit }) => {
            answered.push(i)
            // They run one at a time: more done than had begun means one begun after is done.
            expect(wal.syncs).toBeGreaterThan(begunBeforeCommit)
          }),
      ),
    )
    expect(answered).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(committer.stats.transactions - transactionsBefore).toBe(10)
  })

  it('uses waiting behind a transaction get the connection one after another, in arrival order', async () => {
    const trx = await handle.db.startTransaction().execute()
    await trx
      .insertInto('t' as never)
      .values({ body: 'held' } as never)
      .execute()
    // Every third use writes (and is answered after its fsync); the others read how many rows the
    // writes before them made, which shows the order the connection was used in.
    const counted: { i: number; rows: number }[] = []
    const uses = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0
        ? handle.db
            .insertInto('t' as never)
            .values({ body: `queued ${i}` } as never)
            .execute()
        : sql<{ n: number }>`select count(*) as n from t where body like 'queued %'`
            .execute(handle.db)
            .then((r) => counted.push({ i, rows: Number(r.rows[0]!.n) })),
    )
    await sleep(20)
    expect(counted).toEqual([]) // all wait for the transaction
    await trx.commit().execute()
    await Promise.all(uses)
    expect(counted.map((c) => c.i)).toEqual(
      Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 3 !== 0),
    )
    expect(counted.every((c) => c.rows === Math.floor(c.i / 3) + 1)).toBe(true)
    const written = await sql<{
      body: string
    }>`select body from t where body like 'queued %' order by id`.execute(handle.db)
    expect(written.rows.map((r) => r.body)).toEqual(Array.from({ length: 100 }, (_, k) => `queued ${k * 3}`))
  })

  it('WalSync: a call made while an fsync runs is covered by a later one, shared by all such calls', async () => {
    const sync = new WalSync(path.join(dataDir, 'relay.sqlite-wal'))
    const first = sync.sync()
    const second = sync.sync()
    const third = sync.sync()
    expect(second).toBe(third)
    await first
    expect(sync.syncs).toBe(1)
    await Promise.all([second, third])
    expect(sync.syncs).toBe(2)
    await sync.close()
  })

  it.runIf(process.platform === 'linux')(
    'WalSync: a log deleted and made again is followed, so the new file is the one fsynced',
    async () => {
      const log = path.join(dataDir, 'other.sqlite-wal')
      writeFileSync(log, 'first')
      const sync = new WalSync(log)
      // The files this process holds open, by where they point (Linux names a deleted one so).
      const held = () =>
        readdirSync('/proc/self/fd').flatMap((fd) => {
          try {
            return [readlinkSync(`/proc/self/fd/${fd}`)]
          } catch {
            return []
          }
        })
      try {
        await sync.sync()
        expect(held()).toContain(log)
        unlinkSync(log)
        writeFileSync(log, 'second')
        await sync.sync()
        expect(held()).toContain(log)
        expect(held()).not.toContain(`${log} (deleted)`)
      } finally {
        await sync.close()
      }
      expect(held().filter((target) => target.startsWith(log))).toEqual([])
    },
  )

  it('a worker thread checkpoints the log into the database file', async () => {
    const file = path.join(dataDir, 'relay.sqlite')
    const sizeBefore = statSync(file).size
    await handle.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 500; i++)
        await trx
          .insertInto('t' as never)
          .values({ body: 'x'.repeat(500) } as never)
          .execute()
    })
    expect(statSync(file).size).toBe(sizeBefore) // only the log holds the new pages yet
    const deadline = Date.now() + CHECKPOINT_INTERVAL_MS * 5
    while (statSync(file).size === sizeBefore && Date.now() < deadline) await sleep(50)
    expect(statSync(file).size).toBeGreaterThan(sizeBefore + 200_000)
  })
})
