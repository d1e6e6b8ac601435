import { randomBytes } from 'node:crypto'
import pg from 'pg'

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
  url.searchParams.set('options', `-c search_path=${schema}`)
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
