import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../db/connect'
import type { Database } from '../db/schema'

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>
    /** For long reads that must not hold up writes: see DatabaseHandle.reader. */
    dbReader(): Kysely<Database>
    dbDialect: DatabaseHandle['dialect']
  }
}

/** Opens SQLite (default) or PostgreSQL, brings the schema up to date, closes it last on shutdown. */
export const database = fp(
  async (app: FastifyInstance, options: { databaseUrl: string | undefined; dataDir: string }) => {
    const handle = openDatabase(options)
    try {
      await migrateToLatest(handle.db, handle.dialect)
    } catch (error) {
      await handle.db.destroy()
      throw error
    }
    app.log.info({ database: handle.location }, `database ready (${handle.dialect})`)
    app.decorate('db', handle.db)
    app.decorate('dbReader', () => handle.reader())
    app.decorate('dbDialect', handle.dialect)
    app.addHook('onClose', async () => {
      await handle.close?.()
      await handle.db.destroy()
    })
  },
  { name: 'database' },
)
