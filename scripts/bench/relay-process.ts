/**
 * The relay under test, in its own process so its RSS and CPU are its own. Configured from the
 * environment like the real server (the bench sets DATA_DIR, LOG_LEVEL and the rate limits),
 * listening on 127.0.0.1 and an ephemeral port. The bench talks to it over IPC: seeding users,
 * sessions and contacts straight into its database, and reading its resource use.
 */
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { sql } from 'kysely'
import { buildApp } from '../../relay-server/src/app'
import { loadConfig } from '../../relay-server/src/config'
// The plugins' augmentations of FastifyInstance (app.db, app.io, app.services).
import type {} from '../../relay-server/src/plugins/database'
import type {} from '../../relay-server/src/plugins/realtime'
import type {} from '../../relay-server/src/plugins/services'
import { hashToken } from '../../relay-server/src/services/auth'
import { hashPassword } from '../../relay-server/src/services/passwords'
import { notify, repoRoot, serve } from './ipc'
import { startProfile, stopProfile } from './profile'

const SEED_CHUNK = 500
const FAR_FUTURE = Date.UTC(2100, 0, 1)

const config = loadConfig(process.env)
const app = await buildApp(config)
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (!address || typeof address === 'string') throw new Error('relay did not bind a TCP port')

// Presence publishing runs on every connect and disconnect (and writes last_seen_at on the last
// disconnect); count it so the bench can tell when a connect or disconnect storm has settled.
const presence = app.services.presence
const publish = presence.publish.bind(presence)
let publishInflight = 0
let publishDone = 0
let publishFailed = 0
presence.publish = async (userId: number) => {
  publishInflight++
  try {
    return await publish(userId)
  } catch (error) {
    publishFailed++
    throw error
  } finally {
    publishInflight--
    publishDone++
  }
}

// Writes queued in the committer (one per send), and its transactions (one per group-commit batch):
// ops per transaction is the batch size, and the time a transaction takes includes its fsync.
const committer = app.services.committer
const run = committer.run.bind(committer)
let committerInflight = 0
let committerOps = 0
committer.run = ((...args: Parameters<typeof committer.run>) => {
  committerInflight++
  committerOps++
  return run(...args).finally(() => committerInflight--)
}) as typeof committer.run
const transaction = app.db.transaction.bind(app.db)
let transactions = 0
let transactionMs = 0
let transactionMaxMs = 0
app.db.transaction = (() => {
  const builder = transaction()
  const execute = builder.execute.bind(builder)
  builder.execute = (async (fn) => {
    const started = performance.now()
    try {
      return await execute(fn)
    } finally {
      recordTransaction(performance.now() - started)
    }
  }) as typeof builder.execute
  return builder
}) as typeof app.db.transaction
// The committer starts its batches as controlled transactions (the next one runs while this one
// becomes durable): timed from start to the end of the commit, its fsync included on SQLite.
const startTransaction = app.db.startTransaction.bind(app.db)
app.db.startTransaction = (() => {
  const builder = startTransaction()
  const execute = builder.execute.bind(builder)
  builder.execute = (async () => {
    const started = performance.now()
    const trx = await execute()
    const commit = trx.commit.bind(trx)
    trx.commit = (() => {
      const command = commit()
      const run = command.execute.bind(command)
      command.execute = async () => {
        try {
          return await run()
        } finally {
          recordTransaction(performance.now() - started)
        }
      }
      return command
    }) as typeof trx.commit
    return trx
  }) as typeof builder.execute
  return builder
}) as typeof app.db.startTransaction

function recordTransaction(ms: number) {
  transactions++
  transactionMs += ms
  transactionMaxMs = Math.max(transactionMaxMs, ms)
}

/**
 * Node records each interval between the sampling timer's runs, the resolution included: an idle
 * loop reads as `resolution` ms of delay. The figures below take it off, so they are the time the
 * loop was late. (Until this was noticed, the bench sampled every 10 ms and printed that 10 ms as
 * part of every delay.)
 */
const LOOP_RESOLUTION_MS = 1
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
const lateBy = (nanoseconds: number) => Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS)
loopDelay.enable()
const gc = (globalThis as { gc?: () => void }).gc
/** The longest garbage-collection pause since the last reset, and their total: a stall may be one. */
let gcMaxMs = 0
let gcTotalMs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMaxMs = Math.max(gcMaxMs, entry.duration)
    gcTotalMs += entry.duration
  }
}).observe({ entryTypes: ['gc'] })

let passwordHash: string | undefined
let seeded = 0

