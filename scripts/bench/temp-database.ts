import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * A fresh database on the PostgreSQL server of `serverUrl` for one bench run (the relay migrates
 * it), and how to drop it again whatever way the bench ends.
 */
export async function createTempDatabase(
  serverUrl: string,
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  let dropped = false
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return
      dropped = true
      const client = new pg.Client({ connectionString: serverUrl })
      try {
        await client.connect()
        await client.query(`drop database if exists ${name} with (force)`)
      } catch (error) {
        console.error(`bench: could not drop the temp database ${name}: ${String(error)}`)
      } finally {
        await client.end().catch(() => {})
      }
    },
  }
}
