import type BetterSqlite3 from 'better-sqlite3'
import type { SqliteDatabase, SqliteStatement } from 'kysely'

/**
 * Kysely's SQLite driver prepares every statement afresh; better-sqlite3 statements are reusable,
 * and preparing costs several times more than running a small query. This keeps the most
 * recently used statements by SQL text (bounded, since `in (?, ?, …)` lists vary in length).
 */
export function withStatementCache(database: BetterSqlite3.Database, capacity = 500): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>()
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql)
      if (cached) {
        // Move to the back: Map keeps insertion order, so the front is the least recently used.
        cache.delete(sql)
        cache.set(sql, cached)
        return cached
      }
      const statement = database.prepare(sql) as unknown as SqliteStatement
      cache.set(sql, statement)
      if (cache.size > capacity) cache.delete(cache.keys().next().value!)
      return statement
    },
  }
}
