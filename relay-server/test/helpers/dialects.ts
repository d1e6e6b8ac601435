import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { type DatabaseHandle, openDatabase } from '../../src/db/connect'

export type TestDialect = 'sqlite' | 'postgres'

/** SQLite always; PostgreSQL too when DATABASE_URL is set (CI sets it). */
export const dialects: TestDialect[] = process.env.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite']

export const postgresUrl = process.env.DATABASE_URL

/**
 * A fresh PostgreSQL schema for one relay (or a group of relays sharing it). The returned URL
 * puts it first on the search_path, so the relay's migrations and queries stay inside it.
 */
export async function createPostgresSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!postgresUrl) throw new Error('DATABASE_URL is not set')
  const schema = `parley_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: postgresUrl })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.end()
  const url = new URL(postgresUrl)
  // No parallel workers: with hundreds of test schemas the catalogs grow until kysely's migration
  // introspection runs as a parallel query, and a parallel worker once failed to find the schema
  // the leader had on its search_path ("schema … does not exist", where: parallel worker).
  url.searchParams.set('options', `-c search_path=${schema} -c max_parallel_workers_per_gather=0`)
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresUrl })
      await client.connect()
      await client.query(`drop schema if exists ${schema} cascade`)
      await client.end()
    },
  }
}

/**
 * A database of the given dialect in a fresh place (a temporary folder, or a new PostgreSQL
 * schema), not yet migrated. `close` destroys the connection and removes the place.
 */
export async function openTestDatabase(
  dialect: TestDialect,
): Promise<{ handle: DatabaseHandle; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-db-'))
  const schema = dialect === 'postgres' ? await createPostgresSchema() : undefined
  const handle = openDatabase({ dataDir, databaseUrl: schema?.url })
  return {
    handle,
    close: async () => {
      await handle.db.destroy()
      await schema?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
