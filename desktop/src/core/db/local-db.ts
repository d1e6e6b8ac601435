import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs'
import path from 'node:path'
import SQLite from 'better-sqlite3-multiple-ciphers'
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
  /**
   * The store's 256-bit key (see store-key.ts): the file is encrypted as SQLCipher 4 does it, and a
   * plain file (written before the store was encrypted) is encrypted in place first. Without one
   * the file is plain (tests, benches of the plain path).
   */
  key?: Buffer
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
    const { key } = options
    // Look before touching: a newer build's database is refused before anything here writes to
    // it (not even the journal mode, which lives in the file header).
    if (existsSync(file)) {
      // A rollback journal beside the file is an encryption cut short (the store itself runs in
      // WAL mode): a plain connection plays it back, which restores the plain file.
      if (key && existsSync(`${file}-journal`)) rollBackInterruptedEncryption(file)
      const unknown = appliedMigrations(file, key).filter((name) => !Object.hasOwn(migrations, name))
      if (unknown.length > 0) throw new StoreTooNewError(file, unknown)
      if (key && isPlainStore(file)) encryptInPlace(file, key)
    } else {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
      // Private from the start; SQLite gives its -wal and -shm files the same mode.
      closeSync(openSync(file, 'wx', 0o600))
    }
    const sqlite = connect(file, key)
    try {
      sqlite.pragma('journal_mode = WAL')
      // A cache: a power cut may lose the last commits, never corrupt the file; the relay has
      // everything but the outbox, and an app crash (not an OS crash) loses nothing with WAL.
      sqlite.pragma('synchronous = NORMAL')
      sqlite.pragma('busy_timeout = 5000')
      // An encrypted store cannot be memory-mapped (each page is decrypted on its way in), so its
      // page cache is larger: the hot part of the search index (a 1M-message store's FTS5 pages
      // read by common words) stays decrypted, which keeps search's p95 as with the plain file.
      sqlite.pragma(key ? 'cache_size = -65536' : 'cache_size = -32768')
      // Reads of pages not in SQLite's cache become memory reads instead of a system call each:
      // the difference between a cold and a warm search or first page on a large store (a plain
      // store only: SQLite ignores it for an encrypted one).
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
function appliedMigrations(file: string, key: Buffer | undefined): string[] {
  // A plain file is read as it is, whether or not a key is given: it is encrypted afterwards.
  const sqlite = connect(file, isPlainStore(file) ? undefined : key, { readonly: true, fileMustExist: true })
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

/** The store's key does not open the file (the key was lost or replaced, or the file is damaged). */
export class StoreKeyError extends Error {
  readonly code = 'store_unreadable'
  constructor(readonly file: string) {
    super(`${file} cannot be opened with this device's store key (the key changed, or the file is damaged)`)
    this.name = 'StoreKeyError'
  }
}

/** The first 16 bytes of every plain SQLite file; an encrypted file's first page is random. */
const PLAIN_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * Whether `file` is a plain SQLite database. An empty file is plain only when a write-ahead log
 * beside it holds its content (a crash before the first checkpoint); otherwise it is new.
 */
export function isPlainStore(file: string): boolean {
  const header = Buffer.alloc(PLAIN_HEADER.length)
  const fd = openSync(file, 'r')
  try {
    const read = readSync(fd, header, 0, header.length, 0)
    if (read === 0) return existsSync(`${file}-wal`)
    return read === header.length && header.equals(PLAIN_HEADER)
  } finally {
    closeSync(fd)
  }
}

/**
 * A connection to `file`, keyed when `key` is given: SQLCipher 4's format (AES-256-CBC pages with
 * an HMAC-SHA512 each), with the key used as it is (a random 256-bit key needs no derivation, and
 * skipping it keeps the open fast). A key that does not open the file is a StoreKeyError.
 */
function connect(file: string, key: Buffer | undefined, options?: SQLite.Options): SQLite.Database {
  const sqlite = new SQLite(file, options)
  if (!key) return sqlite
  try {
    applyKey(sqlite, 'key', key)
    // The first read checks the key: a wrong one fails here, not in the middle of a migration.
    sqlite.prepare('select count(*) from sqlite_master').get()
    return sqlite
  } catch (error) {
    sqlite.close()
    if (error instanceof SQLite.SqliteError && error.code === 'SQLITE_NOTADB') throw new StoreKeyError(file)
    throw error
  }
}

function applyKey(sqlite: SQLite.Database, pragma: 'key' | 'rekey', key: Buffer): void {
  if (key.length !== 32) throw new Error('the store key must be 32 bytes')
  sqlite.pragma("cipher = 'sqlcipher'")
  sqlite.pragma('legacy = 4')
  // Hex digits only, so nothing can escape the quotes.
  sqlite.pragma(`${pragma} = "x'${key.toString('hex')}'"`)
}

function rollBackInterruptedEncryption(file: string): void {
  const sqlite = new SQLite(file)
  try {
    sqlite.prepare('select count(*) from sqlite_master').get()
  } catch {
    // Not a plain file after all: the keyed open below judges it.
  } finally {
    sqlite.close()
  }
}

/**
 * Encrypts a plain store where it lies (a store written before encryption, on the first start of
 * this version). The write-ahead log is folded in first (rekey needs a rollback journal), then every
 * page is rewritten encrypted in one transaction: a crash leaves the plain file or the encrypted
 * one, never half of each.
 */
function encryptInPlace(file: string, key: Buffer): void {
  const sqlite = new SQLite(file)
  try {
    sqlite.pragma('journal_mode = DELETE')
    applyKey(sqlite, 'rekey', key)
  } finally {
    sqlite.close()
  }
}
