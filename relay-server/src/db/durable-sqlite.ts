/**
 * SQLite durability without the event loop waiting on the disk.
 *
 * With `synchronous = FULL` SQLite fsyncs the write-ahead log inside COMMIT, on the thread that
 * commits: the relay's one JavaScript thread, which then stalls for the length of every fsync
 * (a few milliseconds on a good SSD, tens on a busy or networked disk) with sockets, timers and
 * pings waiting. Here the connection runs with `synchronous = NORMAL` (COMMIT writes the log's
 * frames to the OS, no fsync) and the fsync is done on libuv's thread pool, on a descriptor of the
 * same -wal file (fsync makes the file's data durable whichever descriptor asks). A transaction's
 * commit, and any write outside a transaction, resolves only once an fsync that began after it has
 * finished, so everything awaiting a write (the committer's acks and live events, every route that
 * answers after writing) still means "on disk", as under FULL; meanwhile the event loop runs, and
 * the connection is free for the next transaction (the committer runs its next batch then).
 * Commits that come while an fsync is under way share the next one (group commit across batches).
 *
 * What other readers see: a commit is visible to reads on this connection from the moment it is
 * made, a few milliseconds before its fsync ends. Live events and answers wait for the fsync; a
 * read made in those milliseconds (another device's GET /sync, say) can see a message that a power
 * cut in that instant would lose. Its sender was not answered yet and sends it again, so it is
 * stored again, possibly under a new id (the reader may then keep a copy the relay no longer has);
 * PostgreSQL (synchronous_commit on) shows a commit only once it is durable.
 *
 * Checkpoints (copying the log into the database file, two more fsyncs) would also run on the
 * committing thread: automatic checkpoints are off on this connection and a worker thread with its
 * own connection checkpoints instead (PASSIVE: it never blocks the writer), once a second (a
 * checkpoint with nothing to copy costs next to nothing). On close the worker stops first; the
 * relay's connection then checkpoints and removes the log as SQLite does when its last
 * connection closes.
 */
import { close as closeFd, fstatSync, fsync, open } from 'node:fs'
import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import type {
  CompiledQuery,
  DatabaseConnection,
  Driver,
  QueryResult,
  SqliteDatabase,
  TransactionSettings,
} from 'kysely'
import { SqliteDialect } from 'kysely'

const fsyncAsync = promisify(fsync)
const openAsync = promisify(open)
const closeAsync = promisify(closeFd)

export const CHECKPOINT_INTERVAL_MS = 1000

/** Makes the -wal file durable on the thread pool; concurrent callers share fsyncs. */
export class WalSync {
  readonly #path: string
  #fd: number | null = null
  #running: Promise<void> | null = null
  #next: Promise<void> | null = null
  #syncs = 0
  #started = 0

  constructor(walPath: string) {
    this.#path = walPath
  }

  /** fsyncs done so far (the bench and tests read it). */
  get syncs(): number {
    return this.#syncs
  }

  /** fsyncs begun so far; they run one at a time, so the n-th begun is the n-th done. */
  get started(): number {
    return this.#started
  }

  /** Resolves once an fsync that started after this call has completed. */
  sync(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#fsync().finally(() => {
        this.#running = null
      })
      return this.#running
    }
    // One is under way but may have started before the caller's write: the next one covers it.
    this.#next ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#next = null
        return this.sync()
      })
    return this.#next
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#running, this.#next])
    if (this.#fd !== null) await closeAsync(this.#fd).catch(() => undefined)
    this.#fd = null
  }

  async #fsync(): Promise<void> {
    // SQLite deletes the log when its last connection closes (the admin command's short-lived
    // one never is the last while the relay runs); a new log is a new file, so follow it. The
    // held file's link count says whether it was deleted: fstat of an open file reads the inode
    // in memory, so it is asked here, not on the thread pool (two hops there cost more than the
    // fsync's own hop, on every commit).
    if (this.#fd !== null && fstatSync(this.#fd).nlink === 0) {
      await closeAsync(this.#fd).catch(() => undefined)
      this.#fd = null
    }
    this.#fd ??= await openAsync(this.#path, 'r')
    this.#started += 1
    await fsyncAsync(this.#fd)
    this.#syncs += 1
  }
}

const READ_ONLY = /^\s*(select|pragma|explain)\b/i

/**
 * One use of the one connection (each acquisition gets its own, so a use that has let the
 * connection go cannot let go of the next one's). A write outside a transaction leaves the fsync
 * it needs in `pending`, which the driver waits for after letting the connection go, so the next
 * query runs meanwhile and only the caller waits for the disk.
 */
class DurableConnection implements DatabaseConnection {
  inTransaction = false
  pending: Promise<void> | null = null
  readonly inner: DatabaseConnection
  readonly #wal: WalSync
  #unlock: (() => void) | null

  constructor(inner: DatabaseConnection, wal: WalSync, unlock: () => void) {
    this.inner = inner
    this.#wal = wal
    this.#unlock = unlock
  }

