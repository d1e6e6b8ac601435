import { chmodSync, closeSync, existsSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, type MigrationProvider, Migrator, SqliteDialect, sql } from 'kysely'
import { PRIVATE_FILE_MODE, secureDataDir } from '../data-dir'
import { durableSqliteDialect, type WalSync } from './durable-sqlite'
import { migrations } from './migrations/index'
import { RelayPostgresDialect } from './postgres-introspection'
import type { Database } from './schema'
import { withStatementCache } from './statement-cache'

/** pg loads only when PostgreSQL is asked for (about 15 MB of an idle SQLite relay otherwise). */
const loadPg = () => createRequire(import.meta.url)('pg') as typeof import('pg')

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  db: Kysely<Database>
  /**
   * For long reads that must not hold up writes (a new device's snapshot). PostgreSQL: the same
   * pool. SQLite: a second, read-only connection, opened on first use: in WAL mode its read
   * transaction sees one consistent state while the relay's connection goes on committing, where
   * on the one connection every write would wait for the whole read.
   */
  reader(): Kysely<Database>
  /** Closes what `reader` opened (the main `db` is destroyed by its owner). */
  close?(): Promise<void>
  dialect: Dialect
  /** Where the data lives, for the log: a file path or the PostgreSQL host/database. */
  location: string
  /** SQLite only: the log's fsyncs (durable-sqlite.ts). */
  wal?: WalSync
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; without it, SQLite in `dataDir`. */
  databaseUrl?: string | undefined
  dataDir: string
}

const INT8_OID = 20

/**
 * SQLite runs in WAL mode and every commit is fsynced before the relay acks, so an acked message
 * survives a crash and a power cut; the fsync runs on the thread pool, not the event loop
 * (durable-sqlite.ts). Group commit (see committer.ts) pays it once per batch instead of once per
 * message, and the next batch runs while it is under way.
 */
export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.databaseUrl) {
    const pg = loadPg()
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 10,
      // Ids and times are bigint columns; their values stay well inside Number's safe range.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID
            ? (value: string) => Number(value)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    })
    const url = new URL(options.databaseUrl)
    const db = new Kysely<Database>({ dialect: new RelayPostgresDialect({ pool }) })
    return {
      db,
      reader: () => db,
      dialect: 'postgres',
      location: `postgres://${url.host}${url.pathname}`,
    }
  }
  secureDataDir(options.dataDir)
  const file = path.join(options.dataDir, 'relay.sqlite')
  // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database
  // file's mode. An older relay's files (0644) are made private too.
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE))
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) chmodSync(file + suffix, PRIVATE_FILE_MODE)
  }
  const sqlite = new SQLite(file)
  sqlite.pragma('journal_mode = WAL')
  // Durable as FULL, with the fsync and the checkpoints off the event loop: see durable-sqlite.ts.
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('wal_autocheckpoint = 0')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const { dialect, wal } = durableSqliteDialect(file, withStatementCache(sqlite))
  let reader: Kysely<Database> | null = null
  return {
    db: new Kysely<Database>({ dialect }),
    wal,
    reader: () => {
      if (!reader) {
        const connection = new SQLite(file, { readonly: true })
        connection.pragma('busy_timeout = 5000')
        reader = new Kysely<Database>({
          dialect: new SqliteDialect({ database: withStatementCache(connection, 100) }),
        })
      }
      return reader
    },
    close: async () => {
      await reader?.destroy()
    },
    dialect: 'sqlite',
    location: file,
  }
}

const provider: MigrationProvider = { getMigrations: async () => migrations }

export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  // Kysely would look for its bookkeeping tables in every schema; pin them to the one this
  // connection writes to, so relays sharing a server under different search_paths stay apart.
  const schema =
    dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined
  const migrator = new Migrator({ db, provider, ...(schema && { migrationTableSchema: schema }) })
  const { error, results } = await migrator.migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error')
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`, { cause: error })
  }
}
