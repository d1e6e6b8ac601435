/**
 * A new device on a big account (`npm run bench:snapshot`, issue 15). Seeds a relay's SQLite file
 * by direct bulk SQL with one account whose feed holds BENCH_SNAPSHOT_MESSAGES messages (default
 * 1,000,000) across BENCH_SNAPSHOT_CONVERSATIONS conversations (default 200), starts the relay in
 * its own process, then drives a fresh desktop core (real SQLite store, plain Node) and measures:
 *   1. sign-in to usable: auth.login until the core is online (snapshot applied, feed caught up)
 *      and the chat list and the newest page of the top conversation are read. Target < 2 s.
 *   2. the relay's event-loop delay while it served the snapshot (and during the backfill);
 *   3. the backfill: messages per second until all history is local, and how long until search
 *      finds the oldest message.
 * Knobs (environment): BENCH_SNAPSHOT_MESSAGES, BENCH_SNAPSHOT_CONVERSATIONS, BENCH_SNAPSHOT_BACKFILL
 * (0: stop after sign-in to usable).
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { BridgeEventPayload, BridgeMethod, BridgeParams } from '@parley/shared'
import SQLite from 'better-sqlite3'
import { silentLogger } from '../desktop/src/core/logger'
import { CoreService } from '../desktop/src/core/service'
import { readInteger } from '../relay-server/src/config'
import { migrateToLatest, openDatabase } from '../relay-server/src/db/connect'
import { hashPassword } from '../relay-server/src/services/passwords'
import { forkRelay } from './bench/relay-child'
import { int, ms, seconds } from './bench/report'
import { guardRun } from './bench/run-guard'

const envInt = (name: string, fallback: number, min: number, max: number) =>
  readInteger(process.env, name, fallback, min, max)
const TOTAL = envInt('BENCH_SNAPSHOT_MESSAGES', 1_000_000, 1000, 10_000_000)
const CONVERSATIONS = envInt('BENCH_SNAPSHOT_CONVERSATIONS', 200, 1, 10_000)
/** 0 stops after sign-in to usable (the backfill of a million messages takes minutes). */
const BACKFILL = envInt('BENCH_SNAPSHOT_BACKFILL', 1, 0, 1) === 1
const PASSWORD = 'bench password for the snapshot'
const IPC_MS = 60_000
const TARGET_USABLE_MS = 2000
/** The one word only the oldest message has: search finds it once the backfill got there. */
const OLDEST_WORD = 'zebrafinch'

const { tempDir, children } = guardRun({ tempPrefix: 'parley-bench-snapshot-', watchdogMs: 30 * 60_000 })
const dataDir = path.join(tempDir, 'relay')