  /** Lets the next use have the connection; only the first call of a use counts. */
  letGo(): void {
    const unlock = this.#unlock
    this.#unlock = null
    unlock?.()
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.inner.executeQuery<R>(query)
    if (!this.inTransaction && !READ_ONLY.test(query.sql)) this.pending = this.#wal.sync()
    return result
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize)
  }
}

/**
 * The commit waits for its fsync itself, after letting the connection go: kysely does not wait
 * for releaseConnection after the commit of a controlled transaction (`startTransaction`), so
 * that would be too late a place, and the next batch may use the connection meanwhile. A write
 * outside a transaction waits in releaseConnection, which kysely awaits for those.
 */
class DurableDriver implements Driver {
  readonly #inner: Driver
  readonly #wal: WalSync
  readonly #onClose: () => Promise<void>
  #connection: DatabaseConnection | null = null
  /** Whether a use holds the connection; the uses waiting for it, first come first served. */
  #held = false
  #waiting: ((() => void) | undefined)[] = []
  #next = 0

  constructor(inner: Driver, wal: WalSync, onClose: () => Promise<void>) {
    this.#inner = inner
    this.#wal = wal
    this.#onClose = onClose
  }

  async init(): Promise<void> {
    await this.#inner.init()
    // SQLite has one connection: take it from the inner driver once, and lock it here instead.
    this.#connection = await this.#inner.acquireConnection()
  }

  /**
   * The connection goes from one use to the next waiting one directly, in arrival order. (Waking
   * every waiter at each release for one of them to take it cost a quadratic number of wake-ups
   * when thousands of reads queued behind a transaction, as in a storm of reconnects.)
   */
  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#held) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    else this.#held = true
    const unlock = () => this.#handOver()
    if (!this.#connection) {
      unlock()
      throw new Error('the database is closed')
    }
    return new DurableConnection(this.#connection, this.#wal, unlock)
  }

  #handOver(): void {
    const next = this.#waiting[this.#next]
    if (!next) {
      this.#held = false
      this.#waiting = []
      this.#next = 0
      return
    }
    this.#waiting[this.#next] = undefined
    this.#next += 1
    // Drop the served part of the queue now and then, not on every hand-over (shift is linear).
    if (this.#next >= 1024 && this.#next * 2 >= this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#next)
      this.#next = 0
    }
    next()
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.#inner.beginTransaction(inner(connection), settings)
    ;(connection as DurableConnection).inTransaction = true
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const durable = connection as DurableConnection
    durable.inTransaction = false
    await this.#inner.commitTransaction(durable.inner)
    const synced = this.#wal.sync()
    durable.letGo()
    await synced
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    ;(connection as DurableConnection).inTransaction = false
    await this.#inner.rollbackTransaction(inner(connection))
  }

  savepoint: Driver['savepoint'] = (connection, name, compile) =>
    this.#inner.savepoint!(inner(connection), name, compile)
  rollbackToSavepoint: Driver['rollbackToSavepoint'] = (connection, name, compile) =>
    this.#inner.rollbackToSavepoint!(inner(connection), name, compile)
  releaseSavepoint: Driver['releaseSavepoint'] = (connection, name, compile) =>
    this.#inner.releaseSavepoint!(inner(connection), name, compile)

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const durable = connection as DurableConnection
    const pending = durable.pending
    durable.pending = null
    durable.letGo()
    if (pending) await pending
  }

  async destroy(): Promise<void> {
    await this.#onClose()
    await this.#wal.close()
    this.#connection = null
    await this.#inner.destroy()
  }
}

/** The inner driver runs its begin/commit/savepoint statements on its own connection. */
const inner = (connection: DatabaseConnection) => (connection as DurableConnection).inner

/**
 * The background checkpointer: a worker thread with its own connection to the file. Its code is
 * a string, so it runs the same from the TypeScript sources and from the bundled build.
 */
function startCheckpointer(file: string): { stop(): Promise<void> } {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file)
db.pragma('synchronous = NORMAL')
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
}, workerData.interval)
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close() })`,
    { eval: true, workerData: { driver, file, interval: CHECKPOINT_INTERVAL_MS } },
  )
  worker.unref()
  return {
    async stop() {
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      // Held while it closes: an unreferenced worker would let the process end mid-close.
      worker.ref()
      worker.postMessage('stop')
      await exited
    },
  }
}

/** A Kysely dialect over `database` (a better-sqlite3 connection to `file`) as described above. */
export function durableSqliteDialect(
  file: string,
  database: SqliteDatabase,
): { dialect: SqliteDialect; wal: WalSync } {
  const wal = new WalSync(`${file}-wal`)
  const checkpointer = startCheckpointer(file)
  const dialect = new SqliteDialect({ database })
  const createDriver = dialect.createDriver.bind(dialect)
  dialect.createDriver = () => new DurableDriver(createDriver(), wal, () => checkpointer.stop())
  return { dialect, wal }
}
