import { randomBytes } from 'node:crypto'
import { type Kysely, Migrator, NO_MIGRATIONS, sql } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { type DatabaseHandle, migrateToLatest } from '../src/db/connect'
import { migrations } from '../src/db/migrations/index'
import { dialects, openTestDatabase, postgresUrl } from './helpers/dialects'

describe.each(dialects)('migrations (%s)', (dialect) => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  async function open(): Promise<DatabaseHandle> {
    const opened = await openTestDatabase(dialect)
    cleanups.push(opened.close)
    return opened.handle
  }

  /** The tables of this database (on PostgreSQL, of this test's schema only) with their columns. */
  const tables = async (handle: DatabaseHandle) => {
    const schema = handle.dialect === 'postgres' ? await currentSchema(handle) : undefined
    return (await handle.db.introspection.getTables())
      .filter((t) => schema === undefined || t.schema === schema)
      .map(
        (t) =>
          `${t.name}(${t.columns
            .map((c) => c.name)
            .sort()
            .join(',')})`,
      )
      .sort()
  }

  it('apply in order, undo completely, and apply again to the same schema', async () => {
    const handle = await open()
    await migrateToLatest(handle.db, handle.dialect)
    const latest = await tables(handle)
    expect(latest.some((t) => t.startsWith('messages(') && t.includes('image_id'))).toBe(true)

    const migrator = new Migrator({
      db: handle.db,
      provider: { getMigrations: async () => migrations },
      ...(handle.dialect === 'postgres' && { migrationTableSchema: await currentSchema(handle) }),
    })
    const down = await migrator.migrateTo(NO_MIGRATIONS)
    expect(down.error).toBeUndefined()
    expect(down.results?.map((r) => r.migrationName)).toEqual(Object.keys(migrations).reverse())
    expect(await tables(handle)).toEqual([])

    await migrateToLatest(handle.db, handle.dialect)
    expect(await tables(handle)).toEqual(latest)
  })

  it('0003 dates accepted contacts from their last change, and withholds no message sent before it', async () => {
    const handle = await open()
    const migrator = new Migrator({
      db: handle.db,
      provider: { getMigrations: async () => migrations },
      ...(handle.dialect === 'postgres' && { migrationTableSchema: await currentSchema(handle) }),
    })
    expect((await migrator.migrateTo('0002-images')).error).toBeUndefined()
    const db = handle.db as unknown as Kysely<Record<string, Record<string, unknown>>>
    const ids: number[] = []
    for (const name of ['ada', 'grace', 'kath']) {
      const row = await db
        .insertInto('users')
        .values({
          username: name,
          username_key: name,
          password_hash: 'x',
          first_name: name,
          last_name: 'Test',
          email: `${name}@example.com`,
          created_at: 1,
          updated_at: 1,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      ids.push(Number(row.id))
    }
    const [ada, grace, kath] = ids as [number, number, number]
    const contact = (owner: number, peer: number, status: string, updated: number) => ({
      owner_id: owner,
      peer_id: peer,
      status,
      created_at: 100,
      updated_at: updated,
    })
    await db
      .insertInto('contacts')
      .values([
        contact(ada, grace, 'accepted', 200),
        contact(grace, ada, 'accepted', 300),
        contact(ada, kath, 'blocked', 400),
        contact(kath, ada, 'outgoing', 100),
      ])
      .execute()
    await db
      .insertInto('messages')
      .values({
        sender_id: ada,
        recipient_id: grace,
        user_low: Math.min(ada, grace),
        user_high: Math.max(ada, grace),
        client_id: '00000000-0000-4000-8000-000000000000',
        text: 'from before',
        created_at: 500,
      })
      .execute()

    await migrateToLatest(handle.db, handle.dialect)
    const contacts = await handle.db
      .selectFrom('contacts')
      .select(['owner_id', 'peer_id', 'accepted_at'])
      .orderBy('owner_id')
      .orderBy('peer_id')
      .execute()
    expect(contacts.map((c) => [c.owner_id, c.peer_id, c.accepted_at])).toEqual(
      [
        [ada, grace, 200],
        [ada, kath, null],
        [grace, ada, 300],
        [kath, ada, null],
      ].sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!),
    )
    expect(await handle.db.selectFrom('messages').select(['text', 'withheld']).execute()).toEqual([
      { text: 'from before', withheld: 0 },
    ])
  })

  it('0006 keeps every message, with its reactions, versions and feed events, and new ids go on after them', async () => {
    const handle = await open()
    const migrator = new Migrator({
      db: handle.db,
      provider: { getMigrations: async () => migrations },
      ...(handle.dialect === 'postgres' && { migrationTableSchema: await currentSchema(handle) }),
    })
    expect((await migrator.migrateTo('0005-registration-and-admin')).error).toBeUndefined()
    const db = handle.db as unknown as Kysely<Record<string, Record<string, unknown>>>
    const ids: number[] = []
    for (const name of ['ada', 'grace']) {
      const row = await db
        .insertInto('users')
        .values({
          username: name,
          username_key: name,
          password_hash: 'x',
          first_name: name,
          last_name: 'Test',
          email: `${name}@example.com`,
          created_at: 1,
          updated_at: 1,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      ids.push(Number(row.id))
    }
    const [ada, grace] = ids as [number, number]
    const message = (n: number) => ({
      sender_id: ada,
      recipient_id: grace,
      user_low: Math.min(ada, grace),
      user_high: Math.max(ada, grace),
      client_id: `00000000-0000-4000-8000-00000000000${n}`,
      text: `message ${n}`,
      created_at: 500 + n,
      withheld: n === 2 ? 1 : 0,
    })
    const first = Number(
      (await db.insertInto('messages').values(message(1)).returning('id').executeTakeFirstOrThrow()).id,
    )
    const second = Number(
      (await db.insertInto('messages').values(message(2)).returning('id').executeTakeFirstOrThrow()).id,
    )
    await db
      .insertInto('reactions')
      .values({ message_id: first, user_id: grace, emoji: '👍', created_at: 600 })
      .execute()
    await db
      .insertInto('message_versions')
      .values({ message_id: first, text: 'message 0', written_at: 500, replaced_at: 550 })
      .execute()
    await db
      .insertInto('feed_events')
      .values({ user_id: grace, seq: 1, type: 'message', message_id: first, payload: null, created_at: 501 })
      .execute()
    const before = await db.selectFrom('messages').selectAll().orderBy('id').execute()

    await migrateToLatest(handle.db, handle.dialect)
    const after = await handle.db.selectFrom('messages').selectAll().orderBy('id').execute()
    // 0008's columns come empty: no file, voice, reply or forward on older messages.
    const later = {
      file_id: null,
      voice_duration_ms: null,
      voice_waveform: null,
      reply_to_id: null,
      forwarded: 0,
    }
    expect(after).toEqual(before.map((row) => ({ ...row, group_id: null, group_seq: null, ...later })))
    expect(await handle.db.selectFrom('reactions').select(['message_id', 'emoji']).execute()).toEqual([
      { message_id: first, emoji: '👍' },
    ])
    expect(await handle.db.selectFrom('message_versions').select('message_id').execute()).toEqual([
      { message_id: first },
    ])
    // The rebuilt table still enforces its keys and keeps counting ids from where it was.
    const next = await handle.db
      .insertInto('messages')
      .values({ ...message(3), group_id: null })
      .returning('id')
      .executeTakeFirstOrThrow()
    expect(Number(next.id)).toBeGreaterThan(second)
    await expect(
      handle.db
        .insertInto('messages')
        .values({ ...message(4), sender_id: 987654 })
        .execute(),
    ).rejects.toThrow()
    await expect(
      handle.db
        .insertInto('messages')
        .values({ ...message(1) })
        .execute(),
    ).rejects.toThrow()
  })

  it.runIf(dialect === 'postgres')(
    "look only at the relay's own schema, so another schema dropped meanwhile cannot fail them",
    async () => {
      // Another relay's (or test's) schema, created and dropped over and over while ours migrate:
      // introspecting every schema by name used to fail with "schema … does not exist".
      const admin = new pg.Client({ connectionString: postgresUrl })
      await admin.connect()
      let churning = true
      let churned = 0
      const churn = (async () => {
        while (churning) {
          const name = `parley_churn_${randomBytes(4).toString('hex')}`
          await admin.query(`create schema ${name}; create table ${name}.t (id serial primary key, v text)`)
          await admin.query(`drop schema ${name} cascade`)
          churned += 1
        }
      })()
      try {
        for (let i = 0; i < 4; i++) {
          const handle = await open()
          await migrateToLatest(handle.db, handle.dialect)
          const schema = await currentSchema(handle)
          const listed = await handle.db.introspection.getTables({ withInternalKyselyTables: true })
          expect(listed.length).toBeGreaterThan(10)
          expect(listed.every((t) => t.schema === schema)).toBe(true)
          expect(listed.map((t) => t.name)).toContain('kysely_migration')
          const messages = listed.find((t) => t.name === 'messages')
          expect(messages?.columns.find((c) => c.name === 'id')?.isAutoIncrementing).toBe(true)
          expect(messages?.columns.find((c) => c.name === 'sender_id')?.isNullable).toBe(false)
        }
      } finally {
        churning = false
        await churn
        await admin.end()
      }
      expect(churned).toBeGreaterThan(0)
    },
  )

  it('running them again on an up-to-date database changes nothing', async () => {
    const handle = await open()
    await migrateToLatest(handle.db, handle.dialect)
    const before = await tables(handle)
    await migrateToLatest(handle.db, handle.dialect)
    expect(await tables(handle)).toEqual(before)
  })
})

async function currentSchema(handle: DatabaseHandle): Promise<string> {
  const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db)
  return result.rows[0]!.schema
}
