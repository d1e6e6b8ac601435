import { Migrator, NO_MIGRATIONS, sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { type DatabaseHandle, migrateToLatest } from '../src/db/connect'
import { migrations } from '../src/db/migrations/index'
import { dialects, openTestDatabase } from './helpers/dialects'

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