async function seed(): Promise<{ username: string }> {
  const started = performance.now()
  const handle = openDatabase({ dataDir })
  await migrateToLatest(handle.db, handle.dialect)
  await handle.db.destroy()
  const hash = await hashPassword(PASSWORD)
  const db = new SQLite(handle.location)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  const now = Date.now()
  const insertUser = db.prepare(
    `insert into users (username, username_key, password_hash, first_name, last_name, email, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const me = Number(
    insertUser.run('Ann', 'ann', hash, 'Ann', 'Bench', 'ann@example.com', now, now).lastInsertRowid,
  )
  const peers: number[] = []
  const insertContact = db.prepare(
    `insert into contacts (owner_id, peer_id, status, created_at, updated_at, accepted_at) values (?, ?, 'accepted', ?, ?, ?)`,
  )
  db.transaction(() => {
    for (let i = 0; i < CONVERSATIONS; i++) {
      const id = Number(
        insertUser.run(`Peer${i}`, `peer${i}`, hash, 'Peer', `${i}`, `peer${i}@example.com`, now, now)
          .lastInsertRowid,
      )
      peers.push(id)
      insertContact.run(me, id, now, now, now)
      insertContact.run(id, me, now, now, now)
    }
  })()
  const insertMessage = db.prepare(
    `insert into messages (sender_id, recipient_id, user_low, user_high, client_id, text, created_at)
     values (?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertEvent = db.prepare(
    `insert into feed_events (user_id, seq, type, message_id, payload, created_at) values (?, ?, 'message', ?, null, ?)`,
  )
  const start = now - TOTAL * 1000
  const CHUNK = 50_000
  for (let first = 0; first < TOTAL; first += CHUNK) {
    db.transaction(() => {
      for (let i = first; i < Math.min(TOTAL, first + CHUNK); i++) {
        const peer = peers[i % peers.length]!
        const mine = i % 3 === 0
        const text =
          i === 0 ? `the very first message, ${OLDEST_WORD}` : `message ${i} in a long conversation`
        const at = start + i * 1000
        const id = Number(
          insertMessage.run(
            mine ? me : peer,
            mine ? peer : me,
            Math.min(me, peer),
            Math.max(me, peer),
            randomUUID(),
            text,
            at,
          ).lastInsertRowid,
        )
        insertEvent.run(me, i + 1, id, at)
      }
    })()
  }
  db.prepare('update users set feed_seq = ? where id = ?').run(TOTAL, me)
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  console.log(
    `seeded ${int(TOTAL)} messages (and as many feed events) across ${CONVERSATIONS} conversations in ${seconds(performance.now() - started)}`,
  )
  return { username: 'Ann' }
}

const { username } = await seed()
const relay = forkRelay(dataDir)
children.push(relay)
const { port } = await relay.waitFor<{ port: number }>('ready', 60_000)
const relayUrl = `http://127.0.0.1:${port}`

const core = await CoreService.start({ dataDir: path.join(tempDir, 'core'), logger: silentLogger })
const call = async <M extends BridgeMethod>(method: M, params: BridgeParams<M>) => {
  const result = await core.call(method, params)
  if (!result.ok) throw new Error(`${method}: ${result.error.code}: ${result.error.message}`)
  return result.value
}
let lastState: BridgeEventPayload<'connection.changed'> | undefined
core.onAny((event, payload) => {
  if (event === 'connection.changed') lastState = payload as BridgeEventPayload<'connection.changed'>
})
const until = async (
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  everyMs = 2,
) => {
  const deadline = performance.now() + timeoutMs
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

// The relay's side alone first: one snapshot read over HTTP, timed, on a session of its own.
{
  const login = await fetch(`${relayUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  })
  const { token } = (await login.json()) as { token: string }
  await relay.call('stats', { reset: true }, IPC_MS)
  const asked = performance.now()
  const answer = await fetch(`${relayUrl}/sync/snapshot`, { headers: { authorization: `Bearer ${token}` } })
  const body = await answer.text()
  const took = performance.now() - asked
  const loop = await relay.call('stats', { reset: true }, IPC_MS)
  console.log(
    `\nGET /sync/snapshot alone: ${ms(took)}, ${int(body.length / 1024)} KiB; relay event loop p99 ${ms(loop.loop.p99Ms)}, max ${ms(loop.loop.maxMs)}`,
  )
}

await relay.call('stats', { reset: true }, IPC_MS)
const t0 = performance.now()
await call('auth.login', { relayUrl, username, password: PASSWORD })
const signedIn = performance.now()
await until(() => lastState?.state === 'online', 'online', 60_000)
const online = performance.now()
const list = await call('conversations.list', {})
const top = list[0]
if (!top) throw new Error('no conversations after the snapshot')
const page = await call('messages.page', { conversation: top.key, limit: 50 })
const usable = performance.now()
const snapshotLoop = await relay.call('stats', { reset: true }, IPC_MS)

console.log('\nsign-in to usable (fresh desktop core, real SQLite store)')
console.log(`  auth.login             ${ms(signedIn - t0)}`)
console.log(`  snapshot + catch-up    ${ms(online - signedIn)} (online)`)
console.log(
  `  chat list + top page   ${ms(usable - online)} (${list.length} conversations, ${page.messages.length} messages)`,
)
console.log(
  `  total                  ${ms(usable - t0)}  target < ${ms(TARGET_USABLE_MS)}: ${usable - t0 < TARGET_USABLE_MS ? 'met' : 'MISSED'}`,
)
console.log(
  `  relay event loop while serving it: p50 ${ms(snapshotLoop.loop.p50Ms)}, p99 ${ms(snapshotLoop.loop.p99Ms)}, max ${ms(snapshotLoop.loop.maxMs)}`,
)

if (!BACKFILL) {
  await core.close()
  await relay.stop(10_000)
  process.exit(0)
}

// The backfill: until no conversation is left to fill; meanwhile, when search first finds the oldest message.
const backfillStart = performance.now()
let foundOldestAt: number | undefined
let lastReport = backfillStart
await until(
  async () => {
    if (foundOldestAt === undefined) {
      const hits = await call('search.query', { q: OLDEST_WORD, limit: 1 })
      if (hits.length > 0) foundOldestAt = performance.now()
    }
    const state = await call('connection.get', {})
    if (state.backfill && performance.now() - lastReport > 10_000) {
      lastReport = performance.now()
      console.log(
        `  … ${Math.round((100 * state.backfill.done) / state.backfill.total)}% of conversations after ${seconds(lastReport - backfillStart)}`,
      )
    }
    return state.backfill === undefined && foundOldestAt !== undefined
  },
  'the backfill',
  25 * 60_000,
  250,
)
const backfilled = performance.now()
const backfillLoop = await relay.call('stats', {}, IPC_MS)
const inSnapshot = Math.min(TOTAL, CONVERSATIONS * 50)
const filled = TOTAL - inSnapshot
console.log('\nbackfill (GET /messages pages of 200, written and indexed for search as they land)')
console.log(
  `  ${int(filled)} older messages in ${seconds(backfilled - backfillStart)}: ${int(filled / ((backfilled - backfillStart) / 1000))} messages/s`,
)
console.log(
  `  search finds the oldest message after ${seconds((foundOldestAt ?? backfilled) - backfillStart)}`,
)
console.log(
  `  relay event loop during the backfill: p50 ${ms(backfillLoop.loop.p50Ms)}, p99 ${ms(backfillLoop.loop.p99Ms)}, max ${ms(backfillLoop.loop.maxMs)}`,
)

await core.close()
await relay.stop(10_000)
process.exit(0)
