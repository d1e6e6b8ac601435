import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import path from 'node:path'
import SQLite from 'better-sqlite3'
import { type Compilable, Kysely, type Migration, Migrator, SqliteDialect } from 'kysely'
import { migrations as allMigrations } from './migrations/index'
import type { LocalDatabase } from './schema'

/** The database was migrated by a newer build; opening it here could corrupt it. */
export class StoreTooNewError extends Error {
  readonly code = 'store_too_new'
  constructor(
    readonly file: string,
    readonly unknownMigrations: string[],
  ) {
    super(
      `${file} was written by a newer version of Parley (it has migration${unknownMigrations.length > 1 ? 's' : ''} ` +
        `${unknownMigrations.join(', ')} that this version does not know); update Parley to open it`,
    )
    this.name = 'StoreTooNewError'
  }
}

export interface OpenOptions {
  /** The migrations to apply; tests pass a prefix to build a database as an older version left it. */
  migrations?: Record<string, Migration>
}

type Param = string | number | bigint | Buffer | null

/**
 * One account's SQLite file. Everything runs synchronously on one better-sqlite3 connection:
 * kysely only builds (and types) the queries, which run through a statement cache, so a write of
 * several statements is one synchronous transaction that nothing else can interleave with.
 */
export class LocalDb {
  readonly sqlite: SQLite.Database
  readonly kysely: Kysely<LocalDatabase>
  readonly file: string
  readonly #statements = new Map<string, SQLite.Statement>()

  private constructor(file: string, sqlite: SQLite.Database) {
    this.file = file
    this.sqlite = sqlite
    this.kysely = new Kysely<LocalDatabase>({ dialect: new SqliteDialect({ database: sqlite }) })
  }

  static async open(file: string, options: OpenOptions = {}): Promise<LocalDb> {
    const migrations = options.migrations ?? allMigrations
    // Look before touching: a newer build's database is refused before anything here writes to
    // it (not even the journal mode, which lives in the file header).
    if (existsSync(file)) {
      const unknown = appliedMigrations(file).filter((name) => !Object.hasOwn(migrations, name))
      if (unknown.length > 0) throw new StoreTooNewError(file, unknown)
    } else {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
      // Private from the start; SQLite gives its -wal and -shm files the same mode.
      closeSync(openSync(file, 'wx', 0o600))
    }
    const sqlite = new SQLite(file)
    try {
      sqlite.pragma('journal_mode = WAL')
      // A cache: a power cut may lose the last commits, never corrupt the file; the relay has
      // everything but the outbox, and an app crash (not an OS crash) loses nothing with WAL.
      sqlite.pragma('synchronous = NORMAL')
      sqlite.pragma('busy_timeout = 5000')
      sqlite.pragma('cache_size = -32768')
      // Reads of pages not in SQLite's cache become memory reads instead of a system call each:
      // the difference between a cold and a warm search or first page on a large store.
      sqlite.pragma('mmap_size = 268435456')
      sqlite.pragma('temp_store = MEMORY')
      const db = new LocalDb(file, sqlite)
      await db.#migrate(migrations)
      return db
    } catch (error) {
      sqlite.close()
      throw error
    }
  }

  async #migrate(migrations: Record<string, Migration>): Promise<void> {
    const migrator = new Migrator({ db: this.kysely, provider: { getMigrations: async () => migrations } })
    const { error, results } = await migrator.migrateToLatest()
    const failed = results?.find((r) => r.status === 'Error')
    if (error || failed) {
      const reason = error instanceof Error ? error.message : String(error ?? 'unknown error')
      throw new Error(`local database migration ${failed?.migrationName ?? ''} failed: ${reason}`, {
        cause: error,
      })
    }
  }

  prepare(text: string): SQLite.Statement {
    let statement = this.#statements.get(text)
    if (!statement) {
      statement = this.sqlite.prepare(text)
      this.#statements.set(text, statement)
    }
    return statement
  }

  all<R>(query: Compilable<R>): R[] {
    const compiled = query.compile()
    return this.prepare(compiled.sql).all(...(compiled.parameters as Param[])) as R[]
  }

  get<R>(query: Compilable<R>): R | undefined {
    const compiled = query.compile()
    return this.prepare(compiled.sql).get(...(compiled.parameters as Param[])) as R | undefined
  }

  run(query: Compilable<unknown>): SQLite.RunResult {
    const compiled = query.compile()
    return this.prepare(compiled.sql).run(...(compiled.parameters as Param[]))
  }

  /** Runs `fn` in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.sqlite.transaction(fn).immediate()
  }

  async close(): Promise<void> {
    this.#statements.clear()
    await this.kysely.destroy()
  }
}

/** The migration names recorded in `file`, read through a read-only connection. */
function appliedMigrations(file: string): string[] {
  const sqlite = new SQLite(file, { readonly: true, fileMustExist: true })
  try {
    const table = sqlite
      .prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'")
      .get()
    if (!table) return []
    return (sqlite.prepare('select name from kysely_migration').all() as { name: string }[]).map(
      (r) => r.name,
    )
  } finally {
    sqlite.close()
  }
}