const handlers = {
  /** Creates `count` users with one session each; returns their ids and bearer tokens. */
  async seedUsers({ count }: { count: number }) {
    passwordHash ??= await hashPassword('bench password, never used to sign in')
    const now = Date.now()
    const users: { id: number; token: string }[] = []
    await app.db.transaction().execute(async (trx) => {
      for (let start = 0; start < count; start += SEED_CHUNK) {
        const n = Math.min(SEED_CHUNK, count - start)
        const rows = Array.from({ length: n }, () => {
          const k = ++seeded
          return {
            username: `Bench${k}`,
            username_key: `bench${k}`,
            password_hash: passwordHash!,
            first_name: 'Bench',
            last_name: `User ${k}`,
            email: `bench${k}@example.com`,
            last_seen_at: null,
            created_at: now,
            updated_at: now,
          }
        })
        const ids = await trx.insertInto('users').values(rows).returning('id').execute()
        const tokens = ids.map(() => randomBytes(32).toString('base64url'))
        await trx
          .insertInto('sessions')
          .values(
            ids.map((row, i) => ({
              user_id: row.id,
              token_hash: hashToken(tokens[i]!),
              created_at: now,
              // Used just now, so authenticating never has to extend (write) the session.
              last_used_at: now,
              expires_at: FAR_FUTURE,
            })),
          )
          .execute()
        for (const [i, row] of ids.entries()) users.push({ id: Number(row.id), token: tokens[i]! })
      }
    })
    return users
  },

  /** Makes each pair mutual accepted contacts (two rows per pair, as the contact routes would). */
  async befriend({ pairs }: { pairs: [number, number][] }) {
    const now = Date.now()
    const rows = pairs.flatMap(([a, b]) => [
      { owner_id: a, peer_id: b, status: 'accepted' as const, created_at: now, updated_at: now },
      { owner_id: b, peer_id: a, status: 'accepted' as const, created_at: now, updated_at: now },
    ])
    await app.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += SEED_CHUNK) {
        await trx
          .insertInto('contacts')
          .values(rows.slice(i, i + SEED_CHUNK))
          .execute()
      }
    })
    return rows.length
  },

  /** Resource use now; `gc` collects first (the relay runs with --expose-gc) for steadier memory figures. */
  /** With `reset`, the event-loop delay histogram and the longest transaction start over. */
  async stats({ gc: collect, reset }: { gc?: boolean; reset?: boolean }) {
    if (collect && gc) {
      gc()
      await new Promise((resolve) => setImmediate(resolve))
      gc()
    }
    const memory = process.memoryUsage()
    const cpu = process.cpuUsage()
    const loop = {
      p50Ms: lateBy(loopDelay.percentile(50)),
      p99Ms: lateBy(loopDelay.percentile(99)),
      maxMs: lateBy(loopDelay.max),
      gcMaxMs,
      gcTotalMs,
    }
    const longestTransactionMs = transactionMaxMs
    if (reset) {
      loopDelay.reset()
      transactionMaxMs = 0
      gcMaxMs = 0
    }
    return {
      at: performance.timeOrigin + performance.now(),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      external: memory.external + memory.arrayBuffers,
      cpuMicros: cpu.user + cpu.system,
      sockets: app.io.of('/').sockets.size,
      engineClients: app.io.engine.clientsCount,
      publishInflight,
      publishDone,
      publishFailed,
      committerInflight,
      committerOps,
      transactions,
      transactionMs,
      longestTransactionMs,
      loop,
    }
  },

  /**
   * Rows in every table of the relay's database, and (SQLite) the connection's total_changes():
   * rows inserted, updated and deleted since it opened. Read before and after a step to see what
   * the step wrote.
   */
  async rowCounts() {
    const tables =
      app.dbDialect === 'sqlite'
        ? (
            await sql<{
              name: string
            }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(
              app.db,
            )
          ).rows.map((r) => r.name)
        : (
            await sql<{
              name: string
            }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(
              app.db,
            )
          ).rows.map((r) => r.name)
    const rows: Record<string, number> = {}
    for (const table of tables) {
      const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(
        app.db,
      )
      rows[table] = Number(result.rows[0]?.n ?? 0)
    }
    const changes =
      app.dbDialect === 'sqlite'
        ? Number((await sql<{ n: number }>`select total_changes() as n`.execute(app.db)).rows[0]?.n ?? 0)
        : null
    const bytes =
      app.dbDialect === 'sqlite'
        ? Number(
            (
              await sql<{
                n: number
              }>`select page_count * page_size as n from pragma_page_count(), pragma_page_size()`.execute(
                app.db,
              )
            ).rows[0]?.n ?? 0,
          )
        : Number(
            (await sql<{ n: string }>`select pg_database_size(current_database()) as n`.execute(app.db))
              .rows[0]?.n ?? 0,
          )
    return { rows, changes, bytes }
  },

  async profileStart() {
    await startProfile()
    return true
  },

  async profileStop() {
    return stopProfile(repoRoot)
  },

  async close() {
    const started = performance.now()
    await app.close()
    setTimeout(() => process.exit(0), 50)
    return { ms: performance.now() - started }
  },
}

export type RelayApi = typeof handlers

serve(handlers, () => {
  // The bench is gone: do not linger holding the port and the temp directory.
  setTimeout(() => process.exit(1), 2000).unref()
  void app.close().finally(() => process.exit(1))
})
notify('ready', { port: address.port, pid: process.pid, node: process.version })
