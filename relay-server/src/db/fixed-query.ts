import { CompiledQuery, type Kysely, PostgresAdapter } from 'kysely'
import type { Database } from './schema'

const postgresByExecutor = new WeakMap<object, boolean>()

/** What running a fixed query needs of a database or a transaction. */
type Runner = Pick<Kysely<Database>, 'executeQuery' | 'getExecutor'>

/** Whether `db` (or a transaction of it) talks to PostgreSQL. */
export function isPostgres(db: Runner): boolean {
  const adapter = db.getExecutor().adapter
  let postgres = postgresByExecutor.get(adapter)
  if (postgres === undefined) {
    postgres = adapter instanceof PostgresAdapter
    postgresByExecutor.set(adapter, postgres)
  }
  return postgres
}

/**
 * A statement on the hot path, written once as SQL with `?` placeholders (numbered `$n` for
 * PostgreSQL) and run with new parameters each time. Kysely's builder re-creates and recompiles
 * a query's syntax tree on every call, which costs more than running these small statements;
 * everything off the hot path keeps using the builder.
 */
export function fixedQuery<Row, Params extends readonly unknown[]>(text: string) {
  let dollar: string | undefined
  return async (db: Runner, ...params: Params): Promise<Row[]> => {
    let sqlText = text
    if (isPostgres(db)) {
      dollar ??= numberPlaceholders(text)
      sqlText = dollar
    }
    const result = await db.executeQuery<Row>(CompiledQuery.raw(sqlText, [...params]))
    return result.rows
  }
}

function numberPlaceholders(text: string): string {
  let n = 0
  return text.replace(/\?/g, () => `$${++n}`)
}
